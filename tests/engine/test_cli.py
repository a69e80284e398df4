"""The command line: schema, nodes, run output, exit codes, and --debug."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "workflows").glob("*.yaml"))


def test_schema_accepts_every_example_and_rejects_a_typo(cli):
    schema = cli("schema").json()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in EXAMPLES:
        validator.validate(yaml.safe_load(path.read_text()))
    broken = yaml.safe_load(EXAMPLES[0].read_text())
    broken["steps"][0]["params"]["pathh"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)


def test_nodes_show_json_is_a_node_definition(cli):
    definition = cli("nodes", "show", "TrainLR", "--json").json()
    assert definition["name"] == "TrainLR" and definition["type"] == "ml-estimator"
    assert definition["inputs"] == [{"name": "data", "type": "frame"}]
    assert definition["outputs"] == [{"name": "model", "type": "model"}]
    fields = {f["name"]: f for f in definition["fields"]}
    assert fields["label"]["required"] is True
    assert "maxIter" in fields["max_iter"]["aliases"]
    types = {d["name"]: d["type"] for d in cli("nodes", "list", "--json").json()}
    assert types["ReadCSV"] == "dataset" and types["SaveModel"] == "ml-modelsave"
    assert types["LoadModel"] == "ml-modelload" and types["Score"] == "ml-predict"


def test_nodes_show_text_and_unknown_node(cli):
    shown = cli("nodes", "show", "ReadCSV")
    assert shown.code == 0 and "FAILFAST" in shown.out and "separator" in shown.out
    unknown = cli("nodes", "show", "ReadCsv")
    assert unknown.code == 2 and "known nodes: " in unknown.err and "LoadModel, ReadCSV" in unknown.err


def test_run_prints_progress_and_a_summary(cli, project: Path):
    result = cli("run", "workflows/train.yaml")
    assert result.code == 0
    assert "[1/6] read (ReadCSV, sklearn) ... done in" in result.err
    assert "[6/6] write (WriteCSV, sklearn)" in result.err
    assert "saved model diabetes-lr@1" in result.out and "accuracy" in result.out


def test_run_json_shape(cli, project: Path):
    record = cli("run", "workflows/train.yaml", "--json").json()
    assert set(record) >= {"run_id", "status", "steps", "metrics", "models"}
    assert "text" not in record
    for step in record["steps"]:
        assert set(step) >= {"id", "node", "engine", "seconds", "rows", "status"}
    assert record["models"][0]["name"] == "diabetes-lr" and Path(record["models"][0]["path"]).is_dir()


def test_var_overrides_and_missing_data_is_a_user_error(cli, project: Path):
    result = cli("run", "workflows/train.yaml", "--var", "data=nowhere.csv")
    assert result.code == 2
    assert result.err.strip().splitlines()[-1] == (
        f"error: step 'read': ReadCSV: no such file nowhere.csv (looked for {project / 'nowhere.csv'}; relative "
        "paths start from the current folder, not the workflow file's); check the path (or pass --var with the right "
        "one)")
    record = json.loads(next((project / "models" / "runs").glob("*.json")).read_text())
    assert record["status"] == "failed" and record["error"]["step"] == "read"
    assert [s["status"] for s in record["steps"]] == ["failed"] + ["skipped"] * 5


def test_a_bad_var_option_is_a_user_error(cli, project: Path):
    result = cli("run", "workflows/train.yaml", "--var", "novalue")
    assert result.code == 2 and "--var expects NAME=VALUE" in result.err


def test_a_failing_step_exits_1_and_debug_shows_the_traceback(cli, project: Path):
    (project / "wf.yaml").write_text("""
name: t
steps:
  - {id: read, node: ReadCSV, params: {path: workflows/data/diabetes.csv}}
  - {id: split, node: SplitData, inputs: {data: read}, params: {stratify: preg, test_size: 0.01}}
""")
    plain = cli("run", "wf.yaml")
    assert plain.code == 2 and "SplitData: cannot split" in plain.err and "Traceback" not in plain.err
    (project / "wf2.yaml").write_text("""
name: t
steps:
  - {id: read, node: ReadCSV, params: {path: workflows/data/diabetes.csv}}
  - {id: train, node: TrainLR, inputs: {data: read}, params: {label: class, class_weight: {0: "heavy"}}}
""")
    failed = cli("run", "wf2.yaml")
    assert failed.code == 1 and "step 'train' failed" in failed.err and "Traceback" not in failed.err
    debug = cli("--debug", "run", "wf2.yaml")
    assert debug.code == 1 and "Traceback" in debug.err


def test_models_commands_on_an_empty_store(cli, project: Path):
    assert "no models" in cli("models", "list").out
    assert cli("models", "list", "--json").json() == []
    missing = cli("models", "show", "nope")
    assert missing.code == 2 and "no model 'nope'" in missing.err
