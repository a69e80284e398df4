"""The served version: verified before serving, refused when its engine cannot serve, and an alias followed as
it moves (requests in flight finishing on the old version, a failed load keeping it)."""

from __future__ import annotations

import json
import re

import pytest
from emberflow.engine.errors import IntegrityError, UserError
from emberflow.engine.store import ModelStore

from .conftest import holder_of, new_rows

ROWS = new_rows().head(8)


def probabilities(served):
    return served.predict(ROWS).proba.tolist()


def test_an_alias_is_followed_when_it_moves(trained, tmp_path):
    store = trained.copy(tmp_path / "models")
    log: list[str] = []
    holder = holder_of(store, "species-lr@prod", log.append)
    in_flight = holder.current  # what a request that started before the move holds
    assert in_flight.ref.version == 1 and holder.refresh() is False  # nothing changed: nothing loaded
    ModelStore(store).set_alias("species-lr", 2, "prod")
    assert holder.refresh() is True
    assert holder.current.ref.version == 2
    assert log == ["alias 'prod' moved: now serving species-lr@2 (was species-lr@1)"]
    assert probabilities(in_flight) != probabilities(holder.current)  # the old one still scores, as before
    assert probabilities(in_flight) == probabilities(holder_of(trained.store, "species-lr@1").current)


def test_a_version_that_fails_to_load_keeps_the_old_one_serving(trained, tmp_path):
    store = trained.copy(tmp_path / "models")
    with open(store / "species-lr" / "2" / "model.joblib", "ab") as damaged:
        damaged.write(b"\0")
    log: list[str] = []
    holder = holder_of(store, "species-lr@prod", log.append)
    ModelStore(store).set_alias("species-lr", 2, "prod")
    assert holder.refresh() is False and holder.current.ref.version == 1
    assert len(log) == 1 and log[0].startswith("alias 'prod' changed, and model species-lr@2 does not match its "
                                               "manifest") and log[0].endswith("; still serving species-lr@1")
    assert holder.refresh() is False and len(log) == 1  # tried again only when the aliases change again
    (store / "species-lr" / "aliases.json").write_text("{broken", encoding="utf-8")
    assert holder.refresh() is False and holder.current.ref.version == 1
    assert "aliases.json is not readable JSON" in log[1] and "still serving species-lr@1" in log[1]


def test_a_version_number_or_the_latest_is_not_followed(trained, tmp_path):
    store = trained.copy(tmp_path / "models")
    pinned, latest = holder_of(store, "species-lr@1"), holder_of(store, "species-lr")
    ModelStore(store).set_alias("species-lr", 2, "prod")
    assert (pinned.alias, latest.alias) == (None, None)
    assert pinned.refresh() is False and latest.refresh() is False and latest.current.ref.version == 2


def test_the_version_is_verified_before_it_is_served(trained, tmp_path, monkeypatch):
    store = trained.copy(tmp_path / "models")
    with open(store / "sex-rf" / "1" / "model.joblib", "ab") as damaged:
        damaged.write(b"\0")
    with pytest.raises(IntegrityError, match="model sex-rf@1 does not match its manifest, refusing to load it"):
        holder_of(store, "sex-rf@1")
    monkeypatch.setenv("EMBERFLOW_SIGNING_KEY", "a key")
    with pytest.raises(IntegrityError, match="not signed"):
        holder_of(store, "species-lr@1")


def test_the_version_gate_runs_and_its_warnings_are_logged(trained, tmp_path):
    store = trained.copy(tmp_path / "models")
    manifest_path = store / "mass-params" / "1" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["libraries"]["numpy"] = "1.0.0"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    log: list[str] = []
    holder = holder_of(store, "mass-params@1", log.append)
    assert holder.current.model.engine == "portable"
    assert any("model saved with numpy 1.0.0, running numpy" in line for line in log)


@pytest.mark.parametrize(("fmt", "h2o", "says"), [
    ("h2o-binary", {"binary": "model.h2o"}, "is an H2O model saved without a MOJO (format h2o-binary), and emberflow "
                                            "serve scores H2O models through their MOJO"),
    ("h2o", {"binary": "model.h2o", "mojo": None, "mojo_refused": "Export to MOJO not supported"},
     "is an H2O model saved without a MOJO (format h2o: H2O refused to export one: Export to MOJO not supported)"),
])
def test_h2o_models_without_a_mojo_are_refused_before_loading(tmp_path, fmt, h2o, says, loads):
    store = ModelStore(tmp_path / "models")

    def write(folder):
        (folder / "model.h2o").write_text("not read", encoding="utf-8")
        return {"format": fmt, "engine": "h2o", "features": [{"name": "x"}], "h2o": h2o}

    store.save("engine-bound", write)
    with pytest.raises(UserError, match=re.escape(f"engine-bound@1 {says}")):
        holder_of(store.root, "engine-bound")
    assert loads == []  # refused from the manifest: nothing deserialized, no session started
