"""Promise 6 (property): whatever document it is given, workflow validation either accepts it or raises
emberflow's own UserError (WorkflowError and friends), never anything else: random YAML-able structures,
structural mutations of a valid workflow, and character-level mutations of its text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from emberflow.engine.errors import UserError
from emberflow.engine.workflow import STEP_KEYS, TOP_KEYS, parse_workflow
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

VALID = (Path(__file__).resolve().parents[2] / "workflows" / "train.yaml").read_text(encoding="utf-8")
# Fixed, database-less and derandomized: the same examples on every run, a few seconds in CI.
QUICK = settings(max_examples=250, derandomize=True, database=None, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

WORDS = (*TOP_KEYS, *STEP_KEYS, "ReadCSV", "SplitData", "TrainLR", "SaveModel", "LoadModel", "Score", "WriteCSV",
         "sklearn", "spark", "h2o", "pandas", "path", "label", "data", "model", "train", "test", "read",
         "split.train", "train.model", "${data}", "${nope}", "$$", "$", "name@1", "../x", "C", "max_iter",
         "format", "joblib", "skops", "strict_versions", "trust", "alias", "latest", "")
keys = st.sampled_from(WORDS) | st.text(max_size=8) | st.integers(-3, 3) | st.booleans() | st.none()
scalars = (st.none() | st.booleans() | st.integers(-10**9, 10**9) | st.floats(allow_nan=True, allow_infinity=True)
           | st.sampled_from(WORDS) | st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
                      max_leaves=25)


def accepts_or_refuses_cleanly(text: str) -> None:
    try:
        parse_workflow(text, "property.yaml")
    except UserError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip(), repr(str(exc))


def dump(document: Any) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


@QUICK
@given(values)
def test_any_yaml_document(document: Any):
    accepts_or_refuses_cleanly(dump(document))


@QUICK
@given(st.lists(st.dictionaries(st.sampled_from(STEP_KEYS + ("params",)), values, max_size=6), max_size=4),
       st.dictionaries(st.sampled_from(TOP_KEYS), values, max_size=4))
def test_documents_shaped_like_workflows(steps: list, top: dict):
    accepts_or_refuses_cleanly(dump({**top, "steps": steps}))


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, prefix + (index,))
    return found


def mutate(document: Any, path: tuple, action: str, value: Any) -> Any:
    if not path:
        return value
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "rename" and isinstance(parent, dict):
        parent[value if isinstance(value, (str, int, bool, type(None))) else "x"] = parent.pop(last)
    elif action == "duplicate" and isinstance(parent, list):
        parent.insert(last, parent[last])
    else:
        parent[last] = value
    return document


@QUICK
@given(st.data())
def test_mutations_of_a_valid_workflow(data: st.DataObject):
    document = yaml.safe_load(VALID)
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(paths(document)))
        action = data.draw(st.sampled_from(["replace", "delete", "rename", "duplicate"]))
        value = data.draw(values if action != "rename" else keys)
        document = mutate(document, path, action, value)
    accepts_or_refuses_cleanly(dump(document))


@QUICK
@given(st.lists(st.tuples(st.integers(0, len(VALID)), st.integers(0, 8),
                          st.text(alphabet=st.sampled_from(list(":-[]{}&*!|>'\"#$%@\n \t,?\\x0")), max_size=6)),
                min_size=1, max_size=4))
def test_text_mutations_of_a_valid_workflow(edits: list[tuple[int, int, str]]):
    text = VALID
    for position, removed, inserted in edits:
        position = min(position, len(text))
        text = text[:position] + inserted + text[position + removed:]
    accepts_or_refuses_cleanly(text)


def test_the_valid_workflow_is_accepted():
    assert parse_workflow(VALID, "train.yaml").name == "train-diabetes"
