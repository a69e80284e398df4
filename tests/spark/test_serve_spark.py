"""emberflow serve on Spark ML models: a local Spark session (here the test session's), the PipelineModel loaded
once, each request a small Spark frame. Models trained on Spark from the penguins (text with gaps, an island
training never saw); the server's predictions equal batch Score's on Spark for the same rows, all at once and
one row per request."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from emberflow.engine.serving.spark import LOCAL_ROWS

DATA = Path(__file__).resolve().parent.parent.parent / "workflows" / "data"
NEW_ROWS = DATA / "penguins_new.csv"
MODELS = ("species-lr", "sex-lr", "mass-linear")

WORKFLOW = """
name: serve-spark
engine: spark
steps:
  - {{id: read, node: ReadCSV, params: {{path: "{data}/penguins.csv"}}}}
  - {{id: new, node: ReadCSV, params: {{path: "{data}/penguins_new.csv"}}}}
  - {{id: species-lr, node: TrainLR, inputs: {{data: read}}, params: {{label: species}}}}
  - {{id: sex-lr, node: TrainLR, inputs: {{data: read}}, params: {{label: sex, threshold: 0.4}}}}
  - {{id: mass-linear, node: TrainLinearRegression, inputs: {{data: read}}, params: {{label: body_mass_g}}}}
"""
PER_MODEL = """
  - {{id: save_{m}, node: SaveModel, inputs: {{model: {m}}}, params: {{name: {m}}}}}
  - {{id: score_{m}, node: Score, inputs: {{model: {m}, data: new}}}}
  - {{id: write_{m}, node: WriteCSV, inputs: {{data: score_{m}}}, params: {{path: "{out}/{m}.csv"}}}}
"""


@pytest.fixture(scope="module")
def served(spark, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding the store (models/) and each model's batch Score on Spark (NAME.csv)."""
    from .helpers import run_text

    folder = tmp_path_factory.mktemp("serve-spark")
    text = WORKFLOW.format(data=DATA) + "".join(PER_MODEL.format(m=name, out=folder) for name in MODELS)
    result = run_text(text, folder / "models")
    assert result.ok, result.error
    return folder


def client_of(store: Path, version: str):
    from emberflow.engine.serving.app import create_app
    from emberflow.engine.serving.holder import ModelHolder
    from emberflow.engine.store import ModelStore
    from starlette.testclient import TestClient

    holder = ModelHolder(ModelStore(store), version, lambda message: None)
    return holder, TestClient(create_app(holder))


def rows() -> pd.DataFrame:
    frame = pd.read_csv(NEW_ROWS)
    return frame.astype(object).where(frame.notna(), None)


def ask(client, frame: pd.DataFrame) -> dict:
    response = client.post("/invocations", json={"dataframe_records": frame.to_dict(orient="records"),
                                                 "params": {"probabilities": True}})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("name", MODELS)
def test_served_spark_model_predicts_as_score_on_spark(served: Path, name: str):
    holder, client = client_of(served / "models", f"{name}@1")
    assert holder.current.model.engine == "spark"
    batch = pd.read_csv(served / f"{name}.csv")
    answer = ask(client, rows())
    if name.startswith("mass"):
        assert "probabilities" not in answer
        np.testing.assert_allclose(answer["predictions"], batch["prediction"], rtol=1e-12, atol=0)
        for chosen in ([0], list(range(LOCAL_ROWS))):
            got = ask(client, rows().iloc[chosen])["predictions"]
            np.testing.assert_allclose(got, batch["prediction"][chosen], rtol=1e-12, atol=0)
        return
    assert answer["predictions"] == batch["prediction"].tolist()
    got = np.asarray(answer["probabilities"])
    assert answer["classes"] == sorted(answer["classes"]) and np.allclose(got.sum(axis=1), 1)
    columns = [c for c in batch.columns if c.startswith("probability")]
    np.testing.assert_allclose(got[:, -1:] if len(columns) == 1 else got, batch[columns], rtol=1e-12, atol=0)
    local = LOCAL_ROWS  # requests of up to this many rows go to Spark as a local relation, larger ones as an RDD
    for chosen in ([0], [len(batch) - 1], list(range(local)), list(range(local + 1))):
        part = ask(client, rows().iloc[chosen])
        assert part["predictions"] == batch["prediction"][chosen].tolist()
        got = np.asarray(part["probabilities"])
        expected = batch[columns].to_numpy()[chosen]
        np.testing.assert_allclose(got[:, -1:] if len(columns) == 1 else got, expected, rtol=1e-12, atol=0)


def test_bad_rows_are_a_400_naming_the_column(served: Path):
    _, client = client_of(served / "models", "mass-linear@1")
    bad = rows().head(2)
    bad.loc[1, "bill_length_mm"] = "long"
    response = client.post("/invocations", json={"dataframe_records": bad.to_dict(orient="records")})
    assert response.status_code == 400
    assert "bill_length_mm" in response.json()["message"] and "row 2" in response.json()["message"]
