"""``emberflow models export NAME --format mlflow -o DIR``: a stored version as an MLflow model directory, written
without MLflow (its ``MLmodel`` file is YAML, laid out as MLflow 3 writes it).

The directory holds the ``python_function`` flavor, whose loader is ``mlflow_pyfunc.py`` copied into ``code/`` (it
predicts as Score does; its module doc says why MLflow's own loaders do not), and the model's own flavor for
MLflow's loaders: ``sklearn`` (``model.pkl``, plain pickle) or ``spark`` (the PipelineModel in ``sparkml/``). The
signature comes from the manifest's input schema; ``requirements.txt``, ``python_env.yaml`` and ``conda.yaml`` pin
the Python and library versions the manifest records. H2O models are refused: MLflow's h2o flavor loads an H2O
binary into a running H2O cluster of the same version, which emberflow's own MOJO serving makes unnecessary.
"""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import IntegrityError, UserError
from .store import ModelStore, VersionRef

LOADER_MODULE = "emberflow_mlflow"
# The MLmodel layout written is MLflow 3's; ``mlflow_version`` names the installed MLflow, else this one.
MLFLOW_LAYOUT = "3.0.0"


def export_mlflow(store: ModelStore, reference: str, target: Path) -> VersionRef:
    """Write ``reference`` as an MLflow model directory at ``target`` (which must not exist or be empty)."""
    ref = store.resolve(reference)
    manifest = store.manifest(ref)
    engine = manifest.get("loads_with") or manifest.get("engine")
    if engine not in ("sklearn", "spark"):
        raise UserError(f"{ref} is a {manifest.get('format')} model; --format mlflow exports scikit-learn and Spark "
                        "models only (serve H2O and params models with emberflow serve)")
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
        flavor = _write_sklearn(store, ref, staging) if engine == "sklearn" else \
            _write_spark(ref, manifest, staging)
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

    model, _ref, manifest = load_from_store(store, f"{ref.name}@{ref.version}", Sessions(), warn=_warn)
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


def _write_loader(manifest: dict[str, Any], folder: Path, flavor: dict[str, Any]) -> None:
    """``code/emberflow_mlflow.py`` and what it reads: the task, classes, threshold and input schema."""
    (folder / "code").mkdir()
    shutil.copyfile(Path(__file__).with_name("mlflow_pyfunc.py"), folder / "code" / f"{LOADER_MODULE}.py")
    settings = {
        "engine": "spark" if "spark" in flavor else "sklearn",
        "artifact": flavor["artifact"],
        "task": manifest.get("task") or "classification",
        "classes": manifest.get("classes") or [],
        "threshold": float((manifest.get("params") or {}).get("threshold", 0.5)),
        "features": _feature_names(manifest),
        "input_schema": manifest.get("input_schema") if isinstance(manifest.get("input_schema"), list) else [],
    }
    (folder / "emberflow.json").write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")


def _write_environment(manifest: dict[str, Any], folder: Path, engine: str) -> None:
    """requirements.txt, python_env.yaml and conda.yaml, pinned to the versions the manifest records."""
    import yaml

    from .formats import installed_version

    libraries = manifest.get("libraries") or {}
    names = ("scikit-learn", "numpy", "scipy") if engine == "sklearn" else ("pyspark", "numpy")
    pins = [f"{name}=={libraries[name]}" for name in names if libraries.get(name)]
    mlflow = _mlflow_version()
    pandas = installed_version("pandas")
    requirements = [f"mlflow=={mlflow}" if mlflow != MLFLOW_LAYOUT else "mlflow>=3,<4", *pins,
                    f"pandas=={pandas}" if pandas != "not installed" else "pandas"]
    python = manifest.get("python") or "3.11"
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
    pyfunc = {"loader_module": LOADER_MODULE, "code": "code", "python_version": manifest.get("python") or "3.11",
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
    schema = manifest.get("input_schema") if isinstance(manifest.get("input_schema"), list) else []
    columns = schema or [f for f in manifest.get("features") or [] if isinstance(f, dict)]
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
    if classes and all(isinstance(c, bool) for c in classes):
        return "boolean"
    if classes and all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return "long"
    if classes and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in classes):
        return "double"
    return "string"


def _feature_names(manifest: dict[str, Any]) -> list[str]:
    return [f["name"] if isinstance(f, dict) else str(f) for f in manifest.get("features") or []]


def _mlflow_version() -> str:
    from .formats import installed_version

    for name in ("mlflow", "mlflow-skinny"):
        version = installed_version(name)
        if version != "not installed":
            return version
    return MLFLOW_LAYOUT


def _warn(message: str) -> None:
    """The version gate's warnings (a model saved by another scikit-learn), on stderr as the commands give them."""
    import sys

    print(f"warning: {message}", file=sys.stderr)
