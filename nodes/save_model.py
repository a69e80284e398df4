"""SaveModel: a trained model into the model store (or a plain path), in the format its type calls for."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from emberflow.engine.api import MODEL, Node, Param, ParamProblem, UserError, check_name

if TYPE_CHECKING:
    from emberflow.engine.api import Model, StepContext


class SaveModel(Node):
    """Save a model as a new, immutable version in the model store, with a manifest.

    ``format: auto`` picks the format from the model: a scikit-learn model becomes a joblib file, a Spark ML model
    a Spark ML directory, an H2O model an H2O binary and a MOJO. ``params`` writes a linear model's coefficients as
    JSON that scores with NumPy alone. ``path`` saves to a plain file or folder instead of the store.
    """

    kind = "ml-modelsave"
    inputs = {"model": MODEL}
    params = (
        Param("name", "string", None, "the model's name in the store"),
        Param("path", "string", None, "a plain file or folder to save to instead of the store"),
        Param("format", "string", "auto", "auto, or a format name (joblib, pickle, params ...)"),
        Param("alias", "string", None, "point this alias (prod, staging ...) at the new version"),
        Param("overwrite", "boolean", False, "with path: replace an existing file"),
    )

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        if (params["name"] is None) == (params["path"] is None):
            raise ParamProblem("SaveModel needs exactly one of name (into the model store) or path (a plain file)",
                               "name" if params["name"] else None)
        try:
            if params["name"] is not None:
                check_name(params["name"])
            if params["alias"] is not None:
                check_name(params["alias"], "alias")
        except UserError as exc:
            raise ParamProblem(str(exc), "name" if params["name"] else "alias") from None
        if params["alias"] and params["path"]:
            raise ParamProblem("alias applies to models saved by name into the store, not to a path", "alias")

    def run(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> None:
        from emberflow.engine.api import save_to_path, save_to_store

        model: Model = inputs["model"]
        provenance = {
            "workflow": {"name": ctx.workflow.name, "path": ctx.workflow.path, "sha256": ctx.workflow.sha256},
            "step": ctx.step_id,
            "run_id": ctx.run_id,
        }
        if params["path"]:
            manifest = save_to_path(model, Path(params["path"]), params["format"], provenance, params["overwrite"])
            for message in manifest.get("warnings", []):
                ctx.warn(message)
            return
        ref, manifest = save_to_store(ctx.store, model, params["name"], params["format"], provenance)
        for message in manifest.get("warnings", []):  # what the format could not do (an H2O MOJO refused, say)
            ctx.warn(message)
        if params["alias"]:
            ctx.store.set_alias(ref.name, ref.version, params["alias"])
        ctx.record_model(ref, manifest)
