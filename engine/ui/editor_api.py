"""The visual editor's routes: the page ``/editor`` and its JSON API under ``/api/`` (node definitions, workflow
files, validation, runs and their events). Errors answer ``{"error": "one line"}`` with a 4xx status.

No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations as real classes.
"""

import json
import os
import re
from pathlib import Path
from typing import Any

from ..errors import WorkflowError
from .checking import Confined, check, confinement_problems, problem_of, problems_of
from .editing import apply_model, model_of
from .files import FileRefused, WorkflowFiles, check_size
from .runs import QueueFull, RunQueue, follow

HERE = Path(__file__).resolve().parent
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")  # a step id or a port name in a preview URL


def add_editor_routes(app, sources: list[Path], templates, runs: RunQueue, confined: Confined) -> None:
    from fastapi.responses import JSONResponse

    files = WorkflowFiles(sources)

    @app.exception_handler(FileRefused)
    async def refused(request, exc: FileRefused):
        body = {"error": str(exc)}
        if exc.status == 409:
            body["etag"] = exc.etag
        return JSONResponse(body, status_code=exc.status)

    _page(app, templates)
    _file_routes(app, files, confined)
    _run_routes(app, files, runs, confined)


def _page(app, templates) -> None:
    from fastapi import Request

    @app.get("/editor", include_in_schema=False)
    def editor_page(request: Request, file: str = ""):
        built = (HERE / "static" / "editor" / "editor.js").is_file()
        return templates.TemplateResponse(request, "editor.html", {"file": file, "built": built},
                                          status_code=200 if built else 503)


def _file_routes(app, files: WorkflowFiles, confined: Confined) -> None:
    from pydantic import BaseModel

    from ..registry import default_registry

    class ValidateBody(BaseModel):
        workflow: dict[str, Any] | None = None
        base_text: str | None = None
        text: str | None = None

    class SaveBody(BaseModel):
        path: str
        workflow: dict[str, Any]
        etag: str | None = None

    @app.get("/api/nodes", tags=["editor"])
    def api_nodes() -> list[dict[str, Any]]:
        """Every registered node (built-ins and plugins), as ``emberflow nodes list --json`` prints them."""
        return [cls.definition() for cls in default_registry().all().values()]

    @app.get("/api/editor/files", tags=["editor"])
    def api_files() -> list[dict[str, str]]:
        """The workflow files in the workflows folders, by the path the other editor routes take."""
        return files.listing()

    @app.get("/api/editor/file", tags=["editor"])
    def api_file(path: str) -> dict[str, Any]:
        """A workflow file: its text, etag (SHA-256 of its bytes) and the editor's model of it."""
        text, etag = files.read(path)
        return {"path": path, "text": text, "etag": etag, "workflow": model_of(text)}

    @app.post("/api/editor/validate", tags=["editor"])
    def api_validate(body: ValidateBody) -> dict[str, Any]:
        """Check a workflow model (applied onto ``base_text``, the file's text) or a YAML ``text`` with the
        validator of ``emberflow validate``: the rendered text, the problems (message, line, column, step, field)
        and the columns known at each step's frame outputs (``step.port``)."""
        if body.text is None and body.workflow is None:
            raise FileRefused(400, "send a workflow model (with base_text) or a text")
        check_size(body.text or "")
        check_size(body.base_text or "")
        return check(body.workflow, body.base_text, body.text, confined=confined)

    @app.put("/api/editor/file", tags=["editor"])
    def api_save(body: SaveBody) -> dict[str, Any]:
        """Save a model into a workflow file (``etag`` null: a new file). The model is applied onto the file's
        YAML, so only what changed differs. 409 when the file changed since ``etag``; drafts with problems are
        saved (and their problems returned)."""
        text, etag = files.write(body.path, "", body.etag, render=lambda old: apply_model(body.workflow, old))
        return {"path": body.path, "etag": etag, "text": text, "problems": problems_of(text, body.path, confined)}


def _run_routes(app, files: WorkflowFiles, runs: RunQueue, confined: Confined) -> None:
    from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
    from pydantic import BaseModel

    from ..workflow import load_workflow

    class RunBody(BaseModel):
        path: str

    def run_of(run_id: str):
        run = runs.get(run_id)
        if run is None:
            raise FileRefused(404, f"no editor run {run_id!r} (runs are kept while the UI runs)")
        return run

    @app.post("/api/editor/runs", tags=["editor"], status_code=202)
    def api_run(body: RunBody):
        """Run a saved workflow file in a process of its own (``emberflow run``); 400 if it has problems, 429 when
        the queue is full."""
        path = files.locate(body.path)
        if not path.is_file():
            raise FileRefused(404, f"no workflow file {body.path!r}; save it first")
        shown = os.path.relpath(path, confined.base) if path.is_relative_to(confined.base) else str(path)
        try:
            workflow = load_workflow(confined.base / shown)
        except WorkflowError as exc:
            return JSONResponse({"error": str(exc), "problems": [problem_of(exc, model_of(path.read_text()))]},
                                status_code=400)
        outside = confinement_problems(workflow, confined)
        if outside:
            return JSONResponse({"error": outside[0]["message"], "problems": outside}, status_code=400)
        try:
            run = runs.submit(Path(shown), list(workflow.order))
        except QueueFull as exc:
            raise FileRefused(429, str(exc)) from None
        return {"run_id": run.run_id}

    @app.get("/api/editor/runs/{run_id}/events", tags=["editor"])
    def api_events(run_id: str):
        """The run's events as Server-Sent Events (each ``data:`` a JSON object: step and run events); the stream
        ends after the run's final event."""
        run = run_of(run_id)

        async def stream():
            async for event in follow(run):
                yield ": keep-alive\n\n" if event is None else f"data: {json.dumps(event, default=str)}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.get("/api/editor/runs/{run_id}/preview/{step}/{port}", tags=["editor"])
    def api_preview(run_id: str, step: str, port: str):
        """The first rows of a frame a step produced: ``{"columns", "rows", "total_rows"}``."""
        run = run_of(run_id)
        file = run.folder / "preview" / step / f"{port}.json"
        if not (NAME.match(step) and NAME.match(port)) or not file.is_file():
            raise FileRefused(404, f"no preview of {step}.{port} in run {run_id}")
        return FileResponse(file, media_type="application/json")

    @app.post("/api/editor/runs/{run_id}/cancel", tags=["editor"], status_code=202)
    def api_cancel(run_id: str) -> dict[str, Any]:
        """Cancel a queued or running run: its process stops its sessions and records ``cancelled``."""
        run = runs.cancel(run_of(run_id).run_id)
        return {"run_id": run_id, "status": run.status}
