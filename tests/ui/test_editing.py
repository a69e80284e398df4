"""The editor's YAML round trip (engine/ui/editing.py) and its validation and column hints (checking.py)."""

from __future__ import annotations

import difflib

from emberflow.engine.ui.checking import check, known_columns
from emberflow.engine.ui.editing import apply_model, model_of
from emberflow.engine.workflow import parse_workflow

HAND_WRITTEN = """\
# Train and score: written by hand, with comments kept by the editor.
name: train-diabetes   # the run's name
engine: sklearn
vars:
  data: workflows/data/diabetes.csv
  seed: 7
steps:
# reading
- id: read
  node: ReadCSV
  params: {path: "${data}", header: true}
- id: split
  node: SplitData
  inputs: {data: read}
  params: {test_size: 0.33, seed: '${seed}'}   # same seed as the notebook
- id: train
  node: TrainLR
  inputs: {data: split.train}
  params:
    label: "class"
    solver: liblinear
spark: {master: "local[1]"}
"""


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_one_changed_parameter_changes_one_line_and_keeps_the_rest():
    model = model_of(HAND_WRITTEN)
    model["steps"][1]["params"]["test_size"] = 0.25
    after = apply_model(model, HAND_WRITTEN)
    assert changed_lines(HAND_WRITTEN, after) == [
        "-  params: {test_size: 0.33, seed: '${seed}'}   # same seed as the notebook",
        "+  params: {test_size: 0.25, seed: '${seed}'}   # same seed as the notebook",
    ]


def test_unchanged_model_gives_the_same_text_and_a_changed_string_keeps_its_quotes():
    model = model_of(HAND_WRITTEN)
    assert apply_model(model, HAND_WRITTEN) == HAND_WRITTEN
    model["steps"][2]["params"]["label"] = "outcome"
    assert changed_lines(HAND_WRITTEN, apply_model(model, HAND_WRITTEN)) == ['-    label: "class"',
                                                                              '+    label: "outcome"']


def test_steps_added_removed_and_layout_written_in_its_own_section():
    model = model_of(HAND_WRITTEN)
    model["steps"] = [s for s in model["steps"] if s["id"] != "split"]
    model["steps"][1]["inputs"] = {"data": "read"}
    model["steps"].append({"id": "save", "node": "SaveModel", "engine": None, "inputs": {"model": "train"},
                           "params": {"name": "diabetes-lr"}})
    model["layout"] = {"read": {"x": 10.4, "y": 20}, "save": {"x": 300, "y": 20}, "gone": {"x": 1, "y": 1}}
    after = apply_model(model, HAND_WRITTEN)
    workflow = parse_workflow(after)
    assert [s.id for s in workflow.steps] == ["read", "train", "save"]
    assert "same seed as the notebook" not in after and "# reading" in after
    assert "- id: save\n  node: SaveModel\n  inputs: {model: train}\n  params: {name: diabetes-lr}\n" in after
    assert after.endswith("layout:\n  read: {x: 10, y: 20}\n  save: {x: 300, y: 20}\n")
    assert model_of(after)["layout"] == {"read": {"x": 10, "y": 20}, "save": {"x": 300, "y": 20}}
    assert 'spark: {master: "local[1]"}' in after


def test_a_new_file_is_clean_yaml_in_the_usual_key_order():
    model = {"name": "new", "description": "", "engine": "sklearn", "vars": {"data": "in.csv"},
             "steps": [{"id": "read", "node": "ReadCSV", "engine": None, "inputs": {}, "params": {"path": "${data}"}},
                       {"id": "write", "node": "WriteCSV", "engine": "sklearn", "inputs": {"data": "read"},
                        "params": {"path": "out: 1.csv"}}],
             "layout": {"read": {"x": 0, "y": 0}}}
    text = apply_model(model)
    assert text == (
        "name: new\nengine: sklearn\nvars:\n  data: in.csv\nsteps:\n"
        "  - id: read\n    node: ReadCSV\n    params: {path: '${data}'}\n"
        "  - id: write\n    node: WriteCSV\n    engine: sklearn\n    inputs: {data: read}\n"
        "    params: {path: 'out: 1.csv'}\n"
        "layout:\n  read: {x: 0, y: 0}\n")
    assert parse_workflow(text).step("write").params["path"] == "out: 1.csv"


def test_validation_locates_the_problem_by_step_and_field():
    model = model_of(HAND_WRITTEN)
    model["steps"][1]["params"]["test_size"] = 3
    result = check(model, HAND_WRITTEN)
    assert not result["ok"]
    [problem] = result["problems"]
    assert (problem["step"], problem["field"], problem["line"]) == ("split", "test_size", 15)
    assert "test_size" in problem["message"]
    del model["steps"][2]["params"]["label"]
    model["steps"][1]["params"]["test_size"] = 0.3
    [problem] = check(model, HAND_WRITTEN)["problems"]
    assert (problem["step"], problem["field"]) == ("train", "label")
    model["steps"][2]["params"]["label"] = "class"
    assert check(model, HAND_WRITTEN)["ok"]


def test_columns_flow_from_the_csv_header_through_the_nodes(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("a;b;\"c;d\"\n1;2;3\n")
    model = {"vars": {"file": str(data)}, "steps": [
        {"id": "read", "node": "ReadCSV", "params": {"path": "${file}", "sep": ";"}},
        {"id": "split", "node": "SplitData", "inputs": {"data": "read"}},
        {"id": "ren", "node": "RenameColumns", "inputs": {"data": "split.test"}, "params": {"mapping": {"a": "x"}}},
        {"id": "sel", "node": "SelectColumns", "inputs": {"data": "ren"}, "params": {"drop": ["b"]}},
        {"id": "sql", "node": "SQL", "inputs": {"t": "sel"}, "params": {"query": "select 1"}},
        {"id": "lim", "node": "Limit", "inputs": {"data": "sql"}, "params": {"rows": 1}},
    ]}
    columns = known_columns(model)
    assert columns["read.data"] == columns["split.train"] == columns["split.test"] == ["a", "b", "c;d"]
    assert columns["ren.data"] == ["x", "b", "c;d"]
    assert columns["sel.data"] == ["x", "c;d"]
    assert "sql.data" not in columns and "lim.data" not in columns  # unknown stays absent


def test_every_example_workflow_survives_a_round_trip_and_one_change_is_one_line():
    """Including files whose text ruamel would write differently (clean_score's value folded over two lines)."""
    from pathlib import Path

    for path in sorted((Path(__file__).resolve().parents[2] / "workflows").glob("*.yaml")):
        text = path.read_text()
        model = model_of(text)
        assert apply_model(model, text) == text, path.name
        step = model["steps"][-1]
        step["params"]["rows_changed_here"] = 1
        changed = apply_model(model, text)
        assert len(changed_lines(text, changed)) <= 2, path.name  # a flow mapping's one line, or a new key's
        assert model_of(changed)["steps"][-1]["params"]["rows_changed_here"] == 1, path.name


def test_an_edit_next_to_a_hand_folded_value_changes_only_its_line():
    folded = HAND_WRITTEN.replace("- id: split\n", "- id: split\n  description: a long text that the author folded\n"
                                  "    by hand onto a second line\n")
    model = model_of(folded)
    model["steps"][1]["params"]["test_size"] = 0.25
    assert changed_lines(folded, apply_model(model, folded)) == [
        "-  params: {test_size: 0.33, seed: '${seed}'}   # same seed as the notebook",
        "+  params: {test_size: 0.25, seed: '${seed}'}   # same seed as the notebook",
    ]


def test_edits_merged_onto_the_examples_mean_what_a_fresh_file_of_the_model_means():
    from pathlib import Path

    for path in sorted((Path(__file__).resolve().parents[2] / "workflows").glob("*.yaml")):
        text = path.read_text()
        model = model_of(text)
        model["vars"]["added"] = "x"
        model["description"] = "changed"
        removed = model["steps"].pop(len(model["steps"]) // 2)
        model["steps"].append({**removed, "id": "moved", "params": {**removed["params"], "extra": [1, 2]}})
        model["layout"] = {s["id"]: {"x": i, "y": 2 * i} for i, s in enumerate(model["steps"])}
        merged = apply_model(model, text)
        assert model_of(merged) == model_of(apply_model(model)), path.name
        assert text.splitlines()[0] in merged.splitlines()  # the opening comment is kept


def test_each_step_with_a_problem_is_reported_not_only_the_first():
    text = ("name: x\nsteps:\n  - {id: read, node: ReadCSV}\n"
            "  - {id: split, node: SplitData, inputs: {data: read}, params: {test_size: 2}}\n"
            "  - {id: ok, node: Limit, inputs: {data: split.test}, params: {rows: 3}}\n"
            "  - {id: bad, node: Nope}\n")
    problems = check(text=text)["problems"]
    assert [(p["step"], p["field"], p["line"]) for p in problems] == [
        ("read", "path", 3), ("split", "test_size", 4), ("bad", "node", 6)]


def test_join_columns_hint_matches_what_the_join_gives():
    import pandas as pd
    from emberflow.nodes.join import Join

    left = pd.DataFrame({"id": [1, 2], "a": [1, 2], "x": [5, 6]})
    right = pd.DataFrame({"id": [1, 2], "x": [7, 8], "b": [3, 4]})
    params = {"keys": ["id"], "how": "left", "suffixes": ["_l", "_r"]}

    class Context:
        engine, step_id = "sklearn", "join"

    joined = Join().run(Context(), {"left": left, "right": right}, params)
    hint = Join.output_columns(params, {"left": list(left), "right": list(right)})
    assert hint == {"data": list(joined.columns)} == {"data": ["id", "a", "x_l", "x_r", "b"]}
    assert Join.output_columns(params, {"left": list(left), "right": None}) == {}
