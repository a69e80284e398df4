"""Fixtures of the reliability tests."""

from __future__ import annotations

import pytest

from .helpers import spy_on_loads


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the formats whose ``load`` ran during the test: the deserializers that ran."""
    return spy_on_loads(monkeypatch)


@pytest.fixture
def sessions():
    """Engine sessions for loading models in a test, stopped after it as a run stops its own."""
    from emberflow.engine.context import Sessions

    opened = Sessions()
    yield opened
    assert opened.stop_all() == []
