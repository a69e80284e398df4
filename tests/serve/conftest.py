"""Fixtures of the server's tests: a store holding scikit-learn and params models that workflows trained on the
Palmer penguins (text columns with gaps, an island training never saw), the batch Score of the held-out rows
written by WriteCSV, and the app on a version of it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "workflows" / "data"
NEW_ROWS = DATA / "penguins_new.csv"

# Trains, saves and scores in one run: species-lr@1 (multiclass, alias prod) and @2 (C: 0.01), sex-rf (two classes,
# a forest), mass-params (a regression in the params format, scored with NumPy alone); each Score of the held-out
# rows is written by WriteCSV.
WORKFLOW = """
name: serve-fixture
engine: sklearn
steps:
  - {id: read, node: ReadCSV, params: {path: "${data}/penguins.csv"}}
  - {id: new, node: ReadCSV, params: {path: "${data}/penguins_new.csv"}}
  - {id: lr, node: TrainLR, inputs: {data: read}, params: {label: species}}
  - {id: lr_weak, node: TrainLR, inputs: {data: read}, params: {label: species, C: 0.01}}
  - {id: rf, node: TrainRandomForest, inputs: {data: read}, params: {label: sex, n_estimators: 15, seed: 3}}
  - {id: mass, node: TrainLinearRegression, inputs: {data: read}, params: {label: body_mass_g}}
  - {id: save_lr, node: SaveModel, inputs: {model: lr}, params: {name: species-lr, alias: prod}}
  - {id: save_lr_weak, node: SaveModel, inputs: {model: lr_weak}, params: {name: species-lr}}
  - {id: save_rf, node: SaveModel, inputs: {model: rf}, params: {name: sex-rf}}
  - {id: save_mass, node: SaveModel, inputs: {model: mass}, params: {name: mass-params, format: params}}
  - {id: score_lr, node: Score, inputs: {model: lr, data: new}}
  - {id: score_lr_weak, node: Score, inputs: {model: lr_weak, data: new}}
  - {id: score_rf, node: Score, inputs: {model: rf, data: new}}
  - {id: score_mass, node: Score, inputs: {model: mass, data: new}}
  - {id: write_lr, node: WriteCSV, inputs: {data: score_lr}, params: {path: "${out}/species-lr@1.csv"}}
  - {id: write_lr_weak, node: WriteCSV, inputs: {data: score_lr_weak}, params: {path: "${out}/species-lr@2.csv"}}
  - {id: write_rf, node: WriteCSV, inputs: {data: score_rf}, params: {path: "${out}/sex-rf@1.csv"}}
  - {id: write_mass, node: WriteCSV, inputs: {data: score_mass}, params: {path: "${out}/mass-params@1.csv"}}
"""


@dataclass
class Trained:
    store: Path
    scored: Path  # the batch Score of NEW_ROWS per version: <name>@<version>.csv

    def batch(self, version: str):
        """What Score wrote for ``version``'s predictions of the held-out rows."""
        import pandas as pd

        return pd.read_csv(self.scored / f"{version}.csv")

    def copy(self, where: Path) -> Path:
        """A copy of the store to change."""
        shutil.copytree(self.store, where)
        return where


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import load_workflow

    base = tmp_path_factory.mktemp("serve")
    (base / "train.yaml").write_text(WORKFLOW, encoding="utf-8")
    workflow = load_workflow(base / "train.yaml", {"data": str(DATA), "out": str(base / "scored")})
    result = run_workflow(workflow, ModelStore(base / "models"), reporter=Reporter(None))
    assert result.ok, result.error
    return Trained(base / "models", base / "scored")


def holder_of(store: Path, reference: str, log=None):
    from emberflow.engine.serving.holder import ModelHolder
    from emberflow.engine.store import ModelStore

    return ModelHolder(ModelStore(store), reference, log or (lambda message: None))


def client_of(holder, **options):
    """A TestClient on the app serving ``holder`` (options: limits, token, allowed_hosts, log; base_url)."""
    from emberflow.engine.serving.app import create_app
    from starlette.testclient import TestClient

    base_url = options.pop("base_url", "http://testserver")
    return TestClient(create_app(holder, **options), base_url=base_url)


@pytest.fixture(scope="session")
def lr_holder(trained: Trained):
    return holder_of(trained.store, "species-lr@1")


@pytest.fixture(scope="session")
def client(lr_holder):
    return client_of(lr_holder)


def new_rows():
    """The held-out rows as pandas reads them, missing values as None (JSON's null)."""
    import pandas as pd

    frame = pd.read_csv(NEW_ROWS)
    return frame.astype(object).where(frame.notna(), None)


def records(frame) -> list[dict]:
    return frame.to_dict(orient="records")
