"""Saving models into the store (or a plain path) with a manifest, and loading them back safely: every file's
SHA-256 and the recorded library versions are checked *before* anything is deserialized."""

from __future__ import annotations

import json
import os
import platform
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .context import Sessions
from .errors import IntegrityError, UserError, VersionMismatch
from .formats import ModelFormat, Untold, all_formats, choose_format, get_format, recorded_libraries
from .integrity import file_digests, find_problems, read_verified_files
from .model import Model
from .paths import looked_for
from .signing import signature_problems, signed
from .store import ModelStore, VersionRef, write_json_atomic

SIDECAR_SUFFIX = ".manifest.json"


def describe_model(model: Model, fmt: ModelFormat, provenance: dict[str, Any]) -> dict[str, Any]:
    """The manifest of ``model`` saved as ``fmt``, without files and version (the store adds those)."""
    return {
        "format": fmt.name,
        "engine": model.engine,
        "loads_with": fmt.engine,
        "model_class": model.model_class,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "libraries": fmt.libraries(),
        "features": [{"name": f, "dtype": model.feature_types.get(f, "unknown")} for f in model.features],
        "label": model.label,
        "task": model.task,
        "algorithm": model.algorithm,
        "classes": [c.item() if hasattr(c, "item") else c for c in model.classes],
        "input_schema": model.input_schema,
        "params": model.params,
        "metrics": model.metrics,
        **provenance,
    }


def save_to_store(store: ModelStore, model: Model, name: str, format_name: str,
                  provenance: dict[str, Any]) -> tuple[VersionRef, dict[str, Any]]:
    fmt = choose_format(model, format_name)

    def write(folder: Path) -> dict[str, Any]:
        manifest = describe_model(model, fmt, provenance)
        manifest.update(fmt.save(model, folder) or {})
        return manifest

    ref = store.save(name, write)
    return ref, store.manifest(ref)


def save_to_path(model: Model, path: Path, format_name: str, provenance: dict[str, Any],
                 overwrite: bool = False) -> dict[str, Any]:
    """Save to a plain file (or folder, for multi-file formats) with a ``<path>.manifest.json`` beside it.

    Written beside the target first and renamed into place, so a failure leaves no partial file; an existing
    target is kept unless ``overwrite``.
    """
    fmt = choose_format(model, format_name)
    path = Path(path)
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if path.exists() and not overwrite:
        raise UserError(f"{path} exists; SaveModel keeps what is saved: choose another path or set overwrite: true")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        manifest = describe_model(model, fmt, provenance)
        manifest.update(fmt.save(model, tmp) or {})
        entries = list(tmp.iterdir())
        single = len(entries) == 1 and entries[0].is_file()
        manifest["layout"] = "file" if single else "folder"
        manifest["files"] = file_digests(tmp)
        if single:
            manifest["artifact"] = path.name
            manifest["files"] = {path.name: next(iter(manifest["files"].values()))}
        if path.exists():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        os.replace(entries[0] if single else tmp, path)
        write_json_atomic(sidecar, signed(manifest))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


# Libraries whose saved models do not cross a major version: a major difference refuses the model by default.
MAJOR_BOUND = {"pyspark": "Spark ML"}


def check_versions(manifest: dict[str, Any], fmt: ModelFormat, strict: bool | None, warn) -> None:
    """Compare the manifest's Python and library versions with the running ones before deserializing (see
    ``judge_versions``)."""
    saved: dict[str, str | Untold] = dict(recorded_libraries(manifest))
    saved["python"] = manifest.get("python", "unknown")
    judge_versions(saved, fmt, strict, warn)


def check_file_versions(path: Path, fmt: ModelFormat, strict: bool | None, warn) -> dict[str, str]:
    """The same gate for a plain file or folder with no manifest beside it: the versions that the file itself
    records (``fmt.written_by``: a pickle's scikit-learn, a Spark directory's sparkVersion, an H2O binary's or
    MOJO's H2O), read without deserializing it. Returns those it tells, as a manifest's ``libraries``."""
    written = fmt.written_by(path)
    judge_versions(written, fmt, strict, warn, where=path)
    return {library: version for library, version in written.items() if isinstance(version, str)}


def judge_versions(saved: dict[str, str | Untold], fmt: ModelFormat, strict: bool | None, warn,
                   where: Path | None = None) -> None:
    """The version gate: ``saved`` (library: version, or ``Untold`` when a plain file at ``where`` does not
    tell) against the running versions.

    ``strict`` is the loader's ``strict_versions``: None (the default) warns on a minor difference and refuses
    a major difference of a library in ``MAJOR_BOUND``; True refuses any minor difference, and a version that
    cannot be told; False only warns. A format's ``own_version_gate`` libraries are left to its loading unless
    ``strict``, its ``exact_versions`` always, but for a version that cannot be told, which only this gate sees.
    """
    running = {**fmt.libraries(), "python": platform.python_version()}
    for library, was in sorted(saved.items()):
        now = running.get(library)
        left_to_format = isinstance(was, str) and (library in getattr(fmt, "exact_versions", ()) or (
            not strict and library in getattr(fmt, "own_version_gate", ())))
        if now is None or left_to_format:
            continue
        if now == "not installed":
            needs = f"{library} {was}" if isinstance(was, str) else library
            raise VersionMismatch(f"the model needs {needs}, which is not installed here")
        if isinstance(was, Untold):
            _untold(library, was, where, now, strict, warn)
        elif minor(now) != minor(was):
            message = f"model saved with {library} {was}, running {library} {now}"
            if strict:
                raise VersionMismatch(f"{message}; strict_versions is on, so it is not loaded (install "
                                      f"{library}=={was} or set strict_versions: false)")
            if strict is None and library in MAJOR_BOUND and minor(now)[:1] != minor(was)[:1]:
                raise VersionMismatch(f"{message}: {MAJOR_BOUND[library]} models do not cross major versions, "
                                      f"so it is not loaded (install {library}=={was}, or set "
                                      "strict_versions: false to try anyway)")
            warn(message + "; it may not load or may behave differently")


def _untold(library: str, untold: Untold, where: Path | None, now: str, strict: bool | None, warn) -> None:
    message = f"cannot tell which {library} version wrote {where} ({untold.why})"
    if strict:
        raise VersionMismatch(f"{message}; strict_versions is on, so it is not loaded (leave strict_versions unset "
                              "to load it with this warning)")
    warn(f"{message}; running {library} {now}, it may not load or may behave differently")


def minor(version: str) -> tuple[str, ...]:
    """Major and minor of a version: models are expected to cross patch levels."""
    return tuple(str(version).split(".")[:2])


def load_from_store(store: ModelStore, reference: str, sessions: Sessions, *,
                    strict_versions: bool | None = None, options: dict[str, Any] | None = None,
                    features: list[str] | None = None, warn=print) -> tuple[Model, VersionRef, dict]:
    ref = store.resolve(reference)
    manifest = store.manifest(ref)
    fmt = get_format(manifest["format"])
    options = {"warn": warn, **(options or {})}
    in_memory = fmt.in_memory_files(manifest, options)
    refusal = f"model {ref} does not match its manifest, refusing to load it"
    problems = store.problems(ref, manifest, deferred=_names(in_memory))
    if problems:
        raise IntegrityError(f"{refusal}: {'; '.join(problems)}")
    check_versions(manifest, fmt, strict_versions, warn)
    obj = _load(fmt, ref.path, manifest, sessions, options, in_memory, refusal)
    model = _model_from_manifest(obj, manifest, fmt)
    name_features(model, features, f"model {ref}")
    model.origin = {"name": ref.name, "version": ref.version, "path": str(ref.path)}
    return model, ref, manifest


def load_from_path(path: Path, sessions: Sessions, *, trust: bool = False, format_name: str = "auto",
                   strict_versions: bool | None = None, options: dict[str, Any] | None = None,
                   features: list[str] | None = None, warn=print) -> Model:
    path = Path(path)
    if not path.exists():
        raise UserError(f"no model at {path} ({looked_for(path)}); check the path (or load from the store by name)")
    manifest = _sidecar(path)
    fmt = get_format(manifest["format"]) if manifest else _format_for_path(path, format_name)
    if fmt.runs_code_on_load and not trust:
        raise UserError(
            f"{path} is a {fmt.name} file, and loading one can run code; load it from the model store, or mark "
            "the LoadModel step trust: true if you trust where the file came from")
    options = {"warn": warn, **(options or {})}
    in_memory = fmt.in_memory_files(manifest, options) if manifest else {}
    folder = path if path.is_dir() else path.parent
    refusal = f"{path} does not match {path.name}{SIDECAR_SUFFIX}, refusing to load it"
    if manifest:
        # A plain file shares its folder with other files: only a folder must hold exactly what is listed.
        problems = signature_problems(manifest) + find_problems(folder, manifest, extras=path.is_dir(),
                                                                deferred=_names(in_memory))
        if problems:
            raise IntegrityError(f"{refusal}: {'; '.join(problems)}")
        check_versions(manifest, fmt, strict_versions, warn)
    # No manifest: the gate reads the versions the file records, and the loader sees them as a manifest's.
    meta = dict(manifest or {"libraries": check_file_versions(path, fmt, strict_versions, warn)})
    meta.setdefault("artifact", path.name)
    obj = _load(fmt, folder, meta, sessions, options, in_memory, refusal)
    model = _model_from_manifest(obj, meta, fmt)
    name_features(model, features, f"the model at {path}")
    model.origin = {"path": str(path)}
    return model


def _load(fmt: ModelFormat, folder: Path, manifest: dict[str, Any], sessions: Sessions, options: dict[str, Any],
          in_memory: dict[str, tuple[str, ...]], what: str) -> Any:
    """The model object, from the checked folder, or from the bytes of its ``in_memory`` files, read once and
    checked here (their SHA-256 was left out of the folder's check)."""
    if in_memory:
        files = manifest["files"]
        checked = {group: read_verified_files([(folder / name, files[name], f"{what}: {name}") for name in names])
                   for group, names in in_memory.items()}
        options = {**options, "checked": checked, "checked_bytes": checked.get("artifact")}
    with fmt.deserializing(manifest, options["warn"]):
        return fmt.load(folder, manifest, sessions, options)


def _names(in_memory: dict[str, tuple[str, ...]]) -> frozenset[str]:
    return frozenset(name for names in in_memory.values() for name in names)


def _sidecar(path: Path) -> dict[str, Any] | None:
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return None
    try:
        return json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IntegrityError(f"{sidecar} is not a readable manifest: {exc}") from None


def _format_for_path(path: Path, requested: str) -> ModelFormat:
    if requested != "auto":
        return get_format(requested)
    for fmt in all_formats():
        if fmt.recognizes(path):
            return fmt
    known = ", ".join(f"{f.name} ({' '.join(f.suffixes)})" if f.suffixes else f.name for f in all_formats())
    raise UserError(f"cannot tell the format of {path} from its name; set format: to one of: {known}")


def _model_from_manifest(obj: Any, manifest: dict[str, Any], fmt: ModelFormat) -> Model:
    features = manifest.get("features") or []
    names = [f["name"] if isinstance(f, dict) else f for f in features]
    if not names and hasattr(obj, "features"):
        names = list(obj.features)
    if not names and hasattr(obj, "feature_names_in_"):
        names = [str(n) for n in obj.feature_names_in_]
    classes = manifest.get("classes") or list(getattr(obj, "classes", None) or getattr(obj, "classes_", []))
    schema = manifest.get("input_schema") if isinstance(manifest.get("input_schema"), list) else []
    task, params = manifest.get("task"), manifest.get("params") or {}
    if fmt.engine == "portable" and not manifest.get("features"):  # a params file alone tells its own
        schema, task = schema or obj.input_schema, task or obj.task
        params = params or {"threshold": obj.threshold}
    return Model(
        obj=obj,
        engine=fmt.engine if fmt.engine != "portable" else "portable",
        features=names,
        label=manifest.get("label"),
        classes=list(classes),
        feature_types={f["name"]: f.get("dtype", "unknown") for f in features if isinstance(f, dict)},
        params=params,
        metrics=manifest.get("metrics") or {},
        task="regression" if task == "regression" else "classification",
        algorithm=manifest.get("algorithm") if isinstance(manifest.get("algorithm"), str) else None,
        input_schema=[c for c in schema if isinstance(c, dict) and "name" in c],
    )


def name_features(model: Model, given: list[str] | None, what: str) -> None:
    """The loader's ``features`` (LoadModel's): the names of the columns a model fitted on NumPy arrays takes, in
    the order it was fitted on. Such a model (a pickle from a script) knows how many columns it takes but not
    their names, so without them it is refused here, not by the first Score. A model that names its features
    keeps them, and a ``features`` that differs from them is refused, naming both."""
    count = getattr(model.obj, "n_features_in_", None)
    count = count if isinstance(count, int) else None
    if given is None:
        if not model.features and model.engine == "sklearn":
            how_many = f", {count} of them" if count is not None else ""
            raise UserError(f"{what} was fitted without column names; give LoadModel features: [...] (the columns "
                            f"in the order it was fitted on{how_many})")
        return
    given = [str(name) for name in given]
    if model.features and given != model.features:
        raise UserError(f"LoadModel's features [{', '.join(given)}] differ from those {what} was fitted on: "
                        f"[{', '.join(model.features)}]; leave features out, or list those in that order")
    if count is not None and len(given) != count:
        raise UserError(f"LoadModel's features name {len(given)} columns, and {what} was fitted on {count}; list "
                        f"its {count} columns, in the order it was fitted on")
    model.features = given
