"""A served linear pipeline prepares its rows with NumPy (``engine.numpy_preparation``) and answers exactly what
the pipeline itself does, as Score would, for one row, a few and many; a forest, and a preparation that does not
agree with the pipeline on the probe rows, keep the pipeline."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from emberflow.engine import predictor
from emberflow.engine.errors import DataError
from emberflow.engine.numpy_preparation import numpy_preparation

from .conftest import DATA, holder_of, new_rows

# Two classes with a threshold (and mean imputing), unseen categories refused, and a regression pipeline.
WORKFLOW = """
name: numpy-preparation
engine: sklearn
steps:
  - {id: read, node: ReadCSV, params: {path: "${data}/penguins.csv"}}
  - {id: sex, node: TrainLR, inputs: {data: read}, params: {label: sex, threshold: 0.3, impute: mean}}
  - {id: strict, node: TrainLR, inputs: {data: read}, params: {label: species, unknown_category: error}}
  - {id: mass, node: TrainLinearRegression, inputs: {data: read}, params: {label: body_mass_g}}
  - {id: save_sex, node: SaveModel, inputs: {model: sex}, params: {name: sex-lr}}
  - {id: save_strict, node: SaveModel, inputs: {model: strict}, params: {name: species-strict}}
  - {id: save_mass, node: SaveModel, inputs: {model: mass}, params: {name: mass-lr, format: joblib}}
"""


@pytest.fixture(scope="module")
def store(trained, tmp_path_factory):
    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import load_workflow

    base = tmp_path_factory.mktemp("numpy-preparation")
    root = trained.copy(base / "models")
    (base / "train.yaml").write_text(WORKFLOW, encoding="utf-8")
    result = run_workflow(load_workflow(base / "train.yaml", {"data": str(DATA)}), ModelStore(root),
                          reporter=Reporter(None))
    assert result.ok, result.error
    return root


def rows() -> pd.DataFrame:
    """The held-out rows (gaps in text and numbers, an island training never saw), a row of gaps only and a row
    of categories no training saw, then all of them again until there are more than conform's value by value
    limit."""
    frame = new_rows()
    odd = pd.DataFrame([{c: None for c in frame.columns},
                        {**frame.iloc[0].to_dict(), "island": "Atlantis", "sex": "unknown"}])
    frame = pd.concat([frame, odd], ignore_index=True)
    return frame.iloc[np.arange(predictor.FEW_VALUES + 5) % len(frame)].reset_index(drop=True)


def assert_same(model, frame) -> None:
    fast = predictor.predict(model, frame)
    slow = predictor.predict(dataclasses.replace(model, numpy_preparation=None), frame)
    assert np.array_equal(fast.values, slow.values) and fast.classes == slow.classes
    assert (fast.proba is None and slow.proba is None) or np.array_equal(fast.proba, slow.proba)


@pytest.mark.parametrize("reference", ["species-lr@1", "species-lr@2", "sex-lr", "mass-lr"])
def test_a_linear_pipeline_prepares_with_numpy_and_answers_as_the_pipeline(store, reference):
    model = holder_of(store, reference).current.model
    assert model.numpy_preparation is not None
    every = rows()
    for row in range(len(every)):  # one row a request
        assert_same(model, every.iloc[[row]])
    assert_same(model, every.head(7))
    assert_same(model, every)  # beyond FEW_VALUES: conformed column by column


def test_the_threshold_decides_two_classes_on_the_numpy_path(store):
    model = holder_of(store, "sex-lr").current.model
    found = predictor.predict(model, rows())
    assert model.params["threshold"] == 0.3
    assert np.array_equal(found.values, np.where(found.proba[:, 1] > 0.3, found.classes[1], found.classes[0]))
    assert ((found.proba[:, 1] > 0.3) & (found.proba[:, 1] <= 0.5)).any()  # rows the threshold moves


def test_an_unseen_category_is_refused_as_score_refuses_it(store):
    model = holder_of(store, "species-strict").current.model
    assert model.numpy_preparation is not None
    unseen = new_rows().head(3).assign(island=["Dream", "Atlantis", "Biscoe"])
    with pytest.raises(DataError, match="'Atlantis' in row 2"):
        predictor.predict(model, unseen)


def test_a_forest_keeps_the_pipeline(store):
    assert holder_of(store, "sex-rf").current.model.numpy_preparation is None


def test_a_preparation_that_disagrees_on_the_probe_keeps_the_pipeline(store, monkeypatch):
    from emberflow.engine.formats import sklearn as formats

    real = formats.linear_spec

    def shifted(model):
        linear = real(model)
        first = next(i for i in linear.inputs if getattr(i, "center", None) is not None)
        first.center += 1e-9  # a scaler's mean a little off: the columns differ
        return linear

    monkeypatch.setattr(formats, "linear_spec", shifted)
    logged: list[str] = []
    model = holder_of(store, "species-lr@1", logged.append).current.model
    assert model.numpy_preparation is None and "did not give the pipeline's answers" in logged[0]
    monkeypatch.undo()
    assert numpy_preparation(dataclasses.replace(model, numpy_preparation=None)) is not None
