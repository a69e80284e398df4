"""The ``python_function`` loader of the MLflow model directories that ``emberflow models export --format mlflow``
writes. The export copies this file into the directory's ``code/`` folder, which MLflow puts on ``sys.path``, so
the directory loads where emberflow is not installed: the file imports neither emberflow nor MLflow.

Why not MLflow's own ``mlflow.sklearn`` and ``mlflow.spark`` loaders: they would not give Score's ``prediction``.
MLflow's scikit-learn pyfunc calls ``pipeline.predict``, the most probable class, where Score compares the second
class's probability with the model's ``threshold``; and it passes the columns as they come, where Score conforms
them first (numbers as float64, categories as text: ``true``/``false``, ``3`` for the whole number 3). MLflow's
Spark pyfunc returns the ``prediction`` column, a classifier's class index, not the class. This loader does what
Score does (see ``emberflow.engine.predictor``); the ``sklearn`` and ``spark`` flavors beside it still load the
bare pipeline with MLflow's own loaders.

H2O models score through their MOJO with no H2O cluster, as Score's ``mode: mojo`` does (``emberflow.engine.h2o_rows``
and ``formats.h2o``): the rows conformed as above with a missing category as the level the trainers gave missing
values, written to CSV and scored by h2o-genmodel's PredictCsv (from the h2o package's jar) in a JVM of its own;
the class probabilities then become the prediction by the same threshold rule. MLflow's own h2o pyfunc would start
an H2O cluster of the binary's version and return H2O's label, which uses the threshold that maximizes F1.
"""

from __future__ import annotations

import json
import os
from typing import Any

SETTINGS = "emberflow.json"


def _load_pyfunc(path: str):
    """MLflow's entry point: the model of the directory ``path``."""
    with open(os.path.join(path, SETTINGS), encoding="utf-8") as handle:
        settings = json.load(handle)
    if settings["engine"] == "spark":
        return SparkScorer(path, settings)
    if settings["engine"] == "h2o":
        return MojoScorer(path, settings)
    return SklearnScorer(path, settings)


class SklearnScorer:
    def __init__(self, path: str, settings: dict[str, Any]):
        import pickle

        with open(os.path.join(path, settings["artifact"]), "rb") as handle:
            self.model = pickle.load(handle)
        self.settings = settings

    def predict(self, data, params=None):
        import numpy as np

        rows = conform(data, self.settings["input_schema"], self.settings["features"])
        if self.settings["task"] == "regression":
            return np.asarray(self.model.predict(rows), dtype="float64")
        proba = self.model.predict_proba(rows)
        return predicted_labels(proba, self.settings["classes"], self.settings["threshold"])


class SparkScorer:
    def __init__(self, path: str, settings: dict[str, Any]):
        from pyspark.sql import SparkSession

        self.spark = SparkSession.builder.getOrCreate()
        self.model = spark_class(os.path.join(path, settings["artifact"])).load(
            os.path.abspath(os.path.join(path, settings["artifact"])))
        self.settings = settings

    def predict(self, data, params=None):
        import numpy as np
        from pyspark.ml.functions import vector_to_array

        stages = list(reversed(getattr(self.model, "stages", [self.model])))
        regression = self.settings["task"] == "regression"
        wanted = "getPredictionCol" if regression else "getProbabilityCol"
        predictor = next(s for s in stages if callable(getattr(s, wanted, None)))
        frame = data[self.settings["features"]].astype(object).where(data[self.settings["features"]].notna(), None)
        scored = self.model.transform(self.spark.createDataFrame(frame))
        if regression:
            values = scored.select(predictor.getPredictionCol()).toPandas().iloc[:, 0]
            return np.asarray(values, dtype="float64")
        out = scored.select(vector_to_array(predictor.getProbabilityCol()).alias("p"),
                            predictor.getPredictionCol()).toPandas()
        classes = self.settings["classes"] or [float(i) for i in range(len(out["p"].iloc[0]))]
        if len(classes) == 2:
            index = np.array([1 if p[1] > self.settings["threshold"] else 0 for p in out["p"]])
        else:
            index = out.iloc[:, 1].astype(int).to_numpy()
        return np.asarray(classes, dtype=object)[index]


class MojoScorer:
    def __init__(self, path: str, settings: dict[str, Any]):
        self.mojo = os.path.abspath(os.path.join(path, settings["artifact"]))
        self.settings = settings

    def predict(self, data, params=None):
        import shutil
        import tempfile

        import numpy as np
        import pandas as pd

        rows = mojo_rows(data, self.settings)
        folder = tempfile.mkdtemp(prefix="emberflow-mlflow-mojo-")
        try:
            rows.to_csv(os.path.join(folder, "input.csv"), index=False, na_rep="", lineterminator="\n")
            run_predict_csv(self.mojo, folder, self.settings)
            result = pd.read_csv(os.path.join(folder, "prediction.csv"))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if len(result) != len(rows):
            raise ValueError(f"h2o-genmodel gave {len(result)} rows for {len(rows)}")
        if self.settings["task"] == "regression":
            return result.iloc[:, 0].to_numpy(dtype="float64")
        classes = self.settings["classes"]
        proba = result.iloc[:, 1:len(classes) + 1].to_numpy(dtype="float64")
        return np.asarray(predicted_labels(proba, classes, self.settings["threshold"]))


def mojo_rows(data, settings: dict[str, Any]):
    """The model's feature columns as Score's ``mode: mojo`` gives them to the MOJO: conformed, a missing
    category as the missing level, an unseen one refused under ``unknown_category: error``."""
    schema, features = settings["input_schema"], settings["features"]
    missing = [name for name in features if name not in data.columns]
    if missing:
        raise ValueError(f"the data lacks the model's feature columns {missing}")
    if not schema:
        return data[features]
    rows = conform(data, schema, features)
    for column in (c for c in schema if c.get("kind") == "categorical"):
        if settings.get("unknown_category") == "error":
            known = set(map(str, column.get("levels") or []))
            unseen = rows[column["name"]].notna() & ~rows[column["name"]].isin(known)
            if unseen.any():
                raise ValueError(f"column '{column['name']}' holds categories the model never saw")
        rows[column["name"]] = rows[column["name"]].fillna(settings["missing_level"])
    return rows[features]


def run_predict_csv(mojo: str, folder: str, settings: dict[str, Any]) -> None:
    """h2o-genmodel's PredictCsv, as Score runs it: input.csv in ``folder`` to prediction.csv."""
    import importlib.util
    import shutil
    import subprocess

    spec = importlib.util.find_spec("h2o")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("scoring this H2O model needs the h2o package (its jar holds h2o-genmodel)")
    jar = os.path.join(list(spec.submodule_search_locations)[0], "backend", "bin", "h2o.jar")
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home and os.path.isfile(os.path.join(home, "bin", "java")) else \
        shutil.which("java")
    if java is None:
        raise RuntimeError("scoring this H2O model needs Java 11 or later (h2o-genmodel runs in a JVM)")
    command = [java, f"-Xmx{settings['heap']}", "-XX:ReservedCodeCacheSize=64m", f"-Djava.io.tmpdir={folder}",
               "-cp", jar, settings["predict_csv"], "--mojo", mojo, "--input", os.path.join(folder, "input.csv"),
               "--output", os.path.join(folder, "prediction.csv"), "--decimal"]
    env = {**os.environ, "DO_NOT_TRACK": "1", "TMPDIR": folder}
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        raise RuntimeError(f"h2o-genmodel could not score the MOJO (exit code {done.returncode}): "
                           f"{lines[-1] if lines else ''}")


def spark_class(directory: str):
    """The pyspark class of the Spark ML directory, from the class its metadata names."""
    import glob
    import importlib

    part = sorted(glob.glob(os.path.join(directory, "metadata", "part-*")))[0]
    with open(part, encoding="utf-8") as handle:
        jvm_class = json.loads(handle.readline())["class"]
    module, _, name = jvm_class.replace("org.apache.spark.ml.", "pyspark.ml.").rpartition(".")
    module = module if module != "pyspark.ml" else "pyspark.ml"
    return getattr(importlib.import_module(module), name)


def predicted_labels(proba, classes: list[Any], threshold: float):
    """For two classes, the second where its probability is above ``threshold``; beyond two, the most probable."""
    import numpy as np

    labels = np.asarray(classes, dtype=object)
    if proba.shape[1] == 2:
        return np.where(proba[:, 1] > threshold, labels[1], labels[0])
    return labels[proba.argmax(axis=1)]


def conform(frame, schema: list[dict[str, Any]], features: list[str]):
    """The model's columns: numeric ones as float64, categorical ones as text, NaN where missing."""
    import pandas as pd

    if not schema:
        return frame[features]
    columns = {}
    for column in schema:
        values = frame[column["name"]]
        if column.get("kind") == "categorical":
            columns[column["name"]] = values.map(value_text, na_action="ignore").astype(object).where(
                values.notna(), float("nan"))
        else:
            columns[column["name"]] = pd.to_numeric(values.astype(object) if values.dtype == bool else values,
                                                    errors="raise").astype("float64")
    return pd.DataFrame(columns, index=frame.index)


def value_text(value: Any) -> str:
    """A category as text: ``true``/``false``, ``3`` for a whole number, ``0.5``, a string as it is."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "true" if value else "false"
    if isinstance(value, (int, float)) or hasattr(value, "dtype"):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    return str(value)
