"""Spark ML models as Spark writes them: a directory of metadata JSON, stage folders and parquet data.

``model.write().save(...)`` writes the directory inside the store's version folder, so the store's manifest
lists the SHA-256 of every file in it (Spark's ``_SUCCESS`` markers and ``.crc`` checksums included), and
loading verifies them all before Spark reads a byte.
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
        target = folder / self.artifact
        model.obj.write().save(target.resolve().as_uri())
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
        target = model_directory(folder, manifest.get("artifact", self.artifact))
        sessions.get("spark")
        metadata = read_metadata(target)
        return python_class(metadata.get("class", "")).load(target.resolve().as_uri())


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


def linear_stages(obj: Any) -> tuple[list[str], Any] | None:
    """``(features, lr_model)`` for a Spark LR model: a PipelineModel of a VectorAssembler then a
    LogisticRegressionModel, or a bare LogisticRegressionModel; None for anything else."""
    if type(obj).__module__.split(".")[:2] != ["pyspark", "ml"]:
        return None
    from pyspark.ml import PipelineModel
    from pyspark.ml.classification import LogisticRegressionModel
    from pyspark.ml.feature import VectorAssembler

    if isinstance(obj, LogisticRegressionModel):
        return [], obj
    if not isinstance(obj, PipelineModel) or len(obj.stages) != 2:
        return None
    assembler, lr = obj.stages
    if not isinstance(assembler, VectorAssembler) or not isinstance(lr, LogisticRegressionModel):
        return None
    if assembler.getOutputCol() != lr.getFeaturesCol():
        return None
    return list(assembler.getInputCols()), lr


def linear_spec(model: Model) -> LinearModel | None:
    """A Spark logistic regression (see ``linear_stages``) as a portable LinearModel: the same coefficients,
    so its probabilities match Spark's to floating-point precision."""
    import numpy as np

    from ..portable import LinearModel

    found = linear_stages(model.obj)
    if found is None:
        return None
    features, lr = found
    features = features or list(model.features)
    if not features:
        return None
    coef = np.asarray(lr.coefficientMatrix.toArray(), dtype=np.float64)
    intercept = np.asarray(lr.interceptVector.toArray(), dtype=np.float64)
    classes = list(model.classes) or list(range(max(lr.numClasses, 2)))
    binary = coef.shape[0] == 1
    threshold = float(lr.getThreshold()) if binary else 0.5
    return LinearModel(features=features, classes=classes, coef=coef, intercept=intercept, threshold=threshold,
                       multinomial=not binary)
