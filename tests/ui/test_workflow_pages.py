"""The workflow pages stay bounded: a file that cannot be read as a workflow, or one far too large to draw, gives
a page with the problem on it (never a 500 nor megabytes of drawing); the list draws nothing, checks a bounded
number of files per request, and checks an unchanged file once."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from emberflow.engine import workflow as workflow_module
from emberflow.engine.ui import workflows
from emberflow.engine.ui.app import create_app
from emberflow.engine.ui.graph import MAX_DRAWN_STEPS
from fastapi.testclient import TestClient

from .conftest import ROOT

BAD = ROOT / "tests" / "fixtures" / "bad_workflows"
TRAIN = ROOT / "workflows" / "train.yaml"


def app_on(folder: Path, tmp_path: Path) -> TestClient:
    return TestClient(create_app(tmp_path / "models", [folder]))


def cross_linked(steps: int) -> str:
    """An invalid workflow (unknown nodes) whose every step reads the one before and one far back."""
    lines = ["name: tangle", "steps:", "  - {id: s0, node: Nope}"]
    lines += [f"  - {{id: s{i}, node: Nope, inputs: {{a: s{i - 1}, b: s{i // 2}}}}}" for i in range(1, steps)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def load_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files emberflow's loader is asked to check."""
    calls: list[str] = []
    real = workflow_module.load_workflow

    def counting(path, *args, **kwargs):
        calls.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(workflow_module, "load_workflow", counting)
    return calls


def test_a_document_nested_too_deeply_gives_its_problem_on_the_page(tmp_path: Path):
    folder = tmp_path / "flows"
    folder.mkdir()
    shutil.copy(BAD / "deep_nesting.yaml", folder)
    shutil.copy(TRAIN, folder)
    client = app_on(folder, tmp_path)
    listing = client.get("/workflows")
    assert listing.status_code == 200
    assert re.search(r'data-workflow="flows/deep_nesting.yaml" data-state="invalid"', listing.text)
    page = client.get("/workflows/flows/deep_nesting.yaml")
    assert page.status_code == 200
    problem = page.text.split('id="validation-error"')[1].split("</div>")[0]
    assert problem.endswith("deep_nesting.yaml: invalid YAML: the document is nested too deeply for a workflow")
    assert 'id="graph"' not in page.text


def test_a_thousand_cross_linked_steps_are_checked_but_not_drawn(tmp_path: Path):
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "tangle.yaml").write_text(cross_linked(1000))
    client = app_on(folder, tmp_path)
    listing = client.get("/workflows")
    assert listing.status_code == 200 and "<svg" not in listing.text
    page = client.get("/workflows/flows/tangle.yaml")
    assert page.status_code == 200
    assert "unknown node 'Nope'" in page.text.replace("&#39;", "'")
    assert f"Not drawn: 1,000 steps; the graph is drawn for up to {MAX_DRAWN_STEPS:,}" in page.text
    assert "<svg" not in page.text and len(page.content) < 20 * len(cross_linked(1000))


def test_a_drawable_number_of_steps_with_too_many_bends_is_not_drawn(tmp_path: Path):
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "tangle.yaml").write_text(cross_linked(MAX_DRAWN_STEPS))
    page = app_on(folder, tmp_path).get("/workflows/flows/tangle.yaml")
    assert page.status_code == 200 and "<svg" not in page.text
    assert re.search(r"Not drawn: [\d,]+ steps and [\d,]+ edges, which would take [\d,]+ boxes", page.text)


def test_an_unchanged_file_is_checked_once(tmp_path: Path, load_calls: list[str]):
    folder = tmp_path / "flows"
    folder.mkdir()
    shutil.copy(TRAIN, folder / "train.yaml")
    client = app_on(folder, tmp_path)
    for _ in range(3):
        assert 'data-state="valid"' in client.get("/workflows").text
    assert load_calls == ["train.yaml"]
    for _ in range(3):  # the page needs the steps too: one more check, then the page is cached
        assert client.get("/workflows/flows/train.yaml").status_code == 200
    assert load_calls == ["train.yaml"] * 2
    path = folder / "train.yaml"
    path.write_text(path.read_text().replace("node: TrainLR", "node: TrainLX"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert 'data-state="invalid"' in client.get("/workflows").text
    assert "unknown node &#39;TrainLX&#39;" in client.get("/workflows/flows/train.yaml").text
    assert load_calls == ["train.yaml"] * 4


def test_the_list_checks_a_bounded_number_of_files_per_request(tmp_path: Path, load_calls: list[str],
                                                               monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(workflows, "LIST_BUDGET_FILES", 2)
    folder = tmp_path / "flows"
    folder.mkdir()
    for name in "abcde":
        shutil.copy(TRAIN, folder / f"{name}.yaml")
    client = app_on(folder, tmp_path)
    states = []
    for _ in range(3):
        page = client.get("/workflows").text
        states.append(re.findall(r'data-state="([\w-]+)"', page))
    assert states == [["valid"] * 2 + ["unchecked"] * 3, ["valid"] * 4 + ["unchecked"], ["valid"] * 5]
    assert len(load_calls) == 5
    assert 'id="unchecked-note"' not in page


def test_a_file_over_the_checked_size_is_shown_but_not_checked(tmp_path: Path, load_calls: list[str],
                                                               monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(workflows, "MAX_CHECKED_BYTES", 64)
    monkeypatch.setattr(workflows, "SOURCE_BYTES", 64)
    folder = tmp_path / "flows"
    folder.mkdir()
    shutil.copy(TRAIN, folder / "train.yaml")
    client = app_on(folder, tmp_path)
    assert 'data-state="too-large"' in client.get("/workflows").text
    page = client.get("/workflows/flows/train.yaml").text
    size = (folder / "train.yaml").stat().st_size
    assert (f"not checked here: the file is {size:,} bytes and the UI checks files up to 64; check it with: "
            f"emberflow validate {folder / 'train.yaml'}") in page
    assert 'id="source-cut"' in page and 'id="graph"' not in page
    assert load_calls == []
