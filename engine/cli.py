"""The ``emberflow`` command line.

Imports are kept inside the commands, so ``emberflow --help`` and ``emberflow validate`` load neither pandas,
scikit-learn, pyspark nor h2o. Bad input exits with code 2 and one line on stderr; a failed step exits with 1;
``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from . import __version__
from .errors import EmberflowError, UserError


def _parse_assignment(text: str, option: str) -> tuple[str, Any]:
    import yaml

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UserError(f"{option} expects NAME=VALUE, got {text!r}")
    try:
        parsed = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError:
        parsed = value
    if isinstance(parsed, (dict, list)) or parsed is None:
        parsed = value
    return key.strip(), parsed


def _vars(args: argparse.Namespace) -> dict[str, Any]:
    return dict(_parse_assignment(item, "--var") for item in args.var or [])


def _store(args: argparse.Namespace):
    from .store import ModelStore, default_store_root

    return ModelStore(default_store_root(getattr(args, "store", None)))


def _print_json(data: Any) -> None:
    """Print ``data`` as indented JSON (``json`` is imported here: most commands never need it)."""
    import json

    print(json.dumps(data, indent=2, default=str))


def _load_workflow(args: argparse.Namespace):
    """The workflow ``args.file`` with its ``--var``s, warning on stderr (also under --json) about each ``--var``
    that no ``${...}`` of the workflow uses: a misspelt name would otherwise change nothing, silently."""
    from .workflow import load_workflow, unused_vars

    overrides = _vars(args)
    workflow = load_workflow(args.file, overrides)
    _warn(unused_vars(workflow, overrides))
    return workflow


def _warn(warnings: list[str]) -> None:
    from .render import printable

    for warning in warnings:
        print(f"warning: {printable(warning)}", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    from .runner import Reporter, cancel_on_sigterm, run_workflow

    _collect_once_at_exit()
    workflow = _load_workflow(args)
    settings = {
        "spark": {"master": args.spark_master, "staging": args.spark_staging,
                  "conf": dict(_parse_assignment(c, "--spark-conf") for c in args.spark_conf or []) or None},
        "h2o": {"url": args.h2o_url},
    }
    if settings["spark"]["conf"] and workflow.spark.get("conf"):
        settings["spark"]["conf"] = {**workflow.spark["conf"], **settings["spark"]["conf"]}
    stream = None if args.quiet or args.json else sys.stderr
    if args.events:
        from .events import EventsReporter

        reporter = EventsReporter(args.events, stream, warnings=sys.stderr)
    else:
        reporter = Reporter(stream, warnings=sys.stderr)
    with cancel_on_sigterm():
        result = run_workflow(workflow, _store(args), settings=settings, reporter=reporter, run_id=args.run_id)
    record = {k: v for k, v in result.record.items() if k != "text"}
    if args.json:
        _print_json(record)
    elif not args.quiet:
        _print_summary(record)
    if result.error is not None:
        raise result.error
    return 0


_exit_collection_registered = False


def _collect_once_at_exit() -> None:
    """End the process without the interpreter's shutdown walking every live object through its collections.

    After a run has loaded pandas, scikit-learn and SciPy, Python's shutdown spends about 0.2 s in garbage
    collections over their objects while it unloads the modules (an eighth of a short run). At exit, this collects
    the garbage the command left once (its finalizers run as they would have), then freezes what is still alive,
    which the shutdown's collections then skip: objects alive at exit, which Python does not promise to finalize.
    The other exit handlers run as before. Registered once per process (tests run commands in-process)."""
    global _exit_collection_registered
    if _exit_collection_registered:
        return
    import atexit
    import gc

    def collect_then_freeze() -> None:
        gc.collect()
        gc.freeze()

    atexit.register(collect_then_freeze)
    _exit_collection_registered = True


def _print_summary(record: dict[str, Any]) -> None:
    from .render import printable

    status = "finished" if record["status"] == "ok" else "FAILED"
    print(f"run {record['run_id']} {status} in {record['seconds']:.2f}s ({printable(record['workflow']['name'])})")
    for model in record["models"]:
        print(f"  saved model {model['name']}@{model['version']} ({model['format']}) at {printable(model['path'])}")
    for step, metrics in record["metrics"].items():
        shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))
        print(f"  {step}: {shown}")


def cmd_validate(args: argparse.Namespace) -> int:
    from .render import plural, printable
    from .workflow import missing_input_files

    workflow = _load_workflow(args)
    _warn(missing_input_files(workflow))
    engines = ", ".join(sorted(workflow.engines()))
    print(f"{printable(args.file)}: valid workflow '{printable(workflow.name)}', "
          f"{plural(len(workflow.steps), 'step')} ({engines})")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from .schema import workflow_schema

    _print_json(workflow_schema())
    return 0


def cmd_nodes_list(args: argparse.Namespace) -> int:
    from .registry import default_registry
    from .render import plain_doc, table

    nodes = default_registry().all()
    if args.json:
        _print_json([cls.definition() for cls in nodes.values()])
        return 0
    rows = [[name, cls.kind, ", ".join(cls.engines()), plain_doc(cls.description())] for name, cls in nodes.items()]
    table(["node", "type", "engines", "description"], rows)
    return 0


def cmd_nodes_show(args: argparse.Namespace) -> int:
    import inspect
    import json

    from .registry import default_registry
    from .render import plain_doc, printable, table
    from .suggest import did_you_mean

    registry = default_registry()
    if args.node not in registry:
        raise UserError(f"unknown node {args.node!r}{did_you_mean(args.node, registry.names())}; known nodes: "
                        f"{', '.join(registry.names())}")
    node = registry.get(args.node)
    definition = node.definition()
    if args.json:
        _print_json(definition)
        return 0
    print(printable(f"{definition['name']} ({definition['type']}; engines: {', '.join(definition['engines'])})"))
    for line in plain_doc(inspect.cleandoc(node.__doc__ or "")).splitlines():  # a plugin's text, too
        print(printable(line))
    ports = [f"{p['name']}: {p['type']}" for p in definition["inputs"]]
    if definition.get("extra_inputs"):
        ports.append(f"more {definition['extra_inputs']}s, each under a port name of its own")
    outs = [f"{p['name']}: {p['type']}" for p in definition["outputs"]]
    print()
    print(printable(f"inputs: {', '.join(ports) or 'none'}    outputs: {', '.join(outs) or 'none'}") + "\n")
    rows = [[f["name"] + (f" ({', '.join(f['aliases'])})" if f["aliases"] else ""), f["type"],
             "required" if f["required"] else json.dumps(f["default"]), plain_doc(f["doc"])]
            for f in definition["fields"]]
    table(["param (aliases)", "type", "default", "doc"], rows)
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    from .inventory import list_models
    from .render import table

    models = list_models(_store(args))
    if args.json:
        _print_json(models)
        return 0
    if not models:
        print(f"no models in the store at {_store(args).root}")
        return 0
    rows = [[m["name"], ",".join(map(str, m["versions"])), m["latest"],
             ",".join(f"{a}={v}" for a, v in m["aliases"].items()), m["format"], m["engine"], m["created"],
             None if m["size"] is None else _size(m["size"])] for m in models]
    table(["name", "versions", "latest", "aliases", "format", "engine", "created", "size"], rows)
    for problem in (p for m in models for p in m["problems"]):  # a damaged model is listed, and said so
        print(problem, file=sys.stderr)
    return 0


def _size(size: int) -> str:
    from .render import human_size

    return human_size(size)


def cmd_models_show(args: argparse.Namespace) -> int:
    from .compare import evaluation
    from .render import file_tree, printable

    store = _store(args)
    ref = store.resolve(args.ref)
    manifest = store.manifest(ref)
    evaluated = evaluation(store, manifest)
    if args.json:
        _print_json({"path": str(ref.path), "manifest": manifest, "evaluation": evaluated})
        return 0
    # every text from the manifest is shown printable: a manifest is a file anyone who can write the store may edit
    print(printable(f"{ref} at {ref.path}"))
    aliases, alias_problems = store.alias_report(ref.name)  # a damaged aliases.json does not hide the version
    here = sorted(a for a, v in aliases.items() if v == ref.version)
    print(printable(f"  versions of {ref.name}: {', '.join(map(str, store.versions(ref.name)))}; aliases of this "
                    f"version: {', '.join(here) or 'none'}"))
    for problem in alias_problems:
        print(printable(f"  aliases: {problem}"))
    for key in ("format", "engine", "model_class", "created", "python", "label"):
        print(printable(f"  {key}: {manifest.get(key)}"))
    for line in _model_lines(manifest, evaluated):
        print(printable(f"  {line}"))
    wf = manifest.get("workflow") if isinstance(manifest.get("workflow"), dict) else {}
    print(printable(f"  made by: workflow {wf.get('name')} ({wf.get('path')}), step {manifest.get('step')}, "
                    f"run {manifest.get('run_id')}"))
    origin = manifest.get("imported_from")
    if isinstance(origin, dict):
        print(printable(f"  imported from: {origin.get('name')}@{origin.get('version')} of another store"))
    print("  files:")
    file_tree(manifest.get("files") or {}, indent="    ")
    return 0


def _input_lines(manifest: dict[str, Any], most_levels: int = 20) -> list[str]:
    """The categorical inputs and the levels the model saw in training (the preparation inside the model)."""
    schema = manifest.get("input_schema")
    columns = [c for c in schema if isinstance(c, dict)] if isinstance(schema, list) else []
    lines = []
    for column in columns:
        levels = column.get("levels")
        if column.get("kind") == "categorical" and isinstance(levels, list):
            shown = ", ".join(map(str, levels[:most_levels])) + (" ..." if len(levels) > most_levels else "")
            lines.append(f"categories of {column.get('name')}: {shown or 'none seen'}")
    return lines


def _model_lines(manifest: dict[str, Any], evaluated: dict[str, dict[str, Any]]) -> list[str]:
    """What a version is: its libraries, schema, training parameters and metrics, and the metrics the steps of
    the run that saved it measured on it (Score's, usually on held-out rows)."""
    from .formats import recorded_libraries

    features = [f if isinstance(f, dict) else {"name": f} for f in manifest.get("features") or []]
    typed = [f"{f.get('name')} ({f.get('dtype', 'unknown')})" for f in features]
    params = manifest.get("params") or {}
    lines = [
        f"libraries: {', '.join(f'{k} {v}' for k, v in recorded_libraries(manifest).items()) or 'none recorded'}",
        f"task: {manifest.get('task') or 'classification'}"
        + (f" ({manifest['algorithm']})" if isinstance(manifest.get("algorithm"), str) else ""),
        f"features: {', '.join(typed)}",
        *_input_lines(manifest),
        f"classes: {', '.join(map(str, manifest.get('classes') or []))}",
        f"params: {', '.join(f'{k}={_shown(v)}' for k, v in params.items()) or 'none recorded'}",
        f"metrics: {_metric_text(manifest.get('metrics') or {})}",
    ]
    for step, metrics in evaluated.items():
        lines.append(f"evaluated by step {step} of run {manifest.get('run_id')}: {_metric_text(metrics)}")
    if not evaluated:
        lines.append("evaluation: none recorded (no step of the run that saved it scored this model, or the run's "
                     "record is gone)")
    return lines


def _shown(value: Any) -> str:
    """A value from a manifest as text: text as it is, anything else as JSON."""
    import json

    return value if isinstance(value, str) else json.dumps(value, default=str)


def _metric_text(metrics: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {_shown(v)}"
                     for k, v in metrics.items()) or "none recorded"


def cmd_models_diff(args: argparse.Namespace) -> int:
    """Two versions side by side; only what differs unless ``--all``. The refs may name two models."""
    from .compare import changed_count, compare_versions, evaluation
    from .render import printable, table

    store = _store(args)
    refs = [store.resolve(args.a), store.resolve(args.b)]
    manifests = [store.manifest(ref) for ref in refs]
    sections = compare_versions(*manifests, *(evaluation(store, manifest) for manifest in manifests))
    changed, total = changed_count(sections)
    if args.json:
        _print_json({"a": {"name": refs[0].name, "version": refs[0].version},
                     "b": {"name": refs[1].name, "version": refs[1].version},
                     "changed": changed, "entries": total, "sections": sections})
        return 0
    print(printable(f"{refs[0]} (created {manifests[0].get('created')}) and {refs[1]} "
                    f"(created {manifests[1].get('created')})"))
    rows = [[section, entry["key"], _diff_value(entry["a"]), _diff_value(entry["b"])]
            + (["yes" if entry["changed"] else ""] if args.all else [])
            for section, entries in sections.items() for entry in entries if args.all or entry["changed"]]
    if rows:
        table(["section", "key", str(refs[0]), str(refs[1]), *(["differs"] if args.all else [])], rows)
    hint = "" if args.all else " (--all shows every entry)"
    print(f"{changed} of {total} entries differ{hint}")
    return 0


def _diff_value(value: Any) -> str:
    """A compared value as text: exact (floats in full), ``-`` where that version records none."""
    return "-" if value is None else _shown(value)


def cmd_models_verify(args: argparse.Namespace) -> int:
    """Every version's files against its manifest, each model's aliases, and (for a whole model or the whole
    store) what the store ignores; one line per version or problem, going on past each failure."""
    store = _store(args)
    if args.ref and "@" in args.ref:
        refs, strays = [store.resolve(args.ref)], []
    else:
        if args.ref:
            store.resolve(args.ref)  # an unknown model: one line, exit 2
        refs = [store.ref(name, v) for name in ([args.ref] if args.ref else store.names())
                for v in store.versions(name)]
        strays = store.strays(args.ref)
    failed = sum(not _verify_version(store, ref) for ref in refs)  # printed as they are checked
    failures = [f"{name} aliases: FAILED: {p}" for name in sorted({ref.name for ref in refs})
                for p in store.alias_problems(name)]
    failures += [f"{where}: FAILED: {why}" for where, why in strays]
    from .render import printable

    for line in failures:  # names of stray folders and alias problems quote what is on disk
        print(printable(line))
    if not refs and not failures:
        print(f"no models in the store at {store.root}")
    return 1 if failed or failures else 0


def _verify_version(store, ref) -> bool:
    """Print ``ref``'s line, ok with its number of files or FAILED with every problem; whether it is ok."""
    from .errors import IntegrityError

    try:
        manifest = store.manifest(ref)
        problems = store.problems(ref, manifest)
    except IntegrityError as exc:
        problems = [str(exc).removeprefix(f"{ref}: ")]
    from .render import plural, printable

    print(printable(f"{ref}: FAILED: {'; '.join(problems)}") if problems else  # problems quote file names
          f"{ref}: ok ({plural(len(manifest.get('files') or {}), 'file')})")
    return not problems


def cmd_models_gc(args: argparse.Namespace) -> int:
    store = _store(args)
    removed = store.gc(args.grace, dry_run=args.dry_run)
    for path in removed:
        print(f"{'would remove' if args.dry_run else 'removed'} {path}")
    print(f"{len(removed)} leftover temporar{'y' if len(removed) == 1 else 'ies'} in the store at {store.root}")
    return 0


def cmd_models_alias(args: argparse.Namespace) -> int:
    from .names import parse_version

    store = _store(args)
    version = parse_version(args.version)
    if version is None:
        versions = ", ".join(map(str, store.versions(args.name))) or "none"
        raise UserError(f"'{args.version}' is not a version number: write it as its folder is named, 1, 2, 3 ... "
                        f"without leading zeros (versions of '{args.name}': {versions})")
    store.set_alias(args.name, version, args.alias)
    print(f"{args.name}@{args.alias} -> version {version}")
    return 0


def cmd_models_files(args: argparse.Namespace) -> int:
    from .render import table

    store = _store(args)
    ref = store.resolve(args.ref)
    files = store.manifest(ref).get("files") or {}
    if args.json:
        _print_json({"model": ref.name, "version": ref.version, "path": str(ref.path), "files": files})
        return 0
    table(["file", "bytes", "sha256"], [[rel, f"{meta.get('size', 0):,}", meta.get("sha256")]
                                        for rel, meta in sorted(files.items())])
    return 0


def cmd_models_download(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .archive import export_zip, zip_folder_name

    store = _store(args)
    ref = store.resolve(args.ref)
    target = Path(args.output or f"{zip_folder_name(ref)}.zip")
    if target.exists() and not args.force:
        raise UserError(f"{target} exists; choose another file with -o or pass --force to replace it")
    export_zip(store, ref, target)
    files = store.manifest(ref).get("files") or {}
    print(f"{ref} -> {target} (files: {len(files)} and the manifest; {_size(target.stat().st_size)})")
    return 0


def cmd_models_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .mlflow_export import export_mlflow

    ref = export_mlflow(_store(args), args.ref, Path(args.output))
    print(f"{ref} -> {args.output} (an MLflow model: mlflow models serve -m {args.output} --env-manager local)")
    return 0


def cmd_models_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .archive import import_zip

    store = _store(args)
    if Path(args.file).is_dir():
        from .mlflow_import import import_mlflow

        ref = import_mlflow(store, Path(args.file), args.name, trust=args.trust)
        source = store.manifest(ref).get("source") or {}
        print(f"imported the MLflow model {args.file} ({source.get('flavor')} flavor) as {ref} at {ref.path}")
        return 0
    if args.trust:
        raise UserError("--trust applies to an MLflow model directory; a zip from models download is checked "
                        "against its manifest instead")
    limit = {"max_size": args.max_size} if args.max_size is not None else {}
    ref = import_zip(store, args.file, name=args.name, **limit)
    manifest = store.manifest(ref)
    origin = manifest.get("imported_from") or {}
    print(f"imported {args.file} as {ref} (exported as {origin.get('name')}@{origin.get('version')}; "
          f"files verified: {len(manifest.get('files') or {})}) at {ref.path}")
    return 0


def cmd_models_delete(args: argparse.Namespace) -> int:
    store = _store(args)
    if "@" not in args.ref:
        raise UserError(f"give the version to delete as NAME@VERSION, such as {args.ref}@1 (to keep only the "
                        f"newest versions: emberflow models prune {args.ref} --keep N)")
    ref = store.resolve(args.ref)
    removed = store.delete(ref, force=args.force)
    print(f"deleted {ref}" + (f" and the aliases pointing at it: {', '.join(removed)}" if removed else ""))
    return 0


def cmd_models_prune(args: argparse.Namespace) -> int:
    store = _store(args)
    doomed = store.prune(args.name, args.keep, dry_run=args.dry_run)
    kept = [v for v in store.versions(args.name) if v not in doomed]
    verb = "would delete" if args.dry_run else "deleted"
    listed = ", ".join(map(str, doomed)) or "nothing"
    print(f"{args.name}: {verb} {'version ' if doomed else ''}{listed}; kept {', '.join(map(str, kept))}")
    return 0


def cmd_runs_list(args: argparse.Namespace) -> int:
    from .inventory import list_runs
    from .render import table

    store = _store(args)
    runs = list_runs(store, args.limit)
    if args.json:
        _print_json(runs)
        return 0
    if not runs:
        print(f"no runs recorded in the store at {store.root}")
        return 0
    rows = [[r["run_id"], r["status"] + (f" at {r['failed_step']}" if r["failed_step"] else ""),
             r["workflow"], r["started"], f"{r['seconds']:.2f}" if r["seconds"] is not None else "",
             r["steps"], ", ".join(r["models"])] for r in runs]
    table(["run", "status", "workflow", "started", "seconds", "steps", "models"], rows)
    return 0


def cmd_runs_show(args: argparse.Namespace) -> int:
    """A run record: every text in it is shown ``printable``, as a record is a file anyone may have edited."""
    from .render import confusion_lines, printable, table

    record = _store(args).read_run(args.run_id)
    if args.json:
        _print_json(record)
        return 0
    wf = record.get("workflow") or {}
    print(printable(f"run {record.get('run_id')}: {record.get('status')}, started {record.get('started')}, "
                    f"{record.get('seconds', 0):.2f}s, workflow {wf.get('name')} ({wf.get('path')})"))
    steps = record.get("steps") or []
    rows = [[s.get("id"), s.get("node"), s.get("engine"), s.get("status"),
             "" if s.get("seconds") is None else f"{s['seconds']:.2f}",
             "" if s.get("rows") is None else f"{s['rows']:,}", _metrics_cell(s.get("metrics") or {})]
            for s in steps]
    table(["step", "node", "engine", "status", "seconds", "rows", "metrics"], rows)
    for step in steps:
        lines = confusion_lines((step.get("metrics") or {}).get("confusion_matrix"))
        if lines:
            print(printable(f"confusion matrix of step {step.get('id')}:"))
            print("\n".join(f"  {line}" for line in lines))
    edges = [f"{e.get('from')} -> {e.get('to')} ({e.get('port')})" for e in record.get("edges") or []]
    print(printable(f"edges: {'; '.join(edges) or 'none'}"))
    for model in record.get("models") or []:
        print(printable(f"saved model {model.get('name')}@{model.get('version')} ({model.get('format')}) by step "
                        f"{model.get('step')}"))
    for warning in record.get("warnings") or []:
        print(f"warning: {printable(warning)}")
    if record.get("error"):
        print(printable(f"error at step {record['error'].get('step')}: {record['error'].get('message')}"))
    return 0


def _metrics_cell(metrics: dict[str, Any]) -> str:
    """A step's metrics on one line: numbers to 4 decimals; a confusion matrix is drawn under the table instead."""
    from .render import confusion_lines

    shown = []
    for key, value in metrics.items():
        if key == "confusion_matrix" and confusion_lines(value):
            continue
        shown.append(f"{key} {value:.4f}" if isinstance(value, float) else f"{key} {value}")
    return ", ".join(shown)


def cmd_ui(args: argparse.Namespace) -> int:
    from .store import default_store_root
    from .ui.server import serve

    return serve(default_store_root(args.store), host=args.host, port=args.port, workflows=args.workflows,
                 read_only=args.read_only, allow=args.allow)


def cmd_serve(args: argparse.Namespace) -> int:
    from .serving.app import Limits
    from .serving.server import serve
    from .store import default_store_root

    if args.max_rows < 1 or args.max_body < 1 or not args.timeout > 0:
        raise UserError("--max-rows, --max-body and --timeout must be above 0")
    limits = Limits(max_body=args.max_body, max_rows=args.max_rows, timeout=args.timeout)
    return serve(default_store_root(args.store), args.ref, host=args.host, port=args.port, limits=limits,
                 java_heap=args.java_heap)


def _java_heap(text: str) -> str:
    """A JVM heap size as java's -Xmx takes it: a number of bytes, or of K, M or G."""
    import re

    if not re.fullmatch(r"[1-9][0-9]*[kKmMgG]?", text.strip()):
        raise argparse.ArgumentTypeError(f"expected a size such as 512M or 4G, got {text!r}")
    return text.strip().upper()


def _store_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", metavar="DIR", help="the model store (default: $EMBERFLOW_STORE or ./models)")


def _var_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--var", action="append", metavar="NAME=VALUE", help="set a workflow var (repeatable)")


def _add_run_command(sub) -> None:
    run = sub.add_parser("run", help="validate and run a workflow file")
    run.add_argument("file")
    _var_option(run)
    _store_option(run)
    run.add_argument("--json", action="store_true", help="print the run record as one JSON object")
    run.add_argument("--quiet", action="store_true", help="print nothing on success but warnings (on stderr)")
    run.add_argument("--spark-master", metavar="URL", help="Spark master (wins over the workflow's)")
    run.add_argument("--spark-conf", action="append", metavar="KEY=VALUE", help="a Spark setting (repeatable)")
    run.add_argument("--spark-staging", metavar="URI", help="where Spark ML models pass between the store and a "
                     "cluster (hdfs://, s3a://, file:///shared/...; wins over the workflow's spark: staging)")
    run.add_argument("--h2o-url", metavar="URL", help="use an existing H2O cluster instead of starting one")
    run.add_argument("--events", metavar="FILE.jsonl", help="also write each step's progress to FILE as JSON lines, "
                     "with previews of the frames beside it (the web editor follows it)")
    run.add_argument("--run-id", type=_run_id, metavar="ID", help="the run's id (default: a new one)")
    run.set_defaults(func=cmd_run)


def _run_id(text: str) -> str:
    from .store import RUN_ID

    if not RUN_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"expected letters, digits, _ and - (at most 128), got {text!r}")
    return text


def _add_validate_command(sub) -> None:
    validate = sub.add_parser("validate", help="check a workflow file without running it")
    validate.add_argument("file")
    _var_option(validate)
    validate.set_defaults(func=cmd_validate)


def _add_schema_command(sub) -> None:
    schema = sub.add_parser("schema", help="print the JSON Schema of workflow files")
    schema.set_defaults(func=cmd_schema)


def _add_nodes_commands(sub) -> None:
    nodes = sub.add_parser("nodes", help="the nodes workflows can use").add_subparsers(dest="nodes_command",
                                                                                      metavar="SUBCOMMAND")
    nodes_list = nodes.add_parser("list", help="list the nodes, built-in and plugins")
    nodes_list.add_argument("--json", action="store_true")
    nodes_list.set_defaults(func=cmd_nodes_list)
    nodes_show = nodes.add_parser("show", help="a node's ports and parameters")
    nodes_show.add_argument("node")
    nodes_show.add_argument("--json", action="store_true", help="as a visual tool's node definition")
    nodes_show.set_defaults(func=cmd_nodes_show)


def _add_models_commands(sub) -> None:
    models = sub.add_parser("models", help="browse the model store").add_subparsers(dest="models_command",
                                                                                   metavar="SUBCOMMAND")
    models_list = models.add_parser("list", help="the models, their versions and aliases")
    models_list.add_argument("--json", action="store_true")
    _store_option(models_list)
    models_list.set_defaults(func=cmd_models_list)
    models_show = models.add_parser("show", help="a version's manifest and files")
    models_show.add_argument("ref", metavar="NAME[@VERSION|@ALIAS]")
    models_show.add_argument("--json", action="store_true")
    _store_option(models_show)
    models_show.set_defaults(func=cmd_models_show)
    models_diff = models.add_parser("diff", help="what differs between two versions: params, metrics, schema, "
                                                 "libraries")
    models_diff.add_argument("a", metavar="NAME@A", help="a version: NAME, NAME@VERSION or NAME@ALIAS")
    models_diff.add_argument("b", metavar="NAME@B", help="the other, of the same model or another one")
    models_diff.add_argument("--all", action="store_true", help="every entry, not only those that differ")
    models_diff.add_argument("--json", action="store_true", help="every entry as JSON")
    _store_option(models_diff)
    models_diff.set_defaults(func=cmd_models_diff)
    models_verify = models.add_parser("verify", help="check every file's SHA-256 against the manifest")
    models_verify.add_argument("ref", nargs="?", metavar="NAME[@VERSION]")
    _store_option(models_verify)
    models_verify.set_defaults(func=cmd_models_verify)
    models_alias = models.add_parser("alias", help="point an alias at a version")
    models_alias.add_argument("name")
    models_alias.add_argument("version")
    models_alias.add_argument("alias")
    _store_option(models_alias)
    models_alias.set_defaults(func=cmd_models_alias)
    _add_archive_commands(models)
    models_gc = models.add_parser("gc", help="remove temporary folders that interrupted saves left behind")
    models_gc.add_argument("--grace", type=float, default=600.0, metavar="SECONDS",
                           help="keep temporaries changed more recently than this (default: 600)")
    models_gc.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    _store_option(models_gc)
    models_gc.set_defaults(func=cmd_models_gc)


def _add_archive_commands(models) -> None:
    """``models files/download/import/delete/prune``: the store's files as zips, and retention."""
    files = models.add_parser("files", help="a version's files with sizes and SHA-256")
    files.add_argument("ref", metavar="NAME[@VERSION|@ALIAS]")
    files.add_argument("--json", action="store_true")
    download = models.add_parser("download", help="a version as one zip file (its folder and manifest)")
    download.add_argument("ref", metavar="NAME[@VERSION|@ALIAS]")
    download.add_argument("-o", "--output", metavar="FILE.zip",
                          help="the zip to write (default: NAME-VERSION.zip)")
    download.add_argument("--force", action="store_true", help="replace the zip if it exists")
    imported = models.add_parser("import", help="add a downloaded version (a zip) or an MLflow model directory to "
                                                "this store as its next version")
    imported.add_argument("file", metavar="FILE.zip|MLFLOW_DIR")
    imported.add_argument("--name", help="the model name in this store (default: the name in the zip; required for "
                                         "an MLflow directory)")
    imported.add_argument("--trust", action="store_true",
                          help="an MLflow model saved with pickle or cloudpickle: unpickling it runs code, so it is "
                               "imported only if you trust where it came from")
    imported.add_argument("--max-size", type=_byte_size, metavar="SIZE",
                          help="refuse a zip whose files expand to more than this: bytes, or a number with K, M, G "
                               "or T (default: 10G)")
    export = models.add_parser("export", help="a version as a directory another tool loads (MLflow's model format)")
    export.add_argument("ref", metavar="NAME[@VERSION|@ALIAS]")
    export.add_argument("--format", choices=["mlflow"], required=True, help="the directory's format: mlflow")
    export.add_argument("-o", "--output", required=True, metavar="DIR", help="the directory to write (new or empty)")
    delete = models.add_parser("delete", help="delete one version")
    delete.add_argument("ref", metavar="NAME@VERSION")
    delete.add_argument("--force", action="store_true",
                        help="also when aliases point at it (they go with it)")
    prune = models.add_parser("prune", help="delete all but the newest versions, keeping aliased ones")
    prune.add_argument("name")
    prune.add_argument("--keep", type=int, required=True, metavar="N",
                       help="how many newest versions to keep")
    prune.add_argument("--dry-run", action="store_true", help="only say what would be deleted")
    commands = ((files, cmd_models_files), (download, cmd_models_download), (imported, cmd_models_import),
                (export, cmd_models_export),
                (delete, cmd_models_delete), (prune, cmd_models_prune))
    for parser, func in commands:
        _store_option(parser)
        parser.set_defaults(func=func)


def _byte_size(text: str) -> int:
    """A size given as bytes or with a unit of powers of 1024: ``500M``, ``20G``, ``1.5TiB``."""
    import re

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:i?B)?|B)?\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"expected a size such as 20G, 500M or 1048576 (bytes), got {text!r}")
    return int(float(match.group(1)) * 1024 ** " KMGT".index((match.group(2) or " ").upper()))


def _add_runs_commands(sub) -> None:
    runs = sub.add_parser("runs", help="the recorded runs").add_subparsers(dest="runs_command",
                                                                          metavar="SUBCOMMAND")
    runs_list = runs.add_parser("list", help="recorded runs, newest first")
    runs_list.add_argument("--limit", type=int, metavar="N", help="only the N newest")
    runs_list.add_argument("--json", action="store_true")
    runs_show = runs.add_parser("show", help="a run's steps, edges, models and errors")
    runs_show.add_argument("run_id", metavar="RUN_ID", help="a run id, or the start of one")
    runs_show.add_argument("--json", action="store_true", help="the whole run record")
    for parser, func in ((runs_list, cmd_runs_list), (runs_show, cmd_runs_show)):
        _store_option(parser)
        parser.set_defaults(func=func)


def _add_ui_command(sub) -> None:
    ui = sub.add_parser("ui", help="browse the store's models and runs, and edit and run workflows, in a web browser")
    _store_option(ui)
    ui.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)")
    ui.add_argument("--port", type=int, default=8765, help="the port (default: 8765)")
    ui.add_argument("--workflows", nargs="+", metavar="DIR_OR_FILE",
                    help="workflow folders or files to draw and edit (default: ./workflows)")
    ui.add_argument("--read-only", action="store_true", help="only browse: no editor, no saving, no runs")
    ui.add_argument("--allow", nargs="*", metavar="DIR", help="folders that runs started from the editor may read "
                    "and write besides the workflows folders and the store (default: the current folder)")
    ui.set_defaults(func=cmd_ui)


def _add_serve_command(sub) -> None:
    serve = sub.add_parser("serve", help="score a stored model over HTTP (MLflow's scoring protocol and V2)")
    serve.add_argument("ref", metavar="NAME[@VERSION|@ALIAS]", help="the version to serve; an alias is followed")
    _store_option(serve)
    serve.add_argument("--host", default="127.0.0.1",
                       help="the address to listen on (default: 127.0.0.1; another needs $EMBERFLOW_SERVE_TOKEN)")
    serve.add_argument("--port", type=int, default=5000, help="the port (default: 5000)")
    serve.add_argument("--max-rows", type=int, default=10_000, metavar="N", help="rows per request (default: 10000)")
    serve.add_argument("--max-body", type=_byte_size, default=16 * 1024 ** 2, metavar="SIZE",
                       help="bytes of a request's body, or a number with K, M or G (default: 16M)")
    serve.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                       help="to receive a request's body, and to score it (default: 30)")
    serve.add_argument("--java-heap", type=_java_heap, metavar="SIZE",
                       help="the heap of the JVM that scores an H2O model's MOJO, such as 512M or 4G (default: 1G)")
    serve.set_defaults(func=cmd_serve)


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help formatter, told the terminal's width. Left to itself it asks ``shutil``, whose import (with
    the compression modules it loads) costs ``emberflow validate`` more than reading the workflow file: argparse
    makes a formatter for every argument it adds, not only to print help."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None):
        super().__init__(prog, indent_increment, max_help_position, _terminal_columns() - 2 if width is None else width)


def _terminal_columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` gives it: $COLUMNS if set, else the terminal's, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):  # no standard output, or not a terminal
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help formatter is ``_HelpFormatter``; its subcommands' parsers are ``_Parser`` too.

    Every one takes ``--debug``, so it works after the command as well as before it (``emberflow run wf.yaml
    --debug``). Only the top-level parser gives it a default (False): a subcommand's parser leaves it unset
    unless it is given there, so it never undoes a ``--debug`` given before the command.
    """

    def __init__(self, *args, debug_default: Any = argparse.SUPPRESS, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)
        self.add_argument("--debug", action="store_true", default=debug_default, help="show tracebacks")


# Each command's arguments, in the order ``emberflow --help`` lists the commands.
COMMANDS = {
    "run": _add_run_command,
    "validate": _add_validate_command,
    "schema": _add_schema_command,
    "nodes": _add_nodes_commands,
    "models": _add_models_commands,
    "runs": _add_runs_commands,
    "ui": _add_ui_command,
    "serve": _add_serve_command,
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; given ``command``, with that command alone.

    Parsing a command needs only its own parser, and building the parsers of all ~20 commands and subcommands
    costs more than validating a workflow (argparse looks up translations of its messages for each one).
    """
    parser = _Parser(
        prog="emberflow",
        description="Run machine-learning workflows from YAML files and keep the models they make.",
        debug_default=False,
    )
    parser.add_argument("--version", action="version", version=f"emberflow {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, add_command in COMMANDS.items():
        if command in (None, name):
            add_command(sub)
    return parser


def _command_named(argv: list[str]) -> str | None:
    """The command ``argv`` runs, if it names one: its first argument that is not an option (the options before
    the command take no values). None builds every command, for the help and for an unknown command's error."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first if first in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    command = _command_named(sys.argv[1:] if argv is None else argv)
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):  # no command, or a group of commands without one of them: the whole help
        (build_parser() if command else parser).print_help()
        return 2 if args.command is None and argv else 0
    try:
        return args.func(args)
    except EmberflowError as exc:
        return _report(exc, args.debug)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # a bug: still one line, unless --debug
        failure = _place_failure(exc)
        if failure is not None:
            failure.__cause__ = exc
            return _report(failure, args.debug)
        if args.debug:
            raise
        from .render import printable

        print(printable(f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)"),
              file=sys.stderr)
        return 1


def _report(exc: EmberflowError, debug: bool) -> int:
    """``exc`` as one line on stderr, and one more per note added to it (such as a run record that could not be
    written); the traceback before them with ``--debug``. Returns the exit code."""
    if debug:
        import traceback

        traceback.print_exception(exc)
    from .render import printable  # a message may quote a file's text: no terminal escapes, no line breaks

    step = getattr(exc, "step_id", None)
    prefix = f"step '{step}': " if step and not str(exc).startswith("step '") else ""
    print(printable(f"error: {prefix}{exc}"), file=sys.stderr)
    for note in getattr(exc, "__notes__", ()):
        print(printable(f"error: {note}"), file=sys.stderr)
    return exc.exit_code


def _place_failure(exc: Exception) -> EmberflowError | None:
    """A full disk, a quota or a read-only file system met by a write that did not say so itself is still a
    one-line error (exit 2), not a bug; any other exception stays unexpected."""
    import errno

    from .errors import write_failure

    disk_full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
    return write_failure(exc) if disk_full else None


if __name__ == "__main__":
    sys.exit(main())
