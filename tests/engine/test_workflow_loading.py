"""Loading and checking a workflow: YAML merge keys, vars given on the command line, numbers every engine takes,
and what validation says about input files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from emberflow.engine.errors import WorkflowError
from emberflow.engine.params import MAX_SEED, Param
from emberflow.engine.workflow import missing_input_files, parse_workflow, unused_vars

MERGED = """name: m
steps:
  - id: read
    node: ReadCSV
    params: &csv {path: a.csv, header: true, separator: ","}
  - id: again
    node: ReadCSV
    params: {<<: *csv, path: other.csv, separator: SEPARATOR}
"""


def test_a_key_beside_a_merge_overrides_the_merged_one():
    workflow = parse_workflow(MERGED.replace("SEPARATOR", '";"'), "m.yaml")
    assert workflow.step("again").params["path"] == "other.csv"
    assert workflow.step("again").params["separator"] == ";"
    assert workflow.step("again").params["header"] is True
    assert workflow.step("read").params["path"] == "a.csv"


def test_a_bad_value_beside_a_merge_is_located_where_it_is_written():
    with pytest.raises(WorkflowError, match="must be one character") as raised:
        parse_workflow(MERGED.replace("SEPARATOR", '";;"'), "m.yaml")
    assert raised.value.location.startswith("m.yaml:8:")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_number_parameter_must_be_finite(value: float):
    with pytest.raises(ValueError, match="expected a finite number"):
        Param("x", "number", 1.0).check(value)
    with pytest.raises(ValueError, match="expected a finite number in every element"):
        Param("x", "array", None, items="number").check([1.0, value])


@pytest.mark.parametrize("seed, ok", [(0, True), (MAX_SEED, True), (MAX_SEED + 1, False), (-1, False),
                                      (10**29, False)])
def test_seeds_are_what_every_engine_takes(seed: int, ok: bool):
    text = f"""name: s
steps:
  - {{id: read, node: ReadCSV, params: {{path: a.csv}}}}
  - {{id: split, node: SplitData, inputs: {{data: read}}, params: {{seed: {seed}}}}}
  - {{id: train, node: TrainLR, inputs: {{data: split.train}}, params: {{label: y, seed: {seed}}}}}
"""
    if ok:
        assert parse_workflow(text).step("split").params["seed"] == seed
    else:
        with pytest.raises(WorkflowError, match="parameter 'seed' of SplitData: expected a value"):
            parse_workflow(text)


@pytest.mark.parametrize("section, params, message", [
    ("", "label: y, max_iter: 2147483648", "parameter 'max_iter' of TrainLR: expected a value <= 2147483647"),
    ("h2o: {nthreads: 2147483648}", "label: y", "parameter 'nthreads' of the 'h2o' section: expected a value <="),
    ("h2o: {port: 65535}", "label: y", "parameter 'port' of the 'h2o' section: expected a value <= 65534"),
])
def test_counts_handed_to_java_fit_its_int(section: str, params: str, message: str):
    text = f"""name: j
{section}
steps:
  - {{id: read, node: ReadCSV, params: {{path: a.csv}}}}
  - {{id: train, node: TrainLR, inputs: {{data: read}}, params: {{{params}}}}}
"""
    with pytest.raises(WorkflowError, match=message):
        parse_workflow(text)


READ = """name: r
vars: {data: a.csv, unused: 1}
steps:
  - {id: read, node: ReadCSV, params: {path: "PATH"}}
"""


def test_a_doubled_dollar_keeps_an_opening_brace_literal():
    assert parse_workflow(READ.replace("PATH", "$${data")).step("read").params["path"] == "${data"


@pytest.mark.parametrize("name", ["1x", "a-b", "a b"])
def test_a_bad_var_name_from_the_command_line_is_not_blamed_on_the_file(name: str):
    with pytest.raises(WorkflowError) as raised:
        parse_workflow(READ.replace("PATH", "${data}"), "r.yaml", {name: "x"})
    assert raised.value.location is None
    assert str(raised.value).startswith(f"--var {name}: var name {name!r} must be letters")


def test_a_bad_var_name_in_the_file_is_located_at_its_key():
    with pytest.raises(WorkflowError, match="var name '1x' must be letters") as raised:
        parse_workflow(READ.replace("PATH", "${data}").replace("unused: 1", "1x: 1"), "r.yaml")
    assert raised.value.location == "r.yaml:2:21"


def test_vars_no_reference_uses_are_named():
    workflow = parse_workflow(READ.replace("PATH", "${data}/x"), "r.yaml", {"seed": 7, "data": "b"})
    assert workflow.var_refs == {"data"}
    assert unused_vars(workflow, ["seed", "data"]) == [
        "--var seed is not used by r.yaml (its ${...} names: data)"]
    bare = parse_workflow(READ.replace("PATH", "a.csv"), "r.yaml")
    assert unused_vars(bare, ["data"]) == ["--var data is not used by r.yaml (it uses no ${...})"]


def test_validation_names_input_files_that_do_not_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "here.csv").write_text("a\n1\n")
    text = """name: f
steps:
  - {id: read, node: ReadCSV, params: {path: here.csv}}
  - {id: gone, node: ReadCSV, params: {path: missing.csv}}
  - {id: remote, node: ReadCSV, params: {path: "hdfs://cluster/data.csv"}}
  - {id: model, node: LoadModel, params: {path: models/none.joblib, trust: true}}
  - {id: stored, node: LoadModel, params: {name: m}}
"""
    warnings = missing_input_files(parse_workflow(text, "f.yaml"))
    assert warnings == [
        f"f.yaml:4:46: step 'gone': ReadCSV's path missing.csv does not exist (looked for "
        f"{tmp_path / 'missing.csv'}; relative paths start from the current folder, not the workflow file's)",
        f"f.yaml:6:49: step 'model': LoadModel's path models/none.joblib does not exist (looked for "
        f"{tmp_path / 'models' / 'none.joblib'}; relative paths start from the current folder, not the workflow "
        "file's)",
    ]
    os.chdir(tmp_path / "..")
    assert len(missing_input_files(parse_workflow(text, "f.yaml"))) == 3, "here.csv is relative to the cwd"


@pytest.mark.parametrize("text, shown", [
    ('name: x\n"a\\nb\\e[2J": 1\nsteps: []\n', "unknown top-level key 'a\\nb\\x1b[2J'"),
    ('name: x\nsteps: []\nv: {"k\\n": 1, "k\\n": 2}\n', "duplicate key 'k\\n'"),
])
def test_a_name_quoted_from_the_file_keeps_the_message_on_one_line(text: str, shown: str):
    with pytest.raises(WorkflowError) as raised:
        parse_workflow(text)
    assert shown in str(raised.value) and "\n" not in str(raised.value)
