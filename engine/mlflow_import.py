"""``emberflow models import DIR --name NAME``: an MLflow model directory (recognised by its ``MLmodel`` file) as
the next version of a stored model.

The ``sklearn`` flavor becomes a ``pickle`` version (pickle and cloudpickle serialization: unpickling runs code,
so it needs ``--trust``, as a pickle loaded from a plain path does) or a ``skops`` version (loaded with emberflow's
trusted types alone); the ``spark`` flavor a ``spark-ml`` version (its PipelineModel directory; a classifier's
classes are the labels of the StringIndexer in the pipeline that makes its label column, if there is one); the
``h2o`` flavor an ``h2o-binary`` version. The manifest comes from the ``MLmodel`` file: the signature's columns
are the features and input schema, the flavor's library version and the Python version are recorded as the
versions that saved it, and ``source`` says where it came from. A scikit-learn model is deserialized once while
importing, after the version gate, to learn its task and classes.
"""

from __future__ import annotations

import json
import platform
import shutil
from pathlib import Path
from typing import Any

from .errors import UserError
from .store import ModelStore, VersionRef

IMPORTED_FLAVORS = ("sklearn", "spark", "h2o")
PICKLED = ("pickle", "cloudpickle")
# MLflow's column types, as the dtype a column of them has in pandas.
DTYPES = {"double": "float64", "float": "float32", "long": "int64", "integer": "int32", "string": "str"}


def import_mlflow(store: ModelStore, folder: Path, name: str | None, trust: bool = False, warn=None) -> VersionRef:
    warn = warn or warn_on_stderr
    if not name:
        raise UserError(f"give the model's name in this store: emberflow models import {folder} --name NAME")
    mlmodel = read_mlmodel(folder)
    flavors = mlmodel.get("flavors") if isinstance(mlmodel.get("flavors"), dict) else {}
    flavor = next((f for f in IMPORTED_FLAVORS if isinstance(flavors.get(f), dict)), None)
    if flavor is None:
        found = ", ".join(f for f in flavors if f != "python_function") or "python_function alone"
        raise UserError(f"{folder} is an MLflow model of flavor {found}; emberflow imports the sklearn, spark and "
                        "h2o flavors (serve other models with mlflow models serve)")
    source = {"kind": "mlflow", "path": str(folder.resolve()), "flavor": flavor,
              **{key: str(mlmodel[key]) for key in ("model_uuid", "mlflow_version", "utc_time_created")
                 if mlmodel.get(key)}}
    columns = signature_columns(mlmodel, folder)
    python = saved_python(folder, flavors)
    if python is None:  # told neither by MLmodel nor by python_env.yaml: judged as this Python's
        python, source["python_recorded"] = platform.python_version(), False
    if flavor == "sklearn":
        return _import_sklearn(store, folder, name, flavors["sklearn"], columns, source, python, trust, warn)
    if flavor == "spark":
        return _import_spark(store, folder, name, flavors["spark"], columns, source, python, warn)
    return _import_h2o(store, folder, name, flavors["h2o"], columns, source, python, warn)


def saved_python(folder: Path, flavors: dict[str, Any]) -> str | None:
    """The Python version that saved the model: python_function's ``python_version``, else python_env.yaml's."""
    import yaml

    told = (flavors.get("python_function") or {}).get("python_version")
    if not told and (folder / "python_env.yaml").is_file():
        try:
            told = (yaml.safe_load((folder / "python_env.yaml").read_text(encoding="utf-8")) or {}).get("python")
        except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError):
            told = None
    return str(told) if told else None


def read_mlmodel(folder: Path) -> dict[str, Any]:
    import yaml

    path = folder / "MLmodel"
    if not path.is_file():
        raise UserError(f"{folder} has no MLmodel file, so it is not an MLflow model directory (a zip from models "
                        "download is imported as a file)")
    try:
        mlmodel = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UserError(f"{path} is not readable YAML ({exc}); is it an MLflow model directory?") from None
    if not isinstance(mlmodel, dict):
        raise UserError(f"{path} does not hold an MLflow model description (a mapping with flavors)")
    return mlmodel


def signature_columns(mlmodel: dict[str, Any], folder: Path) -> list[dict[str, str]]:
    """The signature's input columns as ``{"name", "type"}``; none without a signature. A tensor signature
    names no columns: it is refused."""
    inputs = (mlmodel.get("signature") or {}).get("inputs") if isinstance(mlmodel.get("signature"), dict) else None
    if not inputs:
        return []
    try:
        specs = json.loads(inputs) if isinstance(inputs, str) else inputs
    except ValueError as exc:
        raise UserError(f"{folder}/MLmodel: its signature's inputs are not JSON ({exc})") from None
    if not isinstance(specs, list) or not all(isinstance(s, dict) and s.get("name") for s in specs):
        raise UserError(f"{folder}/MLmodel: its signature's inputs are not named columns (a tensor signature?); "
                        "emberflow imports models that take named columns")
    return [{"name": str(s["name"]), "type": str(s.get("type"))} for s in specs]


def feature_types(columns: list[dict[str, str]]) -> dict[str, str]:
    """Each signature column's dtype in pandas; a type pandas has no dtype for here (a boolean, a date) keeps
    MLflow's name."""
    return {c["name"]: DTYPES.get(c["type"], c["type"]) for c in columns}


def input_schema(columns: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Numbers and text columns as the predictor conforms them; none if another type (a boolean, a date) is
    among them, whose values then reach the model as they come."""
    if not columns or any(c["type"] not in DTYPES for c in columns):
        return []
    return [{"name": c["name"], "kind": "categorical" if c["type"] == "string" else "numeric",
             "dtype": DTYPES[c["type"]]} for c in columns]


def _inside(folder: Path, relative: Any, what: str) -> Path:
    path = (folder / str(relative or "")).resolve()
    if not str(relative or "") or not path.is_relative_to(folder.resolve()) or not path.exists():
        raise UserError(f"{folder}/MLmodel names {what} {relative!r}, which is not in the directory")
    return path


def _import_sklearn(store: ModelStore, folder: Path, name: str, conf: dict[str, Any], columns, source, python,
                    trust: bool, warn) -> VersionRef:
    from .formats import get_format

    serialization = str(conf.get("serialization_format") or "pickle")
    if serialization not in (*PICKLED, "skops"):
        raise UserError(f"{folder}: serialization_format {serialization!r} is not one emberflow reads (pickle, "
                        "cloudpickle, skops)")
    if serialization in PICKLED and not trust:
        raise UserError(f"{folder} holds a {serialization} file, and unpickling one can run code; pass --trust if "
                        "you trust where it came from (or save it with serialization_format='skops')")
    fmt = get_format("skops" if serialization == "skops" else "pickle")
    artifact = _inside(folder, conf.get("pickled_model"), "the model file")
    source = {**source, "serialization_format": serialization}

    def write(target: Path) -> dict[str, Any]:
        shutil.copyfile(artifact, target / fmt.artifact)
        saved = {"python": python, "libraries": _sklearn_libraries(conf, fmt, target / fmt.artifact)}
        model = _deserialized_sklearn(fmt, target, saved, columns, warn)
        return _manifest(model, fmt, saved, source)

    return store.save(name, write)


def _sklearn_libraries(conf: dict[str, Any], fmt, path: Path) -> dict[str, str]:
    version = conf.get("sklearn_version") or fmt.written_by(path).get("scikit-learn")
    return {"scikit-learn": str(version)} if isinstance(version, (str, int, float)) else {}


def _deserialized_sklearn(fmt, folder: Path, saved: dict[str, Any], columns, warn):
    """The copied model, loaded after the version gate, as a Model with its task and classes."""
    from .context import Sessions
    from .model import Model
    from .models import check_versions

    check_versions(saved, fmt, None, warn)
    manifest = {**saved, "artifact": fmt.artifact}
    try:
        with fmt.deserializing(manifest, warn):
            obj = fmt.load(folder, manifest, Sessions(), {"warn": warn})
    except UserError:
        raise
    except Exception as exc:  # a damaged file, or a class from a module that is not installed here
        raise UserError(f"the MLflow model's {fmt.artifact} could not be loaded ({type(exc).__name__}: {exc}); "
                        "install what it needs, or save it again") from exc
    if not callable(getattr(obj, "predict", None)):
        raise UserError(f"the MLflow model holds a {type(obj).__name__}, which has no predict method")
    classifier = callable(getattr(obj, "predict_proba", None)) and hasattr(obj, "classes_")
    names = [c["name"] for c in columns] or [str(n) for n in getattr(obj, "feature_names_in_", [])]
    classes = [c.item() if hasattr(c, "item") else c for c in getattr(obj, "classes_", [])] if classifier else []
    return Model(obj=obj, engine="sklearn", features=names, classes=classes,
                 feature_types=feature_types(columns),
                 task="classification" if classifier else "regression", input_schema=input_schema(columns))


def _import_spark(store: ModelStore, folder: Path, name: str, conf: dict[str, Any], columns, source,
                  python, warn) -> VersionRef:
    from .formats import get_format
    from .formats.spark import read_metadata, stage_list
    from .model import Model

    fmt = get_format("spark-ml")
    directory = _inside(folder, conf.get("model_data") or "sparkml", "the Spark model folder")
    metadata = read_metadata(directory)
    stages = stage_list(directory, metadata)
    last = (stages[-1]["class"] if stages else metadata.get("class")) or ""
    task = "regression" if ".regression." in last else "classification"
    classes = spark_classes(directory, stages, columns) if task == "classification" else []
    if task == "classification" and not classes:
        warn("the Spark model's label is not made by a StringIndexer in its pipeline, so no classes are "
             "recorded and Score predicts the class index (0.0, 1.0 ...) as Spark does")

    def write(target: Path) -> dict[str, Any]:
        shutil.copytree(directory, target / fmt.artifact)
        version = conf.get("pyspark_version") or metadata.get("sparkVersion")
        saved = {"python": python, "libraries": {"pyspark": str(version)} if version else {}}
        model = Model(obj=None, engine="spark", features=[c["name"] for c in columns],
                      feature_types=feature_types(columns), task=task, classes=classes,
                      input_schema=input_schema(columns))
        manifest = _manifest(model, fmt, saved, source)
        manifest.update(model_class=metadata.get("class", "") + (f" > {last}" if stages else ""), artifact="model",
                        spark={"version": metadata.get("sparkVersion"), "class": metadata.get("class"),
                               "uid": metadata.get("uid"), "stages": stages})
        return manifest

    return store.save(name, write)


def spark_classes(directory: Path, stages: list[dict[str, Any]], columns) -> list[Any]:
    """The classes of a PipelineModel whose (last) classifier takes as its label the output of a StringIndexer
    before it: the indexer's labels in index order (label ``i`` is the class of index ``i``), read from the
    saved metadata and parquet, with ``__unknown`` after them for ``handleInvalid: keep`` (Spark gives unseen
    labels one more index, so the classifier has one more class). Typed as the signature types the indexer's
    input column, if it names it; else text, as Spark indexes them. ``[]`` when there is no such indexer."""
    found = _label_indexer(directory, stages)
    if found is None:
        return []
    path, metadata, position = found
    labels = _indexer_labels(path, position)
    if _spark_param(metadata, "handleInvalid") == "keep":
        return [*labels, "__unknown"]
    inputs = _spark_param(metadata, "inputCols") or [_spark_param(metadata, "inputCol")]
    types = {c["name"]: c["type"] for c in columns}
    return typed_labels(labels, types.get(inputs[position], "string") if position < len(inputs) else "string")


def _label_indexer(directory: Path, stages: list[dict[str, Any]]) -> tuple[Path, dict[str, Any], int] | None:
    """The StringIndexerModel stage that makes the label column of the pipeline's last classifier, before it:
    its folder, metadata and the position of that column among its outputs; None if there is none."""
    from .formats.spark import read_metadata

    folders = {path.name.split("_", 1)[-1]: path for path in (directory / "stages").iterdir()} if stages else {}
    read = [(folders[s["uid"]], read_metadata(folders[s["uid"]])) for s in stages if s.get("uid") in folders]
    classifier = next((i for i in reversed(range(len(read))) if ".classification." in str(read[i][1].get("class"))),
                      None)
    label = _spark_param(read[classifier][1], "labelCol") if classifier is not None else None
    for path, metadata in reversed(read[:classifier] if label else []):
        if str(metadata.get("class")).endswith(".feature.StringIndexerModel"):
            outputs = _spark_param(metadata, "outputCols") or [_spark_param(metadata, "outputCol")]
            if label in outputs:
                return path, metadata, outputs.index(label)
    return None


def _spark_param(metadata: dict[str, Any], name: str) -> Any:
    """A param's value as the stage's metadata records it: set (``paramMap``), else its default."""
    for key in ("paramMap", "defaultParamMap"):
        if isinstance(metadata.get(key), dict) and name in metadata[key]:
            return metadata[key][name]
    return None


def _indexer_labels(stage: Path, position: int) -> list[str]:
    """A saved StringIndexerModel's labels of its ``position``-th column, in index order: its data parquet's
    ``labelsArray`` (Spark 3 on), or ``labels`` (one column, Spark 2)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(stage / "data").to_pylist()
    except (OSError, pa.ArrowException) as exc:
        raise UserError(f"{stage}/data, the StringIndexer's labels, is not readable parquet ({exc}); "
                        "is the model complete?") from exc
    row = rows[0] if rows else {}
    labels = row["labelsArray"][position] if row.get("labelsArray") else row.get("labels") or []
    return [str(label) for label in labels]


def typed_labels(labels: list[str], kind: str) -> list[Any]:
    """The labels as values of the label column's type (Spark indexed them as text: ``1.0``, ``1``, ``true``);
    text if the type is not a number or a boolean, or a label does not read as one."""
    if kind in ("boolean", "bool") and set(labels) <= {"true", "false"}:
        return [label == "true" for label in labels]
    convert = {"double": float, "float": float, "long": int, "integer": int}.get(kind)
    try:
        return [convert(label) for label in labels] if convert else labels
    except ValueError:
        return labels


def _import_h2o(store: ModelStore, folder: Path, name: str, conf: dict[str, Any], columns, source, python,
                warn) -> VersionRef:
    """The H2O binary as an ``h2o-binary`` version. It is put into H2O once (started, or joined) to learn its
    task, classes and features; a binary loads only on the H2O version that wrote it, which is checked first."""
    import yaml

    from .formats import get_format
    from .formats.h2o import BINARY

    fmt = get_format("h2o-binary")
    data = _inside(folder, conf.get("data") or "model.h2o", "the H2O model folder")
    try:
        settings = yaml.safe_load((data / "h2o.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UserError(f"{data}/h2o.yaml, which names the H2O model file, is not readable ({exc})") from None
    binary = _inside(data, (settings or {}).get("model_file"), "the H2O model file")
    version = conf.get("h2o_version")

    def write(target: Path) -> dict[str, Any]:
        shutil.copyfile(binary, target / BINARY)
        saved = {"python": python, "libraries": {"h2o": str(version)} if version else {}}
        model, section, model_class = _h2o_facts(fmt, target, saved, columns, warn)
        manifest = _manifest(model, fmt, saved, source)
        manifest.update(artifact=BINARY, h2o=section, model_class=model_class)
        return manifest

    return store.save(name, write)


def _h2o_facts(fmt, folder: Path, saved: dict[str, Any], columns, warn):
    """The copied binary put into H2O: a Model of its features, task and classes, and the manifest's h2o
    section, and its class. The model is removed from the cluster afterwards, and an H2O this started is
    stopped."""
    from .context import Sessions
    from .formats.h2o import BINARY
    from .model import Model

    sessions = Sessions(warn=warn)
    try:
        stored = fmt.load(folder, {**saved, "artifact": BINARY}, sessions, {"warn": warn})
        estimator = stored.estimator()
        output = estimator._model_json["output"]
        category = str(output.get("model_category") or "")
        names = [str(n) for n in output.get("names") or []]
        response = output.get("response_column_name")
        features = [c["name"] for c in columns] or [n for n in names if n != response]
        classes = list((output.get("domains") or [None])[-1] or []) if category != "Regression" else []
        section = {"model_id": str(estimator.model_id), "algorithm": estimator.algo, "prefer": "binary"}
        model_class = f"{type(estimator).__module__}.{type(estimator).__qualname__}"
        sessions.get("h2o").remove(estimator)
    finally:
        sessions.stop_all()
    model = Model(obj=None, engine="h2o", features=features, label=response, classes=classes,
                  feature_types=feature_types(columns),
                  task="regression" if category == "Regression" else "classification",
                  algorithm=section["algorithm"], input_schema=input_schema(columns))
    return model, section, model_class


def _manifest(model, fmt, saved: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    from .models import describe_model

    manifest = describe_model(model, fmt, {"source": source})
    manifest.update(saved, artifact=getattr(fmt, "artifact", None))
    return manifest


def warn_on_stderr(message: str) -> None:
    """The version gate's warnings while importing or exporting (a model saved by another scikit-learn), on
    stderr as the commands give them."""
    import sys

    print(f"warning: {message}", file=sys.stderr)


