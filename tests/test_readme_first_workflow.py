"""README's "Your first workflow" does what it says, so it cannot rot: its YAML blocks are saved under the names
their first line gives, and its `emberflow` commands run in order, on the sklearn engine, in a copy of the project."""

from __future__ import annotations

import csv
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Your first workflow"


def walkthrough() -> list[tuple[str, str]]:
    """The section's fenced blocks, in order, as (language, text)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert SECTION in readme
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S)


def test_the_first_workflow_validates_runs_saves_and_scores(cli, project: Path):
    blocks = walkthrough()
    assert [language for language, _ in blocks] == ["yaml", "sh", "yaml", "sh"]
    outputs = []
    for language, text in blocks:
        if language == "yaml":
            name = text.splitlines()[0].removeprefix("#").strip()
            assert re.fullmatch(r"[\w-]+\.yaml", name), text
            (project / name).write_text(text)
            continue
        for line in filter(None, (shlex.split(line, comments=True) for line in text.splitlines())):
            assert line[0] == "emberflow", line
            result = cli(*line[1:])
            assert result.code == 0, (line, result.err)
            outputs.append(result.out)

    assert "valid workflow 'first'" in outputs[0]
    assert "saved model my-first-model@1" in outputs[1] and "accuracy" in outputs[1]
    assert "my-first-model" in outputs[2]
    listing = cli("models", "list", "--json").json()
    assert [(m["name"], m["versions"], m["engine"]) for m in listing] == [("my-first-model", [1], "sklearn")]
    with open(project / "output" / "first_scored.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    new_rows = (project / "workflows" / "data" / "diabetes_new.csv").read_text().strip().splitlines()
    assert len(rows) == len(new_rows) - 1 and {"prediction", "probability"} <= set(rows[0])
