"""The workflow editor in headless Chromium (Playwright) against the real UI server with the editor on: building a
workflow with the mouse, validating, saving, running and looking at results; editing a hand-written file (the
diff is the one changed line), undo, redo, copy and paste; connecting and removing connections with the keyboard
only; validation feedback time on a 50-step workflow.

Screenshots go to the test's folder, or to $EMBERFLOW_EDITOR_SHOTS when set (how docs/screenshots/ is made)."""

from __future__ import annotations

import csv
import difflib
import os
import statistics
from pathlib import Path

import yaml
from emberflow.engine.store import ModelStore

BUILT = [("ReadCSV", 150, 60), ("SplitData", 150, 250), ("TrainLR", 430, 60), ("SaveModel", 430, 220),
         ("Score", 430, 360), ("WriteCSV", 430, 520)]
WIRES = [("readcsv", "data", "splitdata", "data"), ("splitdata", "train", "trainlr", "data"),
         ("trainlr", "model", "savemodel", "model"), ("trainlr", "model", "score", "model"),
         ("splitdata", "test", "score", "data"), ("score", "data", "writecsv", "data")]

HAND_WRITTEN = """\
# Hand-written: train on the diabetes data and score the held-out part.
name: hand-diabetes   # shown in the runs list
engine: sklearn
vars:
  data: workflows/data/diabetes.csv
  impute: median
steps:
  # read and split
  - id: read
    node: ReadCSV
    params: {path: "${data}", header: true}
  - id: split
    node: SplitData
    inputs: {data: read}
    params: {test_size: 0.33, seed: 7}   # the notebook's seed
  - id: train
    node: TrainLR
    inputs: {data: split.train}
    params:
      label: 'class'
      solver: liblinear   # small data
      impute: "${impute}"
  - id: score
    node: Score
    inputs: {model: train, data: split.test}
"""


def shots_folder(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("EMBERFLOW_EDITOR_SHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shoot(page, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 1000


def open_editor(context, base: str, file: str | None = None):
    page = context.new_page()
    page.set_viewport_size({"width": 1600, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/editor" + (f"?file={file}" if file else ""))
    page.wait_for_selector(".palette-item")
    if file:
        page.locator(".file-name", has_text=file).wait_for()
    return page, errors


def node(page, step: str):
    return page.locator(f'.step-node[data-step="{step}"]')


def drag_from_palette(page, name: str, x: float, y: float) -> None:
    """Press on the palette item, move onto the canvas at (x, y) from its corner, release."""
    item = page.locator(f'.palette-item[data-node="{name}"]')
    item.scroll_into_view_if_needed()
    box = item.bounding_box()
    canvas = page.locator(".canvas").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(canvas["x"] + x, canvas["y"] + y, steps=6)
    page.mouse.up()


def centre(locator) -> tuple[float, float]:
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def connect(page, source: str, out: str, target: str, port: str) -> None:
    """Drag from an output port's handle to an input port's handle."""
    start = centre(page.locator(f'.react-flow__node[data-id="{source}"] .source[data-handleid="{out}"]'))
    end = centre(page.locator(f'.react-flow__node[data-id="{target}"] .target[data-handleid="{port}"]'))
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()


def select(page, step: str, **click) -> None:
    node(page, step).locator(".step-head").click(**click)


def field(page, name: str):
    return page.locator(f'.inspector .field[data-field="{name}"]')


def build_and_wire(page) -> None:
    """Six nodes dragged from the palette and wired port to port; a model into a frame port is refused."""
    assert page.locator(".palette-group").count() >= 5, "the palette groups the nodes by kind"
    for name, x, y in BUILT:
        drag_from_palette(page, name, x, y)
    assert page.locator(".step-node").count() == 6
    page.locator(".react-flow__pane").click(position={"x": 700, "y": 600})
    for wire in WIRES:
        connect(page, *wire)
    assert page.locator(".react-flow__edge").count() == 6
    connect(page, "trainlr", "model", "writecsv", "data")
    assert "takes a frame" in page.locator(".toast").inner_text()
    assert page.locator(".react-flow__edge").count() == 6


def fill_forms_until_valid(page, shots: Path) -> None:
    """ReadCSV's missing path is a problem on its node and field until filled; columns are picked with the mouse."""
    node(page, "readcsv").and_(page.locator('[data-problems="1"]')).wait_for()
    page.locator('.problems li[data-step="readcsv"][data-field="path"]').click()  # opens that step's dialog
    page.locator('.inspector [data-dialog-step="readcsv"]').wait_for()
    assert "needs parameter 'path'" in field(page, "path").locator(".field-problem").inner_text()
    shoot(page, shots, "editor-problem")
    field(page, "path").locator("input").fill("workflows/data/diabetes.csv")
    node(page, "readcsv").and_(page.locator('[data-problems="0"]')).wait_for()
    node(page, "trainlr").and_(page.locator('[data-problems="1"]')).wait_for()  # no label yet
    select(page, "trainlr")
    field(page, "label").locator("select").select_option("class")  # offered from ReadCSV's header
    node(page, "trainlr").and_(page.locator('[data-problems="0"]')).wait_for()
    for column in ["plas", "mass", "age"]:
        field(page, "features").locator("label.pick", has_text=column).click()
    select(page, "score")
    field(page, "label").locator("select").select_option("class")
    select(page, "savemodel")
    field(page, "name").locator("input").fill("built-lr")
    select(page, "writecsv")
    field(page, "path").locator("input").fill("output/scored.csv")
    page.locator('.validity[data-state="ok"]').wait_for()
    assert page.locator(".step-node[data-problems='0']").count() == 6


def auto_layout(page) -> None:
    page.click("#layout")  # layers: each step right of its inputs
    page.wait_for_timeout(300)
    left = {step: node(page, step).bounding_box()["x"] for step in ["readcsv", "splitdata", "trainlr", "score"]}
    assert left["readcsv"] < left["splitdata"] < left["trainlr"] < left["score"]


def check_saved(path: Path) -> None:
    saved = yaml.safe_load(path.read_text())
    steps = {s["id"]: s for s in saved["steps"]}
    assert [s["node"] for s in saved["steps"]] == [name for name, _, _ in BUILT]
    assert steps["readcsv"]["params"] == {"path": "workflows/data/diabetes.csv"}
    assert steps["splitdata"]["inputs"] == {"data": "readcsv"}
    assert steps["trainlr"] == {"id": "trainlr", "node": "TrainLR", "inputs": {"data": "splitdata.train"},
                                "params": {"label": "class", "features": ["plas", "mass", "age"]}}
    assert steps["score"]["inputs"] == {"model": "trainlr", "data": "splitdata.test"}
    assert steps["writecsv"]["inputs"] == {"data": "score"} and steps["savemodel"]["params"] == {"name": "built-lr"}
    assert set(saved["layout"]) == set(steps)


def run_to_done(page, project: Path) -> int:
    """Run; every node done, with the rows of the data it read and scored. Returns the scored rows."""
    page.click("#run")
    page.locator('.run-state[data-run-status="succeeded"]').wait_for(timeout=60_000)
    assert page.locator('.step-node[data-status="done"]').count() == 6
    with open(project / "workflows" / "data" / "diabetes.csv") as data:
        read_rows = sum(1 for _ in data) - 1
    with open(project / "output" / "scored.csv") as scored:
        scored_rows = sum(1 for _ in csv.reader(scored)) - 1
    assert f"{read_rows:,} rows" in node(page, "readcsv").locator(".step-status").inner_text()
    assert f"{scored_rows:,} rows" in node(page, "score").locator(".step-status").inner_text()
    return scored_rows


def open_saved_model(page, context, project: Path) -> None:
    select(page, "savemodel")
    link = page.locator(".inspector a.model-link")
    assert ModelStore(project / "models").resolve("built-lr").version == 1
    with context.expect_page() as opened:
        link.click()
    model_page = opened.value
    model_page.wait_for_load_state()
    assert model_page.url.endswith("/models/built-lr/versions/1")
    assert model_page.locator("section.version h2").inner_text() == "Version 1"
    model_page.close()


def preview_scored_rows(page, scored_rows: int) -> None:
    select(page, "score")
    page.click(".inspector .preview-button")
    table = page.locator(".inspector .preview-table")
    table.wait_for()
    assert "prediction" in table.locator("thead").inner_text().split()
    assert table.locator("tbody tr").count() == min(50, scored_rows)


def test_build_validate_save_run_and_inspect_with_the_mouse(project: Path, serve, browser, tmp_path):
    base = serve(project / "models", [project / "workflows"], read_only=False)
    context, outside = browser
    shots = shots_folder(tmp_path)
    page, errors = open_editor(context, base)
    build_and_wire(page)
    fill_forms_until_valid(page, shots)
    auto_layout(page)
    shoot(page, shots, "editor-build")
    page.locator('input[name="new-path"]').fill("workflows/built.yaml")
    page.click("#save")
    page.locator('.file-name[data-dirty="no"]').wait_for()
    check_saved(project / "workflows" / "built.yaml")
    scored_rows = run_to_done(page, project)
    shoot(page, shots, "editor-run")
    open_saved_model(page, context, project)
    preview_scored_rows(page, scored_rows)
    shoot(page, shots, "editor-result")
    assert errors == [] and outside == []


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def change_one_parameter_and_save(page, hand: Path) -> None:
    """The solver changed and saved with Ctrl+S: the file differs by that one line; undo and redo it."""
    select(page, "train")
    solver = field(page, "solver").locator("select")
    assert solver.input_value() == "liblinear"
    assert field(page, "impute").locator("select").input_value() == "${impute}"  # not among the choices: kept
    solver.select_option("saga")
    page.keyboard.press("Control+s")
    page.locator('.file-name[data-dirty="no"]').wait_for()
    removed, added = changed_lines(HAND_WRITTEN, hand.read_text())  # one line changed, nothing else
    assert removed == "-      solver: liblinear   # small data"
    assert added.startswith("+      solver: saga ") and added.split() == ["+", "solver:", "saga", "#", "small", "data"]
    page.click("#undo")
    assert solver.input_value() == "liblinear"
    page.click("#redo")
    assert solver.input_value() == "saga"
    page.locator('.file-name[data-dirty="no"]').wait_for()  # back to what was saved


def copy_paste_delete_undo(page) -> None:
    select(page, "split")
    select(page, "train", modifiers=["Control"])
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    assert page.locator(".step-node").count() == 6
    pasted = page.locator(".step-node.selected")
    assert sorted(pasted.evaluate_all("els => els.map(e => e.dataset.step)")) == ["split2", "train2"]
    assert page.locator('.react-flow__edge[data-id="split2.train->train2.data"]').count() == 1
    assert page.locator(".react-flow__edge").count() == 5, "only the edge among the copied steps comes along"
    page.keyboard.press("Delete")
    assert page.locator(".step-node").count() == 4
    page.keyboard.press("Control+z")
    assert page.locator(".step-node").count() == 6
    page.keyboard.press("Control+z")
    assert page.locator(".step-node").count() == 4
    page.keyboard.press("Control+a")
    assert page.locator(".step-node.selected").count() == 4
    page.keyboard.press("Escape")
    assert page.locator(".step-node.selected").count() == 0


def search_and_quick_add(page) -> None:
    page.locator(".palette-search").fill("split")
    shown = page.locator(".palette-item").evaluate_all("els => els.map(e => e.dataset.node)")
    assert "SplitData" in shown and "ReadCSV" not in shown
    page.locator(".quick-add").fill("limit")
    page.locator(".quick-add").press("Enter")
    assert node(page, "limit").count() == 1
    page.click("#undo")
    assert node(page, "limit").count() == 0 and page.locator(".step-node").count() == 4


def conflict_then_reload(page, hand: Path) -> None:
    hand.write_text(HAND_WRITTEN.replace("0.33", "0.4"))  # changed on disk behind the editor's back
    select(page, "split")
    field(page, "seed").locator("input").fill("8")
    page.click("#save")
    page.locator(".banner.conflict").wait_for()
    page.click("#reload")
    select(page, "split")
    assert field(page, "test_size").locator("input").input_value() == "0.4"
    assert field(page, "seed").locator("input").input_value() == "7"


def rename_and_undo(page) -> None:
    select(page, "score")
    page.locator('.inspector input[name="step-id"]').fill("scoring")
    page.locator('.inspector input[name="step-id"]').press("Enter")
    assert node(page, "scoring").count() == 1
    drawn = page.locator('.react-flow__edge[data-id="train.model->scoring.model"] path.react-flow__edge-path')
    drawn.wait_for(state="attached")  # a level edge is a flat line, which Playwright counts as hidden
    assert drawn.get_attribute("d").startswith("M")
    assert page.locator(".react-flow__edge").count() == 4
    page.locator(".bottom button", has_text="YAML").click()
    page.locator(".bottom .yaml", has_text="id: scoring").wait_for()
    page.click("#undo")
    assert node(page, "score").count() == 1 and node(page, "scoring").count() == 0


def test_hand_written_file_one_line_diff_undo_redo_copy_paste(project: Path, serve, browser):
    hand = project / "workflows" / "hand.yaml"
    hand.write_text(HAND_WRITTEN)
    base = serve(project / "models", [project / "workflows"], read_only=False)
    context, outside = browser
    page, errors = open_editor(context, base, "workflows/hand.yaml")
    assert page.locator(".step-node").count() == 4 and page.locator(".react-flow__edge").count() == 4
    page.locator('.validity[data-state="ok"]').wait_for()
    change_one_parameter_and_save(page, hand)
    copy_paste_delete_undo(page)
    search_and_quick_add(page)
    other, other_errors = open_editor(context, base)  # another workflow, in the same browser
    other.click("#paste")
    assert other.locator(".step-node").count() == 2 and other.locator(".react-flow__edge").count() == 1
    conflict_then_reload(page, hand)
    rename_and_undo(page)
    assert errors == [] and other_errors == [] and outside == []


UNCONNECTED = """\
name: by-keys
steps:
  - {id: read, node: ReadCSV, params: {path: workflows/data/diabetes.csv}}
  - {id: split, node: SplitData}
  - {id: train, node: TrainLR, params: {label: class}}
  - {id: score, node: Score}
"""


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the focus is on ``selector`` (as a keyboard user moves through the page)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement?.matches(s) || false", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def connect_by_keys(page, source: str, query: str, downs: int = 0) -> None:
    """With the focus on step ``source``: Enter selects it, C opens the connect list, the filter narrows it,
    ArrowDown moves ``downs`` choices, Enter connects."""
    tab_to(page, f'.react-flow__node[data-id="{source}"]')
    page.keyboard.press("Enter")
    page.keyboard.press("c")
    page.locator(f'.connect-picker[data-connect-from="{source}"]').wait_for()
    assert page.evaluate("() => document.activeElement.name") == "connect-filter"
    page.keyboard.type(query)
    for _ in range(downs):
        page.keyboard.press("ArrowDown")


def chosen(page) -> dict:
    active = page.locator('.connect-picker input[name="connect-filter"]').get_attribute("aria-activedescendant")
    option = page.locator(f"#{active}")
    return {"port": option.get_attribute("data-source-port"), "to": option.get_attribute("data-target"),
            "input": option.get_attribute("data-target-port"), "refused": option.get_attribute("aria-disabled"),
            "text": option.inner_text()}


def has_edges(edges, count: int) -> bool:
    from playwright.sync_api import expect

    expect(edges).to_have_count(count)  # waits for the canvas to draw them
    return True


def live_text(page) -> str:
    return page.locator("#editor-live").inner_text()


def test_connect_and_disconnect_ports_with_the_keyboard_only(project: Path, serve, browser):
    """Four unconnected steps wired with Tab, Enter, C, a filter, the arrow keys and Enter (no mouse): the saved
    file has the inputs; a frame into a model input is refused with its reason; Escape closes the list; undo
    removes a keyboard-made connection, and a connection selected with the keyboard is deleted with Delete."""
    (project / "workflows" / "keys.yaml").write_text(UNCONNECTED)
    base = serve(project / "models", [project / "workflows"], read_only=False)
    context, outside = browser
    page, errors = open_editor(context, base, "workflows/keys.yaml")
    assert page.locator(".react-flow__edge").count() == 0
    edges = page.locator(".react-flow__edge")

    connect_by_keys(page, "read", "split")
    assert chosen(page)["to"] == "split" and chosen(page)["refused"] == "false"
    page.keyboard.press("Enter")
    page.locator('.react-flow__edge[data-id="read.data->split.data"]').wait_for(state="attached")
    assert page.locator(".connect-picker").count() == 0
    assert "Connected read.data to split.data." in live_text(page)
    assert page.evaluate("() => document.activeElement.dataset.id") == "read"  # the focus is back on the step

    connect_by_keys(page, "split", "train.data")
    page.keyboard.press("ArrowDown")
    assert chosen(page)["port"] == "test"
    page.keyboard.press("ArrowUp")
    assert (chosen(page)["port"], chosen(page)["input"]) == ("train", "data")
    page.keyboard.press("Enter")
    assert has_edges(edges, 2)

    page.keyboard.press("c")  # the focus is back on split, still selected: a frame into Score's model input
    page.keyboard.type("score.model")
    refused = chosen(page)
    assert refused["refused"] == "true" and "takes a model" in refused["text"]
    page.keyboard.press("Enter")
    reason = "split.train gives a frame, but score's input “model” (Score) takes a model."
    assert page.locator(".toast").inner_text() == f"Not connected: {reason}"
    assert reason in live_text(page) and has_edges(edges, 2)
    page.keyboard.press("Escape")
    assert page.locator(".connect-picker").count() == 0 and has_edges(edges, 2)

    connect_by_keys(page, "split", "score.data", downs=1)
    assert chosen(page)["port"] == "test"
    page.keyboard.press("Enter")
    connect_by_keys(page, "train", "score")
    assert (chosen(page)["to"], chosen(page)["input"]) == ("score", "model")
    page.keyboard.press("Enter")
    assert has_edges(edges, 4)

    page.keyboard.press("Control+s")
    page.locator('.file-name[data-dirty="no"]').wait_for()
    steps = {s["id"]: s for s in yaml.safe_load((project / "workflows" / "keys.yaml").read_text())["steps"]}
    assert steps["split"]["inputs"] == {"data": "read"} and steps["train"]["inputs"] == {"data": "split.train"}
    assert steps["score"]["inputs"] == {"data": "split.test", "model": "train"}
    assert "inputs" not in steps["read"]

    page.keyboard.press("Control+z")  # undoes the last keyboard-made connection
    assert has_edges(edges, 3) and page.locator('.react-flow__edge[data-id="train.model->score.model"]').count() == 0
    page.locator('.file-name[data-dirty="yes"]').wait_for()

    tab_to(page, '.react-flow__edge[data-id="split.test->score.data"]')
    page.keyboard.press("Enter")
    page.locator('.react-flow__edge.selected[data-id="split.test->score.data"]').wait_for(state="attached")
    page.keyboard.press("Delete")
    assert has_edges(edges, 2) and "Deleted 1 connection(s)." in live_text(page)
    page.keyboard.press("Control+z")
    assert has_edges(edges, 3)
    assert errors == [] and outside == []


def fifty_steps() -> str:
    lines = ["name: fifty", "steps:", "  - id: s0", "    node: ReadCSV",
             "    params: {path: workflows/data/diabetes.csv}"]
    for i in range(1, 50):
        lines += [f"  - id: s{i}", "    node: Limit", f"    inputs: {{data: s{i - 1}}}",
                  f"    params: {{rows: {700 - i}}}"]
    return "\n".join(lines) + "\n"


def test_validation_feedback_time_on_fifty_steps(project: Path, serve, browser):
    (project / "workflows" / "fifty.yaml").write_text(fifty_steps())
    base = serve(project / "models", [project / "workflows"], read_only=False)
    context, _ = browser
    page, errors = open_editor(context, base, "workflows/fifty.yaml")
    assert page.locator(".step-node").count() == 50
    page.locator('.validity[data-state="ok"]').wait_for()
    select(page, "s25")
    rows = field(page, "rows").locator("input")
    for i, value in enumerate(["10", "x", "12", "y", "14", "16", "z", "18"]):
        page.wait_for_timeout(200)  # apart, as edits by hand are
        done = page.evaluate("() => window.__emberflowEditor.validationMs.length")
        rows.fill(value)
        page.wait_for_function(f"() => window.__emberflowEditor.validationMs.length > {done}")
        state = "problems" if value.isalpha() else "ok"
        page.locator(f'.validity[data-state="{state}"]').wait_for()
        assert node(page, "s25").get_attribute("data-problems") == ("1" if value.isalpha() else "0"), i
    probe = page.evaluate("() => window.__emberflowEditor")
    feedback = probe["validationMs"][-8:]
    trips = probe["roundTripMs"][-8:]
    print(f"\nvalidation feedback on a 50-step workflow: median {statistics.median(feedback):.0f} ms, "
          f"max {max(feedback):.0f} ms from edit to problems on screen (server round trip median "
          f"{statistics.median(trips):.0f} ms), 8 edits")
    assert errors == []


def test_cancel_button_stops_a_running_run(project: Path, serve, browser, monkeypatch):
    """Cancel from the page: the run's process (here one that would sleep for a minute before running the file)
    is stopped, and the page shows the run and its steps as they end."""
    from emberflow.engine.ui import runs

    real = runs.RunQueue.command
    monkeypatch.setattr(runs.RunQueue, "command", lambda self, run: [
        "sh", "-c", 'sleep 60 && exec "$@"', "sh", *real(self, run)])
    base = serve(project / "models", [project / "workflows"], read_only=False)
    context, outside = browser
    page, errors = open_editor(context, base, "workflows/train.yaml")
    page.locator('.validity[data-state="ok"]').wait_for()
    assert page.locator("#cancel").is_disabled()
    page.click("#run")
    page.locator('.run-state[data-run-status="running"]').wait_for()
    assert page.locator('.step-node[data-status="queued"]').count() == 6
    page.click("#cancel")
    page.locator('.run-state[data-run-status="cancelled"]').wait_for(timeout=30_000)
    assert page.locator("#cancel").is_disabled() and page.locator("#run").is_enabled()
    assert errors == [] and outside == []


def test_a_failed_step_shows_its_error_and_the_steps_after_it_are_skipped(project: Path, serve, browser):
    (project / "workflows" / "broken.yaml").write_text(
        "name: broken\nsteps:\n  - {id: read, node: ReadCSV, params: {path: workflows/data/gone.csv}}\n"
        "  - {id: first, node: Limit, inputs: {data: read}, params: {rows: 5}}\n"
        "layout:\n  read: {x: 500, y: 300}\n")  # a layout for one step: the other is placed by the auto-layout
    base = serve(project / "models", [project / "workflows"], read_only=False)
    context, outside = browser
    page, errors = open_editor(context, base, "workflows/broken.yaml")
    place = "el => el.closest('.react-flow__node').style.transform"
    assert node(page, "read").evaluate(place) == "translate(500px, 300px)"
    assert node(page, "first").evaluate(place) == "translate(300px, 40px)"
    page.locator(".problems li.warning", has_text="gone.csv").wait_for()  # a warning, which does not block a run
    page.click("#run")
    page.locator('.run-state[data-run-status="failed"]').wait_for(timeout=60_000)
    assert node(page, "read").get_attribute("data-status") == "failed"
    assert "gone.csv" in node(page, "read").locator(".step-error").inner_text()
    assert node(page, "first").get_attribute("data-status") == "skipped"
    select(page, "read")
    assert "gone.csv" in page.locator(".inspector .step-error-full").inner_text()
    assert errors == [] and outside == []
