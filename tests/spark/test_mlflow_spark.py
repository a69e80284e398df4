"""MLflow interop of Spark models: an exported PipelineModel predicts through MLflow's pyfunc as Score does on
Spark (the class, not the label index that MLflow's own Spark pyfunc returns), and a PipelineModel that
``mlflow.spark.save_model`` wrote imports as a store version that LoadModel and Score use on Spark."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "workflows" / "data"

TRAIN = """
name: mlflow-spark
engine: spark
steps:
  - {id: read, node: ReadCSV, params: {path: "DATA/penguins.csv"}}
  - {id: new, node: ReadCSV, params: {path: "DATA/penguins_new.csv"}}
  - {id: lr, node: TrainLR, inputs: {data: read}, params: {label: species}}
  - {id: save, node: SaveModel, inputs: {model: lr}, params: {name: species-spark}}
  - {id: score, node: Score, inputs: {model: lr, data: new}}
  - {id: write, node: WriteCSV, inputs: {data: score}, params: {path: scored.csv}}
"""

SCORE_IMPORTED = """
name: score-imported
engine: spark
steps:
  - {id: new, node: ReadCSV, params: {path: "DATA/penguins_new.csv"}}
  - {id: whole, node: DropMissing, inputs: {data: new},
     params: {columns: [bill_length_mm, bill_depth_mm, flipper_length_mm]}}
  - {id: load, node: LoadModel, params: {name: imported}}
  - {id: score, node: Score, inputs: {model: load, data: whole}}
  - {id: write, node: WriteCSV, inputs: {data: score}, params: {path: imported.csv}}
"""


def test_export_predicts_the_class_as_score(run_spark_text, tmp_path: Path, cli):
    import mlflow.pyfunc

    result = run_spark_text(TRAIN.replace("DATA", str(DATA)))
    assert result.ok, result.error
    target = tmp_path / "exported"
    exported = cli("models", "export", "species-spark", "--format", "mlflow", "-o", target,
                   "--store", tmp_path / "models")
    assert exported.code == 0, exported.err
    rows = pd.read_csv(DATA / "penguins_new.csv").drop(columns="species")
    loaded = mlflow.pyfunc.load_model(str(target))
    expected = pd.read_csv(tmp_path / "scored.csv")["prediction"]
    assert list(loaded.predict(rows)) == list(expected)
    # One row whose sex is missing, as MLflow's server parses it from JSON (object columns): a column of nulls.
    alone = int(rows["sex"].isna().to_numpy().nonzero()[0][0])
    one = rows.iloc[[alone]].astype(object).where(rows.iloc[[alone]].notna(), None)
    assert list(loaded.predict(one)) == [expected[alone]]
    assert set(expected) <= {"Adelie", "Chinstrap", "Gentoo"}
    (flavor,) = [v for k, v in __import__("yaml").safe_load((target / "MLmodel").read_text())["flavors"].items()
                 if k == "spark"]
    assert flavor["model_data"] == "sparkml" and (target / "sparkml" / "metadata").is_dir()


def test_import_of_what_mlflow_spark_saved(run_spark_text, spark, tmp_path: Path, cli):
    import mlflow.spark
    from mlflow.models import infer_signature
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import VectorAssembler

    numbers = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]
    train = spark.createDataFrame(pd.read_csv(DATA / "penguins.csv").dropna(subset=numbers)[[*numbers, "sex"]]
                                  .assign(label=lambda f: (f["sex"] == "male").astype(float)).drop(columns="sex"))
    fitted = Pipeline(stages=[VectorAssembler(inputCols=numbers, outputCol="features"),
                              LogisticRegression()]).fit(train)
    saved = tmp_path / "saved"
    rows = train.select(*numbers).limit(5).toPandas()
    mlflow.spark.save_model(fitted, str(saved), signature=infer_signature(rows, pd.Series([0.0] * 5)),
                            pip_requirements=["pyspark"])
    result = cli("models", "import", saved, "--name", "imported", "--store", tmp_path / "models")
    assert result.code == 0, result.err
    manifest = json.loads((tmp_path / "models" / "imported" / "1" / "manifest.json").read_text())
    assert manifest["format"] == "spark-ml" and manifest["source"]["flavor"] == "spark"
    assert manifest["libraries"]["pyspark"] == spark.version and manifest["task"] == "classification"
    assert manifest["features"] == [{"name": n, "dtype": "float64"} for n in numbers]
    assert cli("models", "verify", "imported", "--store", tmp_path / "models").code == 0
    scored = run_spark_text(SCORE_IMPORTED.replace("DATA", str(DATA)))
    assert scored.ok, scored.error
    new = pd.read_csv(DATA / "penguins_new.csv").dropna(subset=numbers)
    expected = fitted.transform(spark.createDataFrame(new[numbers])).toPandas()["prediction"]
    got = pd.read_csv(tmp_path / "imported.csv")["prediction"]
    assert list(got) == list(expected)
