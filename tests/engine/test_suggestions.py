""""Did you mean": a name typed in another case or with a typo is answered with the name that exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from emberflow.engine.errors import ModelNotFound
from emberflow.engine.store import ModelStore
from emberflow.engine.suggest import close_match, did_you_mean


@pytest.mark.parametrize("word, options, expected", [
    ("readcsv", ["ReadCSV", "WriteCSV"], "ReadCSV"),
    ("ReadCsv", ["ReadCSV", "WriteCSV"], "ReadCSV"),
    ("Class", ["preg", "class"], "class"),
    ("clas", ["preg", "class"], "class"),
    ("zzz", ["preg", "class"], None),
    ("class", ["class"], None),
    (3, ["3x", "y"], "3x"),
])
def test_close_match_ignores_case(word, options, expected):
    assert close_match(word, options) == expected
    assert did_you_mean(word, options) == ("" if expected is None else f" (did you mean '{expected}'?)")


def save(store: ModelStore, name: str) -> None:
    def write(folder: Path) -> dict:
        (folder / "model.bin").write_bytes(b"x")
        return {"format": "test"}

    store.save(name, write)


@pytest.mark.parametrize("ref, fragments", [
    ("Diabetes-LR", ["no model 'Diabetes-LR' in the store at ",
                     " (did you mean 'diabetes-lr'?) (models: diabetes-lr)"]),
    ("diabetes-l", ["(did you mean 'diabetes-lr'?)"]),
    ("diabetes-lr@Prod", ["model 'diabetes-lr' has no alias 'Prod' (did you mean 'prod'?); aliases: prod=1"]),
])
def test_an_unknown_model_or_alias_names_the_close_one(tmp_path: Path, ref: str, fragments: list[str]):
    store = ModelStore(tmp_path)
    save(store, "diabetes-lr")
    store.set_alias("diabetes-lr", 1, "prod")
    with pytest.raises(ModelNotFound) as raised:
        store.resolve(ref)
    for fragment in fragments:
        assert fragment in str(raised.value)
