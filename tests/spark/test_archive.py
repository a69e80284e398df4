"""A Spark ML directory (many files, folders within folders) survives `models download` and `models import` into
another store, and the imported version loads and scores there."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.spark


def test_download_import_verify_and_score_a_spark_model(spark, cli, project: Path):
    assert cli("run", "workflows/train_spark.yaml", "--quiet").code == 0
    source = project / "models" / "diabetes-spark-lr" / "1"
    listed = json.loads((source / "manifest.json").read_text())["files"]
    assert sum("/" in rel for rel in listed) >= 5, "a Spark ML directory nests its files"

    archive = project / "spark-model.zip"
    assert cli("models", "download", "diabetes-spark-lr@1", "-o", archive).code == 0
    with zipfile.ZipFile(archive) as zipped:
        members = {name.split("/", 1)[1] for name in zipped.namelist() if not name.endswith("/")}
    assert members == set(listed) | {"manifest.json"}

    other = project / "other-store"
    imported = cli("models", "import", archive, "--store", other)
    assert imported.code == 0, imported.err
    assert cli("models", "verify", "diabetes-spark-lr", "--store", other).code == 0

    scored = cli("run", "workflows/score_spark.yaml", "--store", other, "--json")
    assert scored.code == 0, scored.err
    assert scored.json()["metrics"]["score"]["rows"] > 0
