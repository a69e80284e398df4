"""A workflow whose engine is a var (``engine: "${engine}"``) is checked and drawn by the UI with the engine its
vars give; an unknown engine from its vars gives the problem on the page, with the file's line."""

from __future__ import annotations

import re
from pathlib import Path

from emberflow.engine.ui.app import create_app
from fastapi.testclient import TestClient

WORKFLOW = """name: every-engine
engine: "${engine}"
vars: {engine: ENGINE}
steps:
  - {id: read, node: ReadCSV, params: {path: data.csv}}
  - {id: train, node: TrainLR, inputs: {data: read}, params: {label: class}}
"""


def test_the_pages_use_the_engine_the_vars_give(tmp_path: Path):
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "spark.yaml").write_text(WORKFLOW.replace("ENGINE", "spark"))
    (folder / "typo.yaml").write_text(WORKFLOW.replace("ENGINE", "sprak"))
    client = TestClient(create_app(tmp_path / "models", [folder]))
    listing = client.get("/workflows")
    assert listing.status_code == 200
    assert re.search(r'data-workflow="flows/spark.yaml" data-state="valid"', listing.text)
    assert re.search(r'data-workflow="flows/typo.yaml" data-state="invalid"', listing.text)
    page = client.get("/workflows/flows/spark.yaml")
    assert page.status_code == 200 and 'id="graph"' in page.text
    graph = page.text.split('id="graph"')[1].split("</svg>")[0]
    assert "ReadCSV \u00b7 spark" in graph and "TrainLR \u00b7 spark" in graph
    steps = page.text.split('id="steps"')[1].split("</table>")[0]
    assert re.findall(r"<td>(\w+)</td><td>(\w+)</td><td>(\w+)</td>", steps) == [
        ("read", "ReadCSV", "spark"), ("train", "TrainLR", "spark")]
    typo = client.get("/workflows/flows/typo.yaml")
    assert typo.status_code == 200
    problem = typo.text.split('id="validation-error"')[1].split("</div>")[0].replace("&#39;", "'")
    assert "typo.yaml:2:9: unknown engine 'sprak' (from '${engine}') (did you mean 'spark'?)" in problem
