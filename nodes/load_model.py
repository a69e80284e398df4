"""LoadModel: a model from the store (by name, version or alias) or from a plain path."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from emberflow.engine.api import MODEL, Node, Param, ParamProblem, UserError, check_name

if TYPE_CHECKING:
    from emberflow.engine.api import Model, StepContext


class LoadModel(Node):
    """Load a saved model: ``name`` (the latest version), ``name@3`` or ``name@alias``, or a ``path``.

    Every file's SHA-256 is checked against the manifest, and the recorded Python and library versions against
    the running ones, before anything is deserialized. A pickle or joblib file from a plain path runs code when
    loaded, so it needs ``trust: true``.

    ``features`` names the columns of a model fitted on NumPy arrays (a pickle from a script), in the order it was
    fitted on: such a model has no column names, and is refused without them.
    """

    kind = "ml-modelload"
    outputs = {"model": MODEL}
    params = (
        Param("name", "string", None, "the model in the store: name, name@version or name@alias"),
        Param("path", "string", None, "a plain model file or folder instead of the store", input_file=True),
        Param("format", "string", "auto", "with path: the format, if its name does not tell"),
        Param("trust", "boolean", False, "with path: allow formats whose loading can run code (pickle, joblib)"),
        Param("strict_versions", "boolean", None, "true: refuse a model saved with another minor version of a "
              "library, or a plain file that does not tell which version wrote it; false: only warn, even across "
              "Spark major versions; unset: warn, but refuse a Spark ML model of another Spark major version"),
        Param("mmap", "boolean", False, "memory-map a joblib model's arrays instead of reading them"),
        Param("features", "array", None, "the columns of a model fitted without column names (on NumPy arrays), "
              "in the order it was fitted on", items="string"),
    )

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        if (params["name"] is None) == (params["path"] is None):
            raise ParamProblem("LoadModel needs exactly one of name (from the model store) or path (a plain file)",
                               "name" if params["name"] else None)
        if params["name"] is not None:
            name, _, which = params["name"].partition("@")
            try:
                check_name(name)
                if which:
                    check_name(which, "version or alias")
            except UserError as exc:
                raise ParamProblem(str(exc), "name") from None
        check_features(params["features"])

    def run(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> Model:
        from emberflow.engine.api import load_from_path, load_from_store

        options = {"mmap": params["mmap"]}
        if params["path"]:
            return load_from_path(Path(params["path"]), ctx.sessions, trust=params["trust"],
                                  format_name=params["format"], strict_versions=params["strict_versions"],
                                  options=options, features=params["features"], warn=ctx.warn)
        model, ref, _manifest = load_from_store(ctx.store, params["name"], ctx.sessions,
                                                strict_versions=params["strict_versions"], options=options,
                                                features=params["features"], warn=ctx.warn)
        return model


def check_features(features: list[str] | None) -> None:
    """``features``: at least one column, each named once (the model takes its columns by position)."""
    if features is None:
        return
    if not features:
        raise ParamProblem("LoadModel's features is empty; list the model's columns in the order it was fitted on, "
                           "or leave features out", "features")
    seen: set[str] = set()
    for index, name in enumerate(features):
        if name in seen:
            raise ParamProblem(f"LoadModel's features names column '{name}' twice; each column of the model once, in "
                               "the order it was fitted on", "features", within=(index,))
        seen.add(name)
