"""``engine: "${engine}"``: one workflow file for every engine, the engine picked by a var (its default in ``vars``,
or ``--var engine=spark``), at the top or in a step; once substituted, the engine is checked as a written one is.

Only validation touches Spark and H2O here: no JVM starts."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from emberflow.engine.api import FRAME, Node
from emberflow.engine.errors import WorkflowError
from emberflow.engine.registry import Registry
from emberflow.engine.workflow import parse_workflow

WORKFLOW = """name: every-engine
engine: "${engine}"
vars: {engine: sklearn, data: workflows/data/diabetes.csv}
steps:
  - {id: read, node: ReadCSV, params: {path: "${data}"}}
  - {id: split, node: SplitData, inputs: {data: read}, params: {test_size: 0.33, seed: 7}}
  - {id: train, node: TrainLR, inputs: {data: split.train}, params: {label: class}}
  - {id: score, node: Score, engine: "${score_engine}", inputs: {model: train, data: split.test},
     params: {label: class}}
"""


def at(text: str, line: int, value: str) -> str:
    """``wf.yaml:LINE:COL`` of where ``value`` is written on ``line`` (1-based) of ``text``."""
    return f"wf.yaml:{line}:{text.splitlines()[line - 1].index(value) + 1}"


def written(project: Path, text: str = WORKFLOW, name: str = "wf.yaml") -> str:
    (project / name).write_text(text)
    return name


@pytest.mark.parametrize(("given", "engines"), [
    ((), "sklearn"),
    (("--var", "engine=spark"), "sklearn, spark"),
    (("--var", "engine=pyspark", "--var", "score_engine=h2o"), "h2o, spark"),
    (("--var", "engine=h2o", "--var", "score_engine=h2o"), "h2o"),
])
def test_validate_takes_the_engine_from_a_var(cli, project: Path, given: tuple[str, ...], engines: str):
    wf = written(project, WORKFLOW.replace("vars: {", "vars: {score_engine: sklearn, "))
    result = cli("validate", wf, *given)
    assert result.code == 0, result.err
    assert result.out == f"{wf}: valid workflow 'every-engine', 4 steps ({engines})\n"
    assert result.err == ""  # --var engine is used: no "not used" warning


def test_the_top_and_a_step_follow_their_own_vars():
    checked = parse_workflow(WORKFLOW, "wf.yaml", {"engine": "spark", "score_engine": "pandas"})
    assert checked.engine == "spark"
    assert {s.id: s.engine for s in checked.steps} == {
        "read": "spark", "split": "spark", "train": "spark", "score": "sklearn"}
    assert {"engine", "score_engine"} <= checked.var_refs


@pytest.mark.parametrize(("given", "where", "shown"), [
    ({"engine": "sprak"}, at(WORKFLOW, 2, '"${engine}"'),
     "unknown engine 'sprak' (from '${engine}') (did you mean 'spark'?)"),
    ({"score_engine": "H2O"}, at(WORKFLOW, 8, '"${score_engine}"'),
     "unknown engine 'H2O' (from '${score_engine}') (did you mean 'h2o'?)"),
    ({"engine": 3}, at(WORKFLOW, 2, '"${engine}"'), "unknown engine 3 (from '${engine}')"),
])
def test_an_unknown_engine_from_a_var_is_one_line_at_the_engine_key(given: dict, where: str, shown: str):
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(WORKFLOW, "wf.yaml", {"score_engine": "sklearn", **given})
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{where}: {shown}; expected one of: sklearn, spark, h2o")


def test_an_undefined_engine_var_is_named_like_any_other():
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(WORKFLOW, "wf.yaml")
    where = at(WORKFLOW, 8, '"${score_engine}"')
    assert str(caught.value).startswith(f"{where}: undefined var 'score_engine' in ${{score_engine}}; define it "
                                        "under 'vars' or pass --var score_engine=VALUE")


class OnlySklearn(Node):
    """Runs on the embedded engine only."""

    inputs = {"data": FRAME}
    outputs = {"data": FRAME}

    def run_sklearn(self, ctx, inputs, params):
        return inputs["data"]


class Source(Node):
    """A frame, on every engine."""

    outputs = {"data": FRAME}

    def run_sklearn(self, ctx, inputs, params):
        return None

    run_spark = run_h2o = run_sklearn


def test_a_node_not_on_the_var_engine_is_refused_at_validation():
    registry = Registry(group="emberflow.no-such-group")
    registry.register(OnlySklearn)
    registry.register(Source)
    text = ('name: t\nengine: "${engine}"\nvars: {engine: sklearn}\nsteps:\n  - {id: src, node: Source}\n'
            '  - {id: only, node: OnlySklearn, inputs: {data: src}}\n')
    assert parse_workflow(text, "wf.yaml", registry=registry).step("only").engine == "sklearn"
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(text, "wf.yaml", {"engine": "spark"}, registry=registry)
    assert str(caught.value) == (f"{at(text, 6, 'OnlySklearn')}: node OnlySklearn does not run on engine spark "
                                 "(from '${engine}'); it runs on: sklearn")


def test_the_schema_takes_an_engine_var(cli):
    validator = jsonschema.Draft202012Validator(cli("schema").json())
    validator.validate(yaml.safe_load(WORKFLOW))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**yaml.safe_load(WORKFLOW), "engine": "sprak"})


def test_a_run_with_the_engine_var_equals_the_run_with_the_engine_written(cli, project: Path):
    by_var = cli("run", written(project), "--var", "score_engine=sklearn", "--json")
    assert by_var.code == 0, by_var.err
    assert "--var" not in by_var.err  # the var is used
    literal = WORKFLOW.replace('"${engine}"', "sklearn").replace('"${score_engine}"', "sklearn")
    by_name = cli("run", written(project, literal, "literal.yaml"), "--json")
    assert by_name.code == 0, by_name.err
    record = json.loads((project / "models" / "runs" / f"{by_var.json()['run_id']}.json").read_text())
    assert [s["engine"] for s in record["steps"]] == ["sklearn"] * 4
    assert record["vars"]["engine"] == "sklearn" and record["vars"]["score_engine"] == "sklearn"
    assert by_var.json()["metrics"] == by_name.json()["metrics"]
