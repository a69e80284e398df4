"""What `run`, `validate`, `nodes` and `runs` tell a user: warnings about --var and input files, the paths tried,
--debug after the command, hints, and text from files printed without its control characters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TRAIN = "workflows/train.yaml"


def test_an_unused_var_is_named_on_stderr_also_under_json(cli, project: Path):
    result = cli("run", TRAIN, "--var", "sed=7", "--var", "out=elsewhere", "--json")
    assert result.code == 0, result.err
    assert result.json()["status"] == "ok"
    assert result.err.splitlines() == [
        f"warning: --var sed is not used by {TRAIN} (its ${{...}} names: data, out, seed)"]
    quiet = cli("validate", TRAIN, "--var", "nope=1", "--var", "seed=7")
    assert quiet.code == 0 and quiet.err == f"warning: --var nope is not used by {TRAIN} (its ${{...}} names: " \
                                            "data, out, seed)\n"


def test_the_readme_seed_example_changes_the_split(cli, project: Path):
    runs = [cli("run", TRAIN, "--json", *extra) for extra in ((), ("--var", "seed=7"), ("--var", "seed=8"))]
    assert [r.err for r in runs] == ["", "", ""]
    records = [json.loads((project / "models" / "runs" / f"{r.json()['run_id']}.json").read_text()) for r in runs]
    assert [r["vars"]["seed"] for r in records] == [7, 7, 8]
    metrics = [r.json()["metrics"]["score"] for r in runs]
    assert metrics[0] == metrics[1] != metrics[2]


@pytest.mark.parametrize("order", ["before", "after"])
def test_debug_works_before_or_after_the_command(cli, project: Path, order: str):
    (project / "wf.yaml").write_text("name: t\nsteps:\n  - {id: read, node: ReadCSV, params: {path: missing.csv}}\n")
    args = ["--debug", "run", "wf.yaml"] if order == "before" else ["run", "wf.yaml", "--debug"]
    result = cli(*args)
    assert result.code == 2 and "Traceback" in result.err
    assert "Traceback" not in cli("run", "wf.yaml").err


def test_a_missing_input_file_is_named_with_the_path_tried(cli, project: Path):
    (project / "wf.yaml").write_text("name: t\nsteps:\n  - {id: read, node: ReadCSV, params: {path: data/x.csv}}\n")
    tried = f"looked for {project / 'data' / 'x.csv'}; relative paths start from the current folder"
    validated = cli("validate", "wf.yaml")
    assert validated.code == 0 and "valid workflow 't', 1 step (sklearn)" in validated.out
    assert validated.err.startswith("warning: wf.yaml:3:46: step 'read': ReadCSV's path data/x.csv does not exist")
    assert tried in validated.err
    run = cli("run", "wf.yaml")
    assert run.code == 2 and run.err.splitlines()[-1].startswith("error: step 'read': ReadCSV: no such file data/x.csv")
    assert tried in run.err


def test_load_model_names_the_path_tried(cli, project: Path):
    (project / "wf.yaml").write_text("name: t\nsteps:\n  - {id: load, node: LoadModel, params: {path: m.skops}}\n")
    result = cli("run", "wf.yaml")
    assert result.code == 2
    assert f"no model at m.skops (looked for {project / 'm.skops'}; relative paths" in result.err


def test_control_characters_from_a_workflow_are_escaped(cli, project: Path):
    (project / "wf.yaml").write_text('name: "\\e[2J\\e[31mred\\rX"\nsteps:\n'
                                     '  - {id: read, node: ReadCSV, params: {path: workflows/data/diabetes.csv}}\n')
    validated = cli("validate", "wf.yaml")
    assert validated.out == "wf.yaml: valid workflow '\\x1b[2J\\x1b[31mred\\rX', 1 step (sklearn)\n"
    run = cli("run", "wf.yaml")
    assert "\x1b" not in run.out and "(\\x1b[2J\\x1b[31mred\\rX)" in run.out
    (project / "bad.yaml").write_text('name: x\nsteps:\n  - {id: read, node: ReadCSV, params: {"\\e]0;owned\\a": 1}}\n')
    refused = cli("validate", "bad.yaml")
    assert refused.code == 2 and "\x1b" not in refused.err and "unknown parameter '\\x1b]0;owned\\x07'" in refused.err


def test_runs_show_draws_the_confusion_matrix_and_escapes_what_the_record_says(cli, project: Path):
    run_id = cli("run", TRAIN, "--json").json()["run_id"]
    path = project / "models" / "runs" / f"{run_id}.json"
    record = json.loads(path.read_text())
    matrix = record["metrics"]["score"]["confusion_matrix"]["matrix"]
    record["workflow"]["name"] = "\x1b[31mred"
    record["warnings"] = ["look\x1b[2J"]
    path.write_text(json.dumps(record))
    shown = cli("runs", "show", run_id)
    assert shown.code == 0 and "\x1b" not in shown.out
    assert "workflow \\x1b[31mred (" in shown.out and "warning: look\\x1b[2J" in shown.out
    assert "{'labels'" not in shown.out and "confusion_matrix" not in shown.out
    lines = shown.out.splitlines()
    at = lines.index("confusion matrix of step score:")
    assert lines[at + 1].split() == ["true", "\\", "predicted", "0", "1"]
    assert lines[at + 2].split() == ["0", *map(str, matrix[0])]
    assert lines[at + 3].split() == ["1", *map(str, matrix[1])]


def test_nodes_are_described_without_rst_markup_and_a_close_name_is_suggested(cli):
    listed = cli("nodes", "list")
    shown = cli("nodes", "show", "SplitData")
    assert "``" not in listed.out + shown.out
    assert "Split a frame into `train` and `test` parts." in listed.out + shown.out
    assert "\n    On the sklearn engine" not in shown.out, "the docstring is shown dedented"
    unknown = cli("nodes", "show", "splitdata")
    assert unknown.code == 2 and "unknown node 'splitdata' (did you mean 'SplitData'?); known nodes:" in unknown.err
