"""Fixtures of the reliability tests."""

from __future__ import annotations

import pytest

from .helpers import spy_on_loads


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the formats whose ``load`` ran during the test: the deserializers that ran."""
    return spy_on_loads(monkeypatch)


@pytest.fixture(scope="session")
def h2o_session():
    """H2O through emberflow's own engine, with the H2O tests' settings: it joins the instance the H2O tests'
    fixture started if that runs already (and leaves it to them), and otherwise starts one and stops it."""
    from emberflow.engine.engines.h2o import Engine

    engine = Engine({"max_mem_size": "1G", "nthreads": 2})
    yield engine.start()
    engine.stop()


@pytest.fixture
def sessions():
    """Engine sessions for loading models in a test, stopped after it as a run stops its own."""
    from emberflow.engine.context import Sessions

    opened = Sessions()
    yield opened
    assert opened.stop_all() == []
