"""Spark ML models as Spark writes them: a directory of metadata JSON, stage folders and parquet data.

``model.write().save(...)`` writes the directory inside the store's version folder (on a cluster, through the
staging location, see ``spark_staging``), so the store's manifest lists the SHA-256 of every file in it (Spark's
``_SUCCESS`` markers and ``.crc`` checksums included), and loading verifies them all before Spark reads a byte.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import IntegrityError, UserError
from . import ModelFormat, Untold

if TYPE_CHECKING:
    from ..context import Sessions
    from ..model import Model
    from ..portable import LinearModel

JVM_PREFIX = "org.apache.spark.ml."


class SparkMLFormat(ModelFormat):
    """A Spark ML directory (``MLWriter``), loaded by the class its metadata names."""

    name = "spark-ml"
    engine = "spark"
    auto = True
    library_names = ("pyspark",)
    artifact = "model"

    def applies_to(self, model: Model) -> bool:
        if model.engine != "spark":
            return False
        module = type(model.obj).__module__
        return module.startswith("pyspark.ml") and callable(getattr(model.obj, "write", None))

    def recognizes(self, path: Path) -> bool:
        return path.is_dir() and any((path / "metadata").glob("part-*"))

    def save(self, model: Model, folder: Path) -> dict[str, Any]:
        """Spark writes the model into the folder, or, with a staging location (required on a cluster), into a
        new folder there that is copied into this one (see ``spark_staging``)."""
        from pyspark.sql import SparkSession

        from ..spark_staging import save_staged, staging_root

        target = folder / self.artifact
        session = SparkSession.active()
        root = staging_root(session, "saving")
        if root is None:
            model.obj.write().save(target.resolve().as_uri())
        else:
            save_staged(session, root, model.obj.write(), target)
        metadata = read_metadata(target)
        return {
            "artifact": self.artifact,
            "spark": {
                "version": metadata.get("sparkVersion"),
                "class": metadata.get("class"),
                "uid": metadata.get("uid"),
                "stages": stage_list(target, metadata),
            },
        }

    def written_by(self, path: Path) -> dict[str, str | Untold]:
        """The Spark version its metadata names (``sparkVersion``): pyspark's, which is Spark's."""
        written = read_metadata(model_directory(path, self.artifact)).get("sparkVersion")
        return {"pyspark": written if isinstance(written, str) and written else
                Untold("its metadata names no sparkVersion")}

    def load(self, folder: Path, manifest: dict[str, Any], sessions: Sessions, options: dict[str, Any]) -> Any:
        """Spark reads the checked folder, or, with a staging location (required on a cluster), a copy of it
        made there and checked again (see ``spark_staging``)."""
        from ..spark_staging import stage_for_loading, staging_root

        target = model_directory(folder, manifest.get("artifact", self.artifact))
        session = sessions.get("spark")
        cls = python_class(read_metadata(target).get("class", ""))
        root = staging_root(session, "loading")
        if root is None:
            return cls.load(target.resolve().as_uri())
        listed = manifest.get("files") if isinstance(manifest.get("files"), dict) else None
        prefix = f"{target.relative_to(folder).as_posix()}/" if target != folder else ""
        return cls.load(stage_for_loading(session, root, target, listed, prefix, sessions.on_stop))


def model_directory(folder: Path, artifact: str) -> Path:
    """The Spark ML directory: ``folder/artifact`` (a store version or a saved path), or ``folder`` itself."""
    for candidate in (folder / artifact, folder):
        if (candidate / "metadata").is_dir():
            return candidate
    raise UserError(f"{folder} is not a Spark ML model directory (it has no metadata folder)")


def read_metadata(directory: Path) -> dict[str, Any]:
    """The one-line JSON that Spark writes under ``metadata/`` (class, sparkVersion, uid, paramMap)."""
    parts = sorted((directory / "metadata").glob("part-*"))
    if not parts:
        raise IntegrityError(f"{directory} has no Spark metadata file (metadata/part-*)")
    line = parts[0].read_text(encoding="utf-8").strip().splitlines()[0]
    try:
        return json.loads(line)
    except ValueError as exc:
        raise IntegrityError(f"{parts[0]} is not Spark metadata JSON: {exc}") from None


def stage_list(directory: Path, metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """A pipeline's stages as ``{"class", "uid"}``, read from each stage's own metadata, in order."""
    stages = []
    stages_dir = directory / "stages"
    for uid_folder in sorted(stages_dir.iterdir(), key=_stage_index) if stages_dir.is_dir() else []:
        stage = read_metadata(uid_folder)
        stages.append({"class": stage.get("class"), "uid": stage.get("uid")})
    return stages


def _stage_index(path: Path) -> int:
    prefix = path.name.split("_", 1)[0]
    return int(prefix) if prefix.isdigit() else 0


def python_class(jvm_class: str) -> Any:
    """The pyspark class for a Spark ML class name, e.g. ``org.apache.spark.ml.PipelineModel``; only Spark
    ML's own classes are accepted."""
    if not jvm_class.startswith(JVM_PREFIX):
        raise IntegrityError(f"the model's metadata names class {jvm_class!r}, not a Spark ML model class")
    module_name, _, class_name = ("pyspark.ml." + jvm_class[len(JVM_PREFIX):]).rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise UserError(f"pyspark has no class for {jvm_class}; was the model saved by a newer Spark?") from None
    if not callable(getattr(cls, "load", None)):
        raise UserError(f"{jvm_class} cannot be loaded by pyspark (no load method)")
    return cls


# ----- the portable params format -----

def linear_spec(model: Model) -> LinearModel | None:
    """A Spark logistic or linear regression, alone or last in a PipelineModel of preparation stages that
    ``params`` can write (see ``traced_inputs``), as a portable LinearModel: the same coefficients (Spark reports
    them on the features' own scale, standardized in training or not), imputation values and levels, so that
    it scores as Spark does to floating-point precision. None for any other model."""
    import numpy as np

    from ..portable import LinearModel, NumericInput

    if type(model.obj).__module__.split(".")[:2] != ["pyspark", "ml"]:
        return None
    stages = list(getattr(model.obj, "stages", None) or [model.obj])
    final, classifier = stages[-1], is_logistic(stages[-1])
    if not classifier and not is_linear_regression(final):
        return None
    features = list(model.features)
    inputs = traced_inputs(stages[:-1], final.getFeaturesCol()) if len(stages) > 1 else \
        [NumericInput(name) for name in features]
    if classifier:
        coef = np.asarray(final.coefficientMatrix.toArray(), dtype=np.float64)
        intercept = np.asarray(final.interceptVector.toArray(), dtype=np.float64)
    else:
        coef = np.asarray(final.coefficients.toArray(), dtype=np.float64).reshape(1, -1)
        intercept = np.asarray([final.intercept], dtype=np.float64)
    if not inputs or sorted(i.name for i in inputs) != sorted(features) or \
            coef.shape[1] != sum(i.width for i in inputs):
        return None
    classes = (list(model.classes) or list(range(max(final.numClasses, 2)))) if classifier else []
    threshold = model.params.get("threshold", final.getThreshold() if classifier and len(classes) == 2 else 0.5)
    return LinearModel(features=features, classes=classes, coef=coef, intercept=intercept,
                       threshold=float(threshold), multinomial=coef.shape[0] > 1,
                       kind="logistic_regression" if classifier else "linear_regression", inputs=inputs)


def is_logistic(stage: Any) -> bool:
    from pyspark.ml.classification import LogisticRegressionModel

    return isinstance(stage, LogisticRegressionModel)


def is_linear_regression(stage: Any) -> bool:
    from pyspark.ml.regression import LinearRegressionModel

    return isinstance(stage, LinearRegressionModel)


def traced_inputs(stages: list[Any], features_col: str) -> list[Any] | None:
    """The portable inputs of the VectorAssembler that makes ``features_col``, each of its columns traced back
    to a raw column: a raw numeric column, or one a SQLTransformer casts to a double, each maybe imputed by an
    Imputer; or the one-hot columns of a OneHotEncoder (dropping the last index) of a StringIndexer (keeping
    unseen labels as one more index) of a raw text column or of one a SQLTransformer makes (whose COALESCE with a
    text gives a missing value that text, which may be a level). None if the stages are anything else."""
    from pyspark.ml.feature import ImputerModel, SQLTransformer, VectorAssembler

    producers: dict[str, tuple[Any, int]] = {}
    derived: dict[str, tuple[str, str | None]] = {}  # a SQLTransformer's column: (its raw column, missing text)
    surrogates: dict[str, float] = {}  # an Imputer's output column: the value it puts in place of a missing one
    for stage in stages:
        if isinstance(stage, SQLTransformer):
            found = sql_columns(stage.getStatement())
            if found is None:
                return None
            derived.update(found)
            continue
        if isinstance(stage, ImputerModel):
            surrogates.update(imputer_values(stage))
        for position, column in enumerate(stage_columns(stage, "output")):
            producers[column] = (stage, position)
    assembler = producers.get(features_col, (None, 0))[0]
    if not isinstance(assembler, VectorAssembler):
        return None
    inputs = [traced_input(column, producers, derived, surrogates) for column in assembler.getInputCols()]
    return None if any(i is None for i in inputs) else inputs


def traced_input(column: str, producers: dict, derived: dict, surrogates: dict[str, float]) -> Any:
    """One assembled column's portable input (see ``traced_inputs``), or None."""
    from pyspark.ml.feature import ImputerModel, OneHotEncoderModel

    from ..portable import NumericInput

    stage, position = producers.get(column, (None, 0))
    if isinstance(stage, OneHotEncoderModel):
        return one_hot_input(stage, position, producers, derived)
    impute = None
    if isinstance(stage, ImputerModel):
        impute = surrogates.get(column)
        column = stage_columns(stage, "input")[position]
        stage = producers.get(column, (None, 0))[0]
    if stage is not None:  # made by a stage other than a SQLTransformer
        return None
    return NumericInput(derived.get(column, (column, None))[0], impute=impute)


def one_hot_input(encoder: Any, position: int, producers: dict, derived: dict) -> Any:
    """The categorical input of one OneHotEncoder column (see ``traced_inputs``), or None."""
    from pyspark.ml.feature import StringIndexerModel

    from ..portable import CategoricalInput

    indexer, at = producers.get(stage_columns(encoder, "input")[position], (None, 0))
    if not isinstance(indexer, StringIndexerModel) or indexer.getHandleInvalid() != "keep" or \
            not encoder.getDropLast():
        return None
    labels = list(indexer.labelsArray[at])
    if encoder.categorySizes[position] != len(labels) + 1:  # the last index, the unseen labels', is dropped
        return None
    text = stage_columns(indexer, "input")[at]
    if text in producers:
        return None
    name, missing_text = derived.get(text, (text, None))
    missing = labels.index(missing_text) if missing_text in labels else None
    return CategoricalInput(name, labels, missing_level=missing, unseen_level=None)


def stage_columns(stage: Any, side: str) -> list[str]:
    """A stage's input or output columns, whether it takes one column or several."""
    name = "Input" if side == "input" else "Output"
    for getter, many in ((f"get{name}Cols", True), (f"get{name}Col", False)):
        if hasattr(stage, getter) and stage.isDefined(getattr(stage, f"{side}Cols" if many else f"{side}Col")):
            value = getattr(stage, getter)()
            return list(value) if many else [value]
    return []


def imputer_values(imputer: Any) -> dict[str, float]:
    """Each output column of a fitted Imputer, with the value it puts in place of a missing (null or NaN) one."""
    import math

    if not math.isnan(imputer.getMissingValue()):
        return {}
    row = imputer.surrogateDF.first()
    return {output: float(row[source]) for source, output in
            zip(stage_columns(imputer, "input"), stage_columns(imputer, "output"), strict=True)}


def sql_columns(statement: str) -> dict[str, tuple[str, str | None]] | None:
    """The columns a SQLTransformer's ``SELECT *, <expression> AS <name>, ... FROM __THIS__`` adds, each made
    from one raw column: ``{name: (raw column, the text a missing value becomes)}``; the text is that of a
    ``COALESCE(..., 'text')``, else None. None for a statement of another shape."""
    import re

    match = re.fullmatch(r"\s*SELECT\s+(.*?)\s+FROM\s+__THIS__\s*", statement, re.S | re.I)
    if match is None:
        return None
    columns = {}
    for item in top_level_items(match.group(1)):
        if item.strip() == "*":
            continue
        named = re.fullmatch(r"(.*)\s+AS\s+(\w+)\s*", item, re.S | re.I)
        raw = {n.replace("``", "`") for n in re.findall(r"`((?:``|[^`])*)`", named.group(1))} if named else set()
        if len(raw) != 1:
            return None
        text = re.search(r",\s*'((?:[^'\\]|\\.)*)'\s*\)\s*$", named.group(1))
        missing = re.sub(r"\\(.)", r"\1", text.group(1)) if text and re.match(r"\s*COALESCE\s*\(",
                                                                                 named.group(1), re.I) else None
        columns[named.group(2)] = (raw.pop(), missing)
    return columns


def top_level_items(text: str) -> list[str]:
    """``text`` split at the commas outside parentheses, quotes and backquotes."""
    items, depth, quote, start, i = [], 0, None, 0, 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\" and quote == "'":
                i += 1
            elif char == quote:
                quote = None
        elif char in "'`":
            quote = char
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
        i += 1
    return [*items, text[start:]]
