"""``emberflow models export NAME --format mlflow -o DIR``: a stored version as an MLflow model directory, written
without MLflow (its ``MLmodel`` file is YAML, laid out as MLflow 3 writes it).

The directory holds the ``python_function`` flavor, whose loader is ``mlflow_pyfunc.py`` copied into ``code/`` (it
predicts as Score does; its module doc says why MLflow's own loaders do not), and the model's own flavor for
MLflow's loaders: ``sklearn`` (``model.pkl``, plain pickle), ``spark`` (the PipelineModel in ``sparkml/``) or
``h2o`` (laid out as ``mlflow.h2o.save_model`` writes it: the binary in the ``model.h2o/`` folder, named by
``h2o.yaml``; the MOJO beside it, which the ``python_function`` loader scores with h2o-genmodel, no cluster). The
signature comes from the manifest's input schema; ``requirements.txt``, ``python_env.yaml`` and ``conda.yaml`` pin
the Python and library versions the manifest records. ``params`` models, and H2O versions without both the binary
and the MOJO, are refused.
"""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import IntegrityError, UserError
from .mlflow_import import warn_on_stderr
from .store import ModelStore, VersionRef

LOADER_MODULE = "emberflow_mlflow"
# The MLmodel layout written is MLflow 3's; ``mlflow_version`` names the installed MLflow, else this one.
MLFLOW_LAYOUT = "3.0.0"
H2O_DATA = "model.h2o"  # the h2o flavor's data folder, as mlflow.h2o names it


def export_mlflow(store: ModelStore, reference: str, target: Path) -> VersionRef:
    """Write ``reference`` as an MLflow model directory at ``target`` (which must not exist or be empty)."""
    ref = store.resolve(reference)
    manifest = store.manifest(ref)
    engine = manifest.get("loads_with") or manifest.get("engine")
    if engine not in ("sklearn", "spark", "h2o"):
        raise UserError(f"{ref} is a {manifest.get('format')} model; --format mlflow exports scikit-learn, Spark "
                        "and H2O models only (serve params models with emberflow serve)")
    if engine == "h2o":
        _check_h2o_files(ref, manifest)
    problems = store.problems(ref, manifest)
    if problems:
        raise IntegrityError(f"model {ref} does not match its manifest, nothing exported: {'; '.join(problems)}")
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UserError(f"{target} exists and is not empty; choose another directory with -o or remove it")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".tmp-mlflow-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        if engine == "sklearn":
            flavor = _write_sklearn(store, ref, staging)
        elif engine == "spark":
            flavor = _write_spark(ref, manifest, staging)
        else:
            flavor = _write_h2o(ref, manifest, staging, target)
        _write_loader(manifest, staging, flavor)
        _write_environment(manifest, staging, engine)
        _write_mlmodel(ref, manifest, staging, flavor)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ref


def _write_sklearn(store: ModelStore, ref: VersionRef, folder: Path) -> dict[str, Any]:
    """The verified model, loaded through the store's checks and written again as a plain pickle (MLflow's
    scikit-learn loader reads pickle, cloudpickle and skops, not joblib)."""
    import pickle

    from .context import Sessions
    from .formats import installed_version
    from .models import load_from_store

    model, _ref, manifest = load_from_store(store, f"{ref.name}@{ref.version}", Sessions(), warn=warn_on_stderr)
    with open(folder / "model.pkl", "wb") as handle:
        pickle.dump(model.obj, handle, protocol=5)
    libraries = manifest.get("libraries") or {}
    return {"sklearn": {"code": None, "pickled_model": "model.pkl", "serialization_format": "pickle",
                        "sklearn_version": libraries.get("scikit-learn") or installed_version("scikit-learn")},
            "artifact": "model.pkl"}


def _write_spark(ref: VersionRef, manifest: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The Spark ML directory, copied and checked file by file against the manifest's SHA-256."""
    from .integrity import file_digests

    artifact = manifest.get("artifact", "model")
    shutil.copytree(ref.path / artifact, folder / "sparkml")
    listed = {rel[len(artifact) + 1:]: meta for rel, meta in (manifest.get("files") or {}).items()
              if rel.startswith(f"{artifact}/")}
    copied = file_digests(folder / "sparkml")
    if {k: v.get("sha256") for k, v in copied.items()} != {k: v.get("sha256") for k, v in listed.items()}:
        raise IntegrityError(f"model {ref} changed while it was copied; nothing exported, export it again")
    version = (manifest.get("libraries") or {}).get("pyspark") or (manifest.get("spark") or {}).get("version")
    return {"spark": {"code": None, "model_class": "pyspark.ml.pipeline.PipelineModel", "model_data": "sparkml",
                      "pyspark_version": version}, "artifact": "sparkml"}


def _check_h2o_files(ref: VersionRef, manifest: dict[str, Any]) -> None:
    """An H2O version exports with both files: the binary for MLflow's ``h2o`` flavor, the MOJO for the
    ``python_function`` loader."""
    section = manifest.get("h2o") or {}
    if not section.get("binary") or not section.get("mojo"):
        has = "only a MOJO" if section.get("mojo") else "no MOJO"
        raise UserError(f"{ref} is a {manifest.get('format')} model with {has}; --format mlflow exports H2O models "
                        "saved with both the binary and the MOJO: save it again with format: h2o (H2O-3 3.46.0.11 "
                        "or another version that exports MOJOs)")


def _write_h2o(ref: VersionRef, manifest: dict[str, Any], folder: Path, target: Path) -> dict[str, Any]:
    """``model.h2o/`` as ``mlflow.h2o.save_model`` writes it: the binary (named by the model id, as H2O names it),
    ``h2o.yaml`` naming it (with the final directory's paths, as MLflow records the paths it saved to), and the
    MOJO beside it; both copies checked against the manifest's SHA-256."""
    import yaml

    from .integrity import sha256_file

    section = manifest["h2o"]
    model_id = str(section.get("model_id") or "model")
    model_file = model_id if _plain_name(model_id) else "model"
    data = folder / H2O_DATA
    data.mkdir()
    copies = {section["binary"]: data / model_file, section["mojo"]: data / f"{model_file}.zip"}
    listed = manifest.get("files") or {}
    for stored, copy in copies.items():
        shutil.copyfile(ref.path / stored, copy)
        if sha256_file(copy) != (listed.get(stored) or {}).get("sha256"):
            raise IntegrityError(f"model {ref} changed while it was copied; nothing exported, export it again")
    final = target.resolve() / H2O_DATA
    settings = {"full_file": str(final / model_file), "model_dir": str(final), "model_file": model_file}
    (data / "h2o.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    version = (manifest.get("libraries") or {}).get("h2o") or (manifest.get("h2o") or {}).get("version")
    return {"h2o": {"code": None, "data": H2O_DATA, "h2o_version": version},
            "artifact": f"{H2O_DATA}/{model_file}.zip"}


def _plain_name(name: str) -> bool:
    import re

    return bool(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}", name))


def _write_loader(manifest: dict[str, Any], folder: Path, flavor: dict[str, Any]) -> None:
    """``code/emberflow_mlflow.py`` and what it reads: the task, classes, threshold and input schema."""
    (folder / "code").mkdir()
    shutil.copyfile(Path(__file__).with_name("mlflow_pyfunc.py"), folder / "code" / f"{LOADER_MODULE}.py")
    settings = {
        "engine": next(name for name in ("spark", "h2o", "sklearn") if name in flavor),
        "artifact": flavor["artifact"],
        "task": manifest.get("task") or "classification",
        "classes": manifest.get("classes") or [],
        "threshold": float((manifest.get("params") or {}).get("threshold", 0.5)),
        "features": _feature_names(manifest),
        "input_schema": _input_schema(manifest),
    }
    if "h2o" in flavor:
        settings.update(_mojo_settings(manifest))
    (folder / "emberflow.json").write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")


def _mojo_settings(manifest: dict[str, Any]) -> dict[str, Any]:
    """What the loader needs to prepare rows as Score's ``mode: mojo`` does (``h2o_rows``) and to run
    h2o-genmodel as Score does (``formats.h2o``)."""
    from .formats.h2o import DEFAULT_MOJO_HEAP, PREDICT_CSV
    from .h2o_rows import MISSING_LEVEL

    return {"missing_level": MISSING_LEVEL, "heap": DEFAULT_MOJO_HEAP, "predict_csv": PREDICT_CSV,
            "unknown_category": (manifest.get("params") or {}).get("unknown_category", "ignore")}


def _write_environment(manifest: dict[str, Any], folder: Path, engine: str) -> None:
    """requirements.txt, python_env.yaml and conda.yaml, pinned to the versions the manifest records."""
    import yaml

    from .formats import installed_version

    libraries = manifest.get("libraries") or {}
    names = {"sklearn": ("scikit-learn", "numpy", "scipy"), "spark": ("pyspark", "numpy"), "h2o": ("h2o",)}[engine]
    pins = [f"{name}=={libraries[name]}" for name in names if libraries.get(name)]
    mlflow = _mlflow_version()
    pandas = installed_version("pandas")
    requirements = [f"mlflow=={mlflow}" if mlflow != MLFLOW_LAYOUT else "mlflow>=3,<4", *pins,
                    f"pandas=={pandas}" if pandas != "not installed" else "pandas"]
    python = _python(manifest)
    (folder / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
    python_env = {"python": python, "build_dependencies": ["pip", "setuptools", "wheel"],
                  "dependencies": ["-r requirements.txt"]}
    (folder / "python_env.yaml").write_text(yaml.safe_dump(python_env, sort_keys=False), encoding="utf-8")
    conda = {"channels": ["conda-forge"], "dependencies": [f"python={python}", "pip", {"pip": requirements}],
             "name": "mlflow-env"}
    (folder / "conda.yaml").write_text(yaml.safe_dump(conda, sort_keys=False), encoding="utf-8")


def _write_mlmodel(ref: VersionRef, manifest: dict[str, Any], folder: Path, flavor: dict[str, Any]) -> None:
    import yaml

    own = {key: value for key, value in flavor.items() if key != "artifact"}
    pyfunc = {"loader_module": LOADER_MODULE, "code": "code", "python_version": _python(manifest),
              "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}}
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    mlmodel = {
        "flavors": {"python_function": pyfunc, **own},
        "mlflow_version": _mlflow_version(),
        "model_size_bytes": size,
        "model_uuid": uuid.uuid4().hex,
        "signature": _signature(manifest),
        "utc_time_created": datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" "),
        "metadata": {"emberflow": {"name": ref.name, "version": ref.version, "format": manifest.get("format")}},
    }
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel, sort_keys=False), encoding="utf-8")


def _signature(manifest: dict[str, Any]) -> dict[str, Any]:
    """MLflow's signature: the inputs as column specs (a JSON string, see ``_column_type``); the output as one
    unnamed column of the classes' type (or double for a regression)."""
    columns = _input_schema(manifest) or [f for f in manifest.get("features") or [] if isinstance(f, dict)]
    inputs = [{"type": _column_type(c.get("dtype"), c.get("kind")), "name": c["name"], "required": True}
              for c in columns]
    output = "double" if manifest.get("task") == "regression" else _class_type(manifest.get("classes") or [])
    return {"inputs": json.dumps(inputs), "outputs": json.dumps([{"type": output, "required": True}]),
            "params": None}


def _column_type(dtype: Any, kind: Any) -> str:
    """A column's MLflow type, from the type it had in training. MLflow converts int32 to double but refuses
    int64 (it may lose precision) and refuses floats in a long column, where Score takes both: a numeric column
    that held floats is a double (MLflow's server reads JSON numbers and nulls into doubles), one that held whole
    numbers is ``any``, so that rows of int64 and rows with gaps (floats) pass, as in Score; the loader makes
    them float64. A category keeps its type (text, booleans, whole numbers), which the loader turns into text."""
    dtype = str(dtype).lower()
    whole = dtype.startswith(("int", "uint", "bigint", "long", "short", "smallint", "tinyint"))
    if kind == "numeric" or dtype.startswith(("float", "double", "decimal")):
        return "any" if whole else "double"
    if whole:
        return "long"
    if dtype in ("bool", "boolean"):
        return "boolean"
    return "string" if kind == "categorical" or dtype in ("str", "string", "object") else "double"


def _class_type(classes: list[Any]) -> str:
    """The classes' type (``class_type``'s rule, as serve and Score on Spark give it) in MLflow's words."""
    from .model import class_type

    return {"bool": "boolean", "int": "long", "float": "double"}.get(class_type(classes), "string")


def _input_schema(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    schema = manifest.get("input_schema")
    return schema if isinstance(schema, list) else []


def _python(manifest: dict[str, Any]) -> str:
    """The Python version the environment files and the MLmodel name: the one that saved the model, else 3.11."""
    return manifest.get("python") or "3.11"


def _feature_names(manifest: dict[str, Any]) -> list[str]:
    return [f["name"] if isinstance(f, dict) else str(f) for f in manifest.get("features") or []]


def _mlflow_version() -> str:
    from .formats import installed_version

    for name in ("mlflow", "mlflow-skinny"):
        version = installed_version(name)
        if version != "not installed":
            return version
    return MLFLOW_LAYOUT
