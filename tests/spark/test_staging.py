"""Spark ML models through a staging location (``spark: staging``), on the local test session: saved into the store
through a staged folder, loaded from a staged copy checked against the manifest, and nothing left staged."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from emberflow.engine.errors import IntegrityError, UserError
from emberflow.engine.spark_staging import STAGING_KEY, stage_for_loading, staging_root

pytestmark = pytest.mark.spark

DATA = Path(__file__).resolve().parents[2] / "workflows" / "data"

TRAIN = f"""
name: staged-train
engine: spark
steps:
  - {{id: read, node: ReadCSV, params: {{path: "{DATA / 'diabetes.csv'}"}}}}
  - {{id: train, node: TrainLR, inputs: {{data: read}}, params: {{label: class}}}}
  - {{id: save, node: SaveModel, inputs: {{model: train}}, params: {{name: staged}}}}
"""

SCORE = f"""
name: staged-score
engine: spark
steps:
  - {{id: load, node: LoadModel, params: {{name: staged}}}}
  - {{id: read, node: ReadCSV, params: {{path: "{DATA / 'diabetes_new.csv'}"}}}}
  - {{id: score, node: Score, inputs: {{model: load, data: read}}}}
  - {{id: write, node: WriteCSV, inputs: {{data: score}}, params: {{path: scored.csv}}}}
"""


def test_a_model_goes_through_staging_into_the_store_and_back(run_spark_text, spark, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch):
    from emberflow.engine import spark_staging

    staged: list[str] = []
    originals = {name: getattr(spark_staging, name) for name in ("save_staged", "stage_for_loading")}
    for name, original in originals.items():
        def spy(*args, _original=original, _name=name):
            staged.append(_name)
            return _original(*args)
        monkeypatch.setattr(spark_staging, name, spy)
    staging = tmp_path / "staging"
    staging.mkdir()
    settings = {"spark": {"staging": staging.as_uri()}}
    trained = run_spark_text(TRAIN, settings)
    assert trained.ok, trained.error
    version = tmp_path / "models" / "staged" / "1"
    manifest = json.loads((version / "manifest.json").read_text())
    assert any(rel.startswith("model/stages/") and rel.endswith(".parquet") for rel in manifest["files"])
    assert "model/metadata/_SUCCESS" in manifest["files"]
    assert any(rel.startswith("model/metadata/part-") for rel in manifest["files"])
    assert list(staging.iterdir()) == []  # the staged folder is deleted once copied

    scored = run_spark_text(SCORE, settings)
    assert scored.ok, scored.error
    with open(tmp_path / "scored.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(0.0 < float(r["probability"]) < 1.0 for r in rows)
    assert list(staging.iterdir()) == []  # the staged copy is deleted when the run ends
    assert staged == ["save_staged", "stage_for_loading"]
    assert spark.conf.get(STAGING_KEY, None) is None  # the joined session's setting is restored


def test_a_staged_copy_that_differs_from_the_manifest_is_refused_and_removed(spark, tmp_path: Path):
    model = tmp_path / "model"
    (model / "metadata").mkdir(parents=True)
    (model / "metadata" / "part-00000").write_text('{"class": "x"}\n')
    (model / "data.bin").write_bytes(b"1234")
    listed = {"model/metadata/part-00000": {"sha256": "0" * 64}, "model/data.bin": {"sha256": "0" * 64},
              "model/gone.bin": {"sha256": "0" * 64}}
    staging = tmp_path / "staging"
    staging.mkdir()
    stops: list = []
    with pytest.raises(IntegrityError) as refused:
        stage_for_loading(spark, staging.as_uri(), model, listed, "model/", stops.append)
    message = str(refused.value)
    assert "metadata/part-00000 differs" in message and "data.bin differs" in message
    assert "gone.bin missing" in message
    assert list(staging.iterdir()) == [] and stops == []


def test_a_staged_copy_that_matches_is_loaded_and_deleted_at_the_end(spark, tmp_path: Path):
    import hashlib

    model = tmp_path / "model"
    model.mkdir()
    (model / "data.bin").write_bytes(b"1234")
    listed = {"model/data.bin": {"sha256": hashlib.sha256(b"1234").hexdigest()}}
    staging = tmp_path / "staging"
    staging.mkdir()
    stops: list = []
    staged = stage_for_loading(spark, staging.as_uri(), model, listed, "model/", stops.append)
    assert (Path(staged.removeprefix("file:")) / "data.bin").read_bytes() == b"1234"
    stops.pop()()
    assert list(staging.iterdir()) == []


def fake_session(master: str, staging: str | None = None):
    return SimpleNamespace(conf=SimpleNamespace(get=lambda key, default=None: staging if key == STAGING_KEY
                                                else default), sparkContext=SimpleNamespace(master=master))


def test_a_cluster_master_without_staging_is_one_error_naming_the_setting():
    with pytest.raises(UserError, match=r"saving a Spark model on master spark://10\.0\.0\.1:7077 needs a "
                                        r"staging location.*spark: staging:.*--spark-staging"):
        staging_root(fake_session("spark://10.0.0.1:7077"), "saving")
    assert staging_root(fake_session("local[2]"), "loading") is None
    assert staging_root(fake_session("yarn", "hdfs://nn/tmp/ef/"), "loading") == "hdfs://nn/tmp/ef"
    with pytest.raises(UserError, match="relative path"):
        staging_root(fake_session("yarn", "tmp/ef"), "loading")


def test_a_staging_location_that_cannot_be_written_is_one_line_and_saves_nothing(run_spark_text, spark,
                                                                                 tmp_path: Path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the staging folder should be")
    failed = run_spark_text(TRAIN, {"spark": {"staging": (blocked / "staging").as_uri()}})
    assert not failed.ok
    message = str(failed.error)
    assert f"saving the Spark model through the staging location {(blocked / 'staging').as_uri()} failed: " \
        in message and "--spark-staging" in message and "\n" not in message
    assert not any(p.name.isdigit() for p in (tmp_path / "models" / "staged").iterdir())
    assert [p.name for p in (tmp_path / "models" / "staged").iterdir() if not p.name.startswith(".lock")] == []
