"""One SparkSession for every Spark test of the session: local[2], a 1 GB driver, emberflow's quiet settings.

It is started by the first test that asks for it, and workflows run in-process use it (emberflow joins a
running session and leaves it running). Subprocess runs start their own JVM, so few tests use them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from .helpers import NodeRunner, run_text

MASTER = "local[2]"


@pytest.fixture(scope="session")
def spark():
    from emberflow.engine.engines.spark import end_jvm, launch_conf, launch_jvm, quiet_python_side
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    quiet_python_side()
    conf = {"spark.master": MASTER, "spark.app.name": "emberflow-tests",
            **launch_conf(MASTER, {"conf": {"spark.driver.memory": "1g"}})}
    launch_jvm(conf)
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    yield session
    session.stop()
    end_jvm()


@pytest.fixture
def run_spark_text(spark, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run a workflow text with the test session running, from ``tmp_path``, its store in ``tmp_path/models``."""
    monkeypatch.chdir(tmp_path)

    def run(text: str, settings: dict | None = None, **overrides):
        return run_text(text, tmp_path / "models", settings, **overrides)

    return run


@pytest.fixture
def node(spark, tmp_path: Path):
    """Run a single node on Spark: ``node(ReadCSV, path=...)``; ``node.metrics`` holds what it recorded."""
    runner = NodeRunner(tmp_path / "models")
    yield runner
    runner.close()
