"""Fixtures of the reliability tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every format's ``load`` records its name here when called: the deserializers that ran."""
    calls: list[str] = []
    from emberflow.engine.formats import all_formats

    for fmt in all_formats():
        original = type(fmt).load

        def spy(self, *args, _original=original, **kwargs):
            calls.append(self.name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(type(fmt), "load", spy)
    return calls


@pytest.fixture(scope="session")
def spark_session():
    """A SparkSession through emberflow's own engine, with the Spark tests' settings: it joins the session the
    Spark tests' fixture started if that runs already, and otherwise starts the one both then use."""
    from emberflow.engine.engines.spark import Engine

    engine = Engine({"master": "local[2]", "app_name": "emberflow-tests",
                     "conf": {"spark.driver.memory": "1g"}})
    yield engine.start()
    engine.stop()


@pytest.fixture(scope="session")
def h2o_session():
    """H2O through emberflow's own engine, with the H2O tests' settings: it joins the instance the H2O tests'
    fixture started if that runs already (and leaves it to them), and otherwise starts one and stops it."""
    from emberflow.engine.engines.h2o import Engine

    engine = Engine({"max_mem_size": "1G", "nthreads": 2})
    yield engine.start()
    engine.stop()
