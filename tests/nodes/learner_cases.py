"""The trainers' conformance matrix, shared by the engines' tests: algorithm x engine x format.

One workflow text, with ``engine: "${engine}"``, trains every algorithm an engine has on the same raw data (text
and boolean columns, integer codes, gaps in numbers and in categories, rows without a label), saves each model,
and scores rows that hold a category no training row had and missing values; a second workflow, run in a new
process, loads each saved model and scores the same rows again. Each engine's test then checks:

- the reloaded model scores exactly as the trained one did;
- the engines agree with scikit-learn on the same data: forests and boosted trees within 0.03 of its accuracy
  (or R^2), linear models within 1e-3 of its probabilities or predictions where the objective is the same
  (no regularization, mean imputation), on the rows whose categories training saw: without a penalty, a full
  one-hot encoding and an intercept leave an unseen category's prediction to each solver (and H2O's GLM gives
  it the most frequent level);
- the refusals say what is wrong (see ``REFUSALS``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FEATURES = ["x1", "x2", "size", "color", "member", "code"]
SCORED = "scored_{case}.csv"
TRAIN_ROWS = 1000
TEST_ROWS = 500
RESCORED = "rescored_{case}.csv"


class Case:
    """One trainer on one task: ``node`` with ``params`` predicting ``label``."""

    def __init__(self, name: str, node: str, label: str, task: str, params: dict[str, Any] | None = None,
                 engines: tuple[str, ...] = ("sklearn", "spark", "h2o"), agreement: str = "accuracy"):
        self.name, self.node, self.label, self.task = name, node, label, task
        self.params, self.engines, self.agreement = params or {}, engines, agreement

    def __repr__(self) -> str:
        return self.name


CASES = [
    Case("lr", "TrainLR", "label", "classification", {"regParam": 0, "impute": "mean"}, agreement="linear"),
    Case("lr_multiclass", "TrainLR", "species", "classification", {"impute": "mean"}),
    Case("rf", "TrainRandomForest", "label", "classification", {"seed": 3, "n_estimators": 30}),
    Case("rf_regression", "TrainRandomForest", "target", "regression", {"seed": 3, "n_estimators": 30},
         agreement="r2"),
    Case("gbt", "TrainGBT", "label", "classification", {"seed": 3, "n_estimators": 15, "learning_rate": 0.3}),
    Case("gbt_regression", "TrainGBT", "target", "regression", {"seed": 3, "n_estimators": 15,
                                                                 "learning_rate": 0.3}, agreement="r2"),
    Case("linear", "TrainLinearRegression", "target", "regression", {"impute": "mean"}, agreement="linear"),
    Case("knn", "TrainKNN", "label", "classification", {"n_neighbors": 7}, engines=("sklearn",)),
]


def cases_for(engine: str) -> list[Case]:
    return [case for case in CASES if engine in case.engines]


def frame(rows: int, seed: int) -> pd.DataFrame:
    """Raw rows: two numbers with gaps, a count, a text column with gaps, a boolean, integer codes; a binary
    label clear enough for every engine to learn alike, a three-class one and a continuous target."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    size = rng.integers(1, 6, size=rows)
    color = rng.choice(["red", "green", "blue"], size=rows)
    member = rng.choice([True, False], size=rows)
    code = rng.integers(0, 3, size=rows)
    signal = 2.0 * x1 - 1.5 * x2 + 1.2 * (color == "red") - 0.8 * member + 0.5 * (code == 2)
    data = pd.DataFrame({
        "x1": x1, "x2": x2, "size": size, "color": color.astype(object), "member": member, "code": code,
        "label": np.where(signal + rng.normal(scale=0.5, size=rows) > 0, "yes", "no").astype(object),
        "species": np.select([signal < -1, signal < 1], ["adelie", "gentoo"], "chinstrap").astype(object),
        "target": signal * 3 + 0.3 * size + rng.normal(scale=0.5, size=rows),
    })
    data.loc[data.index % 11 == 0, "x1"] = np.nan
    data.loc[data.index % 13 == 0, "color"] = None
    return data


def write_data(folder: Path) -> None:
    """train.csv (with two rows whose labels are missing), test.csv (with an unseen color and gaps) and
    unlabelled.csv, its rows without the labels (rescoring them computes no metrics)."""
    train, test = frame(TRAIN_ROWS, 0), frame(TEST_ROWS, 1)
    train.loc[[5, 17], ["label", "species"]] = None
    train.loc[[5, 17], "target"] = np.nan
    test.loc[[0, 1], "color"] = "purple"
    test.loc[2, "x2"] = np.nan
    test.loc[3, "color"] = None
    train.to_csv(folder / "train.csv", index=False)
    test.to_csv(folder / "test.csv", index=False)
    test.drop(columns=["label", "species", "target"]).to_csv(folder / "unlabelled.csv", index=False)


def train_workflow(engine: str, cases: list[Case] | None = None) -> str:
    """Train, save and score every case of ``engine``, the file naming the engine only through its var."""
    steps = ["  - {id: train_data, node: ReadCSV, params: {path: train.csv}}",
             "  - {id: test_data, node: ReadCSV, params: {path: test.csv}}"]
    for case in cases or cases_for(engine):
        params = {"label": case.label, "features": FEATURES, "categorical": ["code"], **case.params}
        steps += [
            f"  - {{id: train_{case.name}, node: {case.node}, inputs: {{data: train_data}}, "
            f"params: {json.dumps(params)}}}",
            f"  - {{id: save_{case.name}, node: SaveModel, inputs: {{model: train_{case.name}}}, "
            f"params: {{name: {case.name}}}}}",
            f"  - {{id: score_{case.name}, node: Score, inputs: {{model: train_{case.name}, data: test_data}}}}",
            f"  - {{id: write_{case.name}, node: WriteCSV, inputs: {{data: score_{case.name}}}, "
            f"params: {{path: {SCORED.format(case=case.name)}}}}}",
        ]
    return "name: conformance\nvars: {engine: sklearn}\nengine: \"${engine}\"\nsteps:\n" + "\n".join(steps) + "\n"


def params_workflows(engine: str, cases: list[tuple[str, str, str, dict[str, Any]]]) -> tuple[str, str]:
    """Two workflow texts: ``engine`` trains, saves with ``format: params`` and scores each ``(case, node, label,
    params)``, writing ``<engine>_<case>.csv``; the sklearn engine loads each and scores again, writing
    ``pandas_<case>.csv``."""
    train = ["  - {id: train_data, node: ReadCSV, params: {path: train.csv}}",
             "  - {id: test_data, node: ReadCSV, params: {path: test.csv}}"]
    score = ["  - {id: test_data, node: ReadCSV, params: {path: test.csv}}"]
    for case, node, label, params in cases:
        given = json.dumps({"label": label, "features": FEATURES, "categorical": ["code"], **params})
        train += [f"  - {{id: {case}, node: {node}, inputs: {{data: train_data}}, params: {given}}}",
                  f"  - {{id: save_{case}, node: SaveModel, inputs: {{model: {case}}}, "
                  f"params: {{name: {case}, format: params}}}}",
                  f"  - {{id: score_{case}, node: Score, inputs: {{model: {case}, data: test_data}}}}",
                  f"  - {{id: write_{case}, node: WriteCSV, inputs: {{data: score_{case}}}, "
                  f"params: {{path: {engine}_{case}.csv}}}}"]
        score += [f"  - {{id: load_{case}, node: LoadModel, params: {{name: {case}}}}}",
                  f"  - {{id: score_{case}, node: Score, inputs: {{model: load_{case}, data: test_data}}}}",
                  f"  - {{id: write_{case}, node: WriteCSV, inputs: {{data: score_{case}}}, "
                  f"params: {{path: pandas_{case}.csv}}}}"]
    return (f"name: train\nengine: {engine}\nsteps:\n" + "\n".join(train) + "\n",
            "name: score\nsteps:\n" + "\n".join(score) + "\n")


def rescore_workflow(engine: str, cases: list[Case] | None = None) -> str:
    """Load each saved model and score the test rows again (without their labels: no metrics)."""
    steps = ["  - {id: test_data, node: ReadCSV, params: {path: unlabelled.csv}}"]
    for case in cases or cases_for(engine):
        steps += [
            f"  - {{id: load_{case.name}, node: LoadModel, params: {{name: {case.name}}}}}",
            f"  - {{id: score_{case.name}, node: Score, inputs: {{model: load_{case.name}, data: test_data}}}}",
            f"  - {{id: write_{case.name}, node: WriteCSV, inputs: {{data: score_{case.name}}}, "
            f"params: {{path: {RESCORED.format(case=case.name)}}}}}",
        ]
    return "name: rescore\nvars: {engine: sklearn}\nengine: \"${engine}\"\nsteps:\n" + "\n".join(steps) + "\n"


def outputs(case: Case) -> list[str]:
    """The columns Score adds for the case."""
    if case.task == "regression":
        return ["prediction"]
    if case.label == "species":
        return ["prediction", "probability_adelie", "probability_chinstrap", "probability_gentoo"]
    return ["prediction", "probability"]


def assert_rescored_alike(folder: Path, case: Case) -> None:
    """The model loaded in a new process scores the test rows as the trained one did."""
    scored = pd.read_csv(folder / SCORED.format(case=case.name))
    rescored = pd.read_csv(folder / RESCORED.format(case=case.name))
    assert len(scored) == len(rescored) == TEST_ROWS, case
    for column in outputs(case):
        if column == "prediction" and case.task == "classification":
            assert scored[column].tolist() == rescored[column].tolist(), case
        else:
            np.testing.assert_allclose(rescored[column], scored[column], rtol=0, atol=1e-9, err_msg=str(case))


def assert_agrees_with_sklearn(engine_metrics: dict[str, Any], sklearn_metrics: dict[str, Any], case: Case,
                               folder: Path, sklearn_folder: Path) -> None:
    """The engine's test metrics (and, for linear models, its predictions) against scikit-learn's."""
    if case.agreement == "linear":
        ours = pd.read_csv(folder / SCORED.format(case=case.name))
        theirs = pd.read_csv(sklearn_folder / SCORED.format(case=case.name))
        column = "prediction" if case.task == "regression" else "probability"
        seen = ours["color"].isna() | ours["color"].isin(["red", "green", "blue"])
        np.testing.assert_allclose(ours[column][seen], theirs[column][seen], rtol=0, atol=1e-3, err_msg=str(case))
    elif case.agreement == "r2":
        assert abs(engine_metrics["r2"] - sklearn_metrics["r2"]) <= 0.03, (case, engine_metrics, sklearn_metrics)
    else:
        assert abs(engine_metrics["accuracy"] - sklearn_metrics["accuracy"]) <= 0.03, (
            case, engine_metrics, sklearn_metrics)


def check_scored_rows(folder: Path, case: Case) -> None:
    """Every test row has a prediction, the unseen category and the gaps included."""
    scored = pd.read_csv(folder / SCORED.format(case=case.name))
    assert scored["prediction"].notna().all(), case
    if case.task == "classification":
        assert set(scored["prediction"]) <= {"yes", "no", "adelie", "gentoo", "chinstrap"}, case


REFUSALS = [
    # (what, workflow params of a TrainLR step on train.csv, words the one-line error holds)
    ("a label that is not there", {"label": "labl"}, ["no label column 'labl'", "did you mean 'label'"]),
    ("a continuous label for a classifier", {"label": "target"}, ["holds more than 20 distinct numbers",
                                                                  "TrainLinearRegression"]),
    ("a feature that is not there", {"label": "label", "features": ["x1", "colour"]},
     ["feature columns ['colour']", "'color'"]),
    ("impute none with gaps", {"label": "label", "impute": "none", "features": ["x1", "x2"]},
     ["['x1'] have missing values and impute is none", "DropMissing step (columns: [x1])"]),
]
