"""The web UI: FastAPI routes over the model store, pages from Jinja templates, the same data as JSON under
``/api/`` (documented at ``/docs``, whose Swagger UI files are served from the installed package, never a CDN).

The browsing routes here are all GETs; the editor's (editor_api.py, with ``editor=True``) write workflow files
and start runs, behind the same-origin check and, off loopback, the token (security.py). A store file is only
served after the store's ``stored_file`` has checked that the manifest lists it and that its real path stays inside
the version's folder; workflow files are only found through a catalog built by walking the configured folders.
Anything else answers 404.

The framework is imported inside ``create_app`` (and this module has no ``from __future__ import
annotations``, so the routes' annotations are the real classes FastAPI needs).
"""

import shutil
import tempfile
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import EmberflowError, IntegrityError, UserError
from ..store import MANIFEST, ModelStore, VersionRef, check_name
from . import versions, views
from .graph import TooLargeToDraw, run_graph
from .hosts import HostGuard
from .workflows import WorkflowPages, workflow_catalog

HERE = Path(__file__).resolve().parent
DEFAULT_WORKFLOWS = ("workflows",)


def create_app(store_root: str | Path, workflows: list[str | Path] | None = None,
               allowed_hosts: list[str] | None = None, editor: bool = False, token: str | None = None,
               max_running: int = 2, max_queued: int = 8, allow: list[str | Path] | None = None):
    """The app for the store at ``store_root``; ``workflows`` are folders or files for the workflow pages;
    ``allowed_hosts`` (Host headers accepted) guards a loopback-bound server against DNS rebinding.

    ``editor`` adds the workflow editor (engine/ui/editor_api.py), which edits the files of ``workflows`` and
    runs them (``max_running`` at a time, ``max_queued`` waiting); every request that changes something is then
    checked for the same origin. ``token``, when set, is required on every request (security.py). Runs read and
    write only inside the workflows folders, the store and ``allow`` (default: the current folder)."""
    from fastapi.staticfiles import StaticFiles
    from fastapi_offline import FastAPIOffline

    store = ModelStore(store_root)
    sources = [Path(p) for p in (workflows or DEFAULT_WORKFLOWS)]
    app = FastAPIOffline(
        title="emberflow", version=__version__, redoc_url=None, static_url="/docs-assets",
        description="JSON API over an emberflow model store (models, versions, manifests, runs) and, unless the UI "
                    "is read-only, the workflow editor's (nodes, workflow files, validation, runs).",
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = _templates(store)
    _error_handlers(app, templates)
    _api_routes(app, store, sources)
    _model_pages(app, store, templates)
    _compare_routes(app, store, templates)
    _file_routes(app, store, templates)
    _run_and_workflow_pages(app, store, sources, templates)
    if editor:
        _add_editor(app, store, sources, templates, max_running, max_queued, allow)
    if token:
        from .security import TokenGuard

        app.add_middleware(TokenGuard, token=token)
    if allowed_hosts:
        app.add_middleware(HostGuard, allowed_hosts=allowed_hosts)
    return app


def _add_editor(app, store: ModelStore, sources: list[Path], templates, max_running: int, max_queued: int,
                allow: list[str | Path] | None):
    from .checking import Confined
    from .editor_api import add_editor_routes
    from .runs import RunQueue
    from .security import OriginGuard

    base = Path.cwd()
    folders = [s if s.is_dir() else s.parent for s in sources]
    confined = Confined([*folders, store.root, *(base / Path(a) for a in (allow if allow is not None else ["."]))],
                        base)
    runs = RunQueue(store.root, max_running=max_running, max_queued=max_queued, cwd=base)
    app.state.runs = runs
    app.router.on_shutdown.append(runs.shutdown)
    add_editor_routes(app, sources, templates, runs, confined)
    app.add_middleware(OriginGuard)
    templates.env.globals["editor"] = True


def _templates(store: ModelStore):
    from fastapi.templating import Jinja2Templates

    from ..render import human_size

    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["size"] = lambda n: human_size(n) if _is_count(n) else ""
    templates.env.filters["num"] = versions.number_text
    templates.env.filters["count"] = _count
    templates.env.globals.update(store_root=str(store.root), version=__version__)
    return templates


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _count(value: Any) -> str:
    """A whole number with thousands separators; nothing for a missing value (a failed or skipped step has no
    rows), and any other value (a hand-edited record) as its text."""
    if _is_count(value):
        return f"{value:,}"
    return "" if value is None else str(value)  # an undefined template value reads as ""


def resolve_version(store: ModelStore, name: str, which: str) -> VersionRef:
    """``name`` and a version number, alias or ``latest`` from a URL, to a stored version whose folder and
    manifest really are inside the store (not symbolic links out of it)."""
    check_name(name)
    ref = store.resolve(f"{name}@{views.version_or_alias(name, which)}")
    store.stored_file(ref, MANIFEST)
    return ref


def _error_handlers(app, templates) -> None:
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    def respond(request, status: int, message: str):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message}, status_code=status)
        heading = {404: "Not found", 409: "Damaged model"}.get(status, "Error")
        return templates.TemplateResponse(request, "error.html", {"status": status, "heading": heading,
                                                                  "message": message}, status_code=status)

    @app.exception_handler(EmberflowError)
    async def emberflow_error(request, exc: EmberflowError):
        # A name, version, alias, run or file that is not in the store (or cannot be) is simply not found.
        status = 409 if isinstance(exc, IntegrityError) else 404 if isinstance(exc, UserError) else 500
        return respond(request, status, str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request, exc: HTTPException):
        return respond(request, exc.status_code, str(exc.detail))


def _api_routes(app, store: ModelStore, sources: list[Path]) -> None:
    from fastapi import Query

    from ..inventory import list_models, list_runs, list_versions

    @app.get("/api/models", tags=["models"])
    def api_models() -> list[dict[str, Any]]:
        """Every model: its versions, latest version, aliases, format, engine, created time and size."""
        return list_models(store)

    @app.get("/api/models/{name}", tags=["models"])
    def api_model(name: str) -> dict[str, Any]:
        """One model: its aliases and every version's summary (format, size, metrics, aliases)."""
        check_name(name)
        return {"name": name, "aliases": store.aliases(name), "versions": list_versions(store, name)}

    @app.get("/api/models/{name}/versions/{version}", tags=["models"])
    def api_version(name: str, version: str) -> dict[str, Any]:
        """One version's manifest (``version`` is a number, an alias or ``latest``), files and checksums included."""
        ref = resolve_version(store, name, version)
        return {"name": ref.name, "version": ref.version, "manifest": store.manifest(ref)}

    @app.get("/api/runs", tags=["runs"])
    def api_runs(limit: int | None = Query(None, ge=1)) -> list[dict[str, Any]]:
        """Recorded runs, newest first: status, workflow, start time, seconds, steps and models saved."""
        return list_runs(store, limit)

    @app.get("/api/runs/{run_id}", tags=["runs"])
    def api_run(run_id: str) -> dict[str, Any]:
        """A whole run record: steps (engine, status, seconds, rows, metrics), edges, models, workflow text."""
        return store.read_run(run_id)

    @app.get("/api/workflows", tags=["workflows"])
    def api_workflows() -> list[str]:
        """The keys of the workflow files the UI shows (see ``/workflows/{key}``)."""
        return list(workflow_catalog(sources))


def _model_pages(app, store: ModelStore, templates) -> None:
    from fastapi import Request
    from fastapi.responses import RedirectResponse

    from ..inventory import list_models, list_versions

    @app.get("/", include_in_schema=False)
    def home():
        return RedirectResponse("/models")

    @app.get("/models", include_in_schema=False)
    def models_page(request: Request, q: str = ""):
        models = list_models(store)
        shown = [m for m in models if views.matches(m, q)] if q.strip() else models
        return templates.TemplateResponse(request, "models.html", {
            "section": "models", "models": shown, "query": q, "total": len(models)})

    @app.get("/models/{name}", include_in_schema=False)
    def model_page(request: Request, name: str, metric: str = ""):
        check_name(name)
        overview = versions.model_overview(store, list_versions(store, name), name, metric)
        return templates.TemplateResponse(request, "model.html", {
            "section": "models", "name": name, "aliases": store.alias_report(name)[0], **overview})

    @app.get("/models/{name}/versions/{which}", include_in_schema=False)
    def version_page(request: Request, name: str, which: str):
        ref = resolve_version(store, name, which)
        manifest = store.manifest(ref)
        files = manifest.get("files")
        return templates.TemplateResponse(request, "version.html", {
            "section": "models", "ref": ref, "manifest": manifest, "aliases": store.alias_report(ref.name)[0],
            "versions": store.versions(ref.name), "tree": views.tree_rows(files if isinstance(files, dict) else {}),
            "details": versions.version_details(manifest, versions.evaluation_of(store, manifest))})


def compared_refs(store: ModelStore, name: str, a: str, b: str) -> tuple[VersionRef, VersionRef]:
    """The two versions a comparison URL names: each a version or alias of ``name`` (``latest`` too), or
    ``OTHER@VERSION`` of another model; by default the version before the latest, and the latest."""
    check_name(name)
    versions = store.versions(name)
    if not versions:
        store.resolve(name)  # the model's own "no model" error
    defaults = [str(versions[-2] if len(versions) > 1 else versions[-1]), "latest"]
    refs = []
    for given, default in zip((a, b), defaults, strict=True):
        other, at, which = given.strip().rpartition("@")
        refs.append(resolve_version(store, other if at else name, which or ("latest" if at else default)))
    return refs[0], refs[1]


def _compare_routes(app, store: ModelStore, templates) -> None:
    """Two versions side by side: the page ``/models/NAME/compare?a=1&b=2`` and its JSON under ``/api/``, the same
    entries ``emberflow models diff`` prints (``engine.compare``)."""
    from fastapi import Request

    from ..compare import changed_count, compare_versions, evaluation

    def compared(name: str, a: str, b: str) -> dict[str, Any]:
        refs = compared_refs(store, name, a, b)
        manifests = [store.manifest(ref) for ref in refs]
        sections = compare_versions(*manifests, *(evaluation(store, manifest) for manifest in manifests))
        changed, total = changed_count(sections)
        return {"a": {"name": refs[0].name, "version": refs[0].version, "created": manifests[0].get("created")},
                "b": {"name": refs[1].name, "version": refs[1].version, "created": manifests[1].get("created")},
                "changed": changed, "entries": total, "sections": sections}

    @app.get("/api/models/{name}/compare", tags=["models"])
    def api_compare(name: str, a: str = "", b: str = "") -> dict[str, Any]:
        """Two versions side by side, by section (format, params, metrics, evaluation, schema, libraries): each
        entry's key, its value in ``a`` and in ``b`` (null where that version records none), and whether they
        differ. ``a`` and ``b`` are versions or aliases of the model, or ``OTHER@VERSION`` of another model;
        by default the version before the latest, and the latest."""
        return compared(name, a, b)

    @app.get("/models/{name}/compare", include_in_schema=False)
    def compare_page(request: Request, name: str, a: str = "", b: str = "", only: str = ""):
        comparison = compared(name, a, b)
        sides = [comparison["a"], comparison["b"]]
        fields = [str(s["version"]) if s["name"] == name else f"{s['name']}@{s['version']}" for s in sides]
        return templates.TemplateResponse(request, "compare.html", {
            "section": "models", "name": name, "comparison": comparison, "only_changed": only == "changed",
            "labels": [f"{s['name']}@{s['version']}" for s in sides], "fields": fields,
            "versions": store.versions(name)})


def _file_routes(app, store: ModelStore, templates) -> None:
    from fastapi import Request
    from fastapi.responses import FileResponse
    from starlette.background import BackgroundTask

    from ..archive import export_zip, zip_folder_name

    @app.get("/models/{name}/versions/{which}/download", tags=["downloads"])
    def download_version(name: str, which: str):
        """The version as one zip: a folder ``NAME-VERSION/`` with the manifest and every file it lists."""
        ref = resolve_version(store, name, which)
        folder = Path(tempfile.mkdtemp(prefix="emberflow-download-"))
        try:
            path = export_zip(store, ref, folder / f"{zip_folder_name(ref)}.zip")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return FileResponse(path, media_type="application/zip", filename=path.name,
                            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))

    @app.get("/models/{name}/versions/{which}/files/{rel:path}", tags=["downloads"])
    def download_file(name: str, which: str, rel: str):
        """One file of a version, by its path in the manifest."""
        ref = resolve_version(store, name, which)
        path = store.stored_file(ref, rel)
        return FileResponse(path, media_type="application/octet-stream", filename=path.name)

    @app.get("/models/{name}/versions/{which}/view/{rel:path}", include_in_schema=False)
    def view_file(request: Request, name: str, which: str, rel: str):
        ref = resolve_version(store, name, which)
        path = store.stored_file(ref, rel)
        meta = (store.manifest(ref).get("files") or {}).get(rel) or {}
        return templates.TemplateResponse(request, "file.html", {
            "section": "models", "ref": ref, "rel": rel, "size": path.stat().st_size, "sha256": meta.get("sha256"),
            "text": views.text_preview(path)})


def _run_and_workflow_pages(app, store: ModelStore, sources: list[Path], templates) -> None:
    from fastapi import Request
    from starlette.exceptions import HTTPException

    from ..inventory import list_runs

    @app.get("/runs", include_in_schema=False)
    def runs_page(request: Request):
        return templates.TemplateResponse(request, "runs.html", {"section": "runs", "runs": list_runs(store)})

    @app.get("/runs/{run_id}", include_in_schema=False)
    def run_page(request: Request, run_id: str):
        record = store.read_run(run_id)
        try:
            graph, graph_note = run_graph(record), None
        except TooLargeToDraw as exc:
            graph, graph_note = None, str(exc)
        return templates.TemplateResponse(request, "run.html", {
            "section": "runs", "run": record, "graph": graph, "graph_note": graph_note})

    pages = WorkflowPages()

    @app.get("/workflows", include_in_schema=False)
    def workflows_page(request: Request):
        return templates.TemplateResponse(request, "workflows.html", {
            "section": "workflows", "workflows": pages.rows(workflow_catalog(sources)),
            "sources": [str(s) for s in sources]})

    @app.get("/workflows/{key:path}", include_in_schema=False)
    def workflow_page(request: Request, key: str):
        path = workflow_catalog(sources).get(key)
        if path is None:
            raise HTTPException(404, f"no workflow file {views.clip(key)!r} here; the list is at /workflows")
        return templates.TemplateResponse(request, "workflow.html", {
            "section": "workflows", "key": key, "view": pages.page(path)})
