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


WORKFLOW = """name: s
steps:
  - {id: read, node: ReadCSV, params: {path: a.csv}}
  - {id: split, node: SplitData, inputs: {data: read}}
  - {id: train, node: TrainLR, inputs: {data: split.train}, params: {label: y}}
"""


@pytest.mark.parametrize("old, new, hint", [
    ("node: ReadCSV", "node: READCSV", "unknown node 'READCSV' (did you mean 'ReadCSV'?)"),
    ("{label: y}", "{LABEL: y}", "unknown parameter 'LABEL' for TrainLR (did you mean 'label'?)"),
    ("split.train", "split.Train", "has no output 'Train' (did you mean 'train'?)"),
    ("inputs: {data: read}", "inputs: {Data: read}", "SplitData has no input port 'Data' (did you mean 'data'?)"),
    ("{data: split.train}", "{data: Split.train}", "unknown step 'Split' (did you mean 'split'?)"),
    ("params: {path: a.csv}", "Params: {path: a.csv}", "unknown step key 'Params' (did you mean 'params'?)"),
    ("name: s", "Name: s", "unknown top-level key 'Name' (did you mean 'name'?)"),
])
def test_validation_names_the_close_name_in_any_case(old: str, new: str, hint: str):
    from emberflow.engine.errors import WorkflowError
    from emberflow.engine.workflow import parse_workflow

    with pytest.raises(WorkflowError) as raised:
        parse_workflow(WORKFLOW.replace(old, new, 1))
    assert hint in str(raised.value)
