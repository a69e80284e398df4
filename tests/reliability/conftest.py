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
