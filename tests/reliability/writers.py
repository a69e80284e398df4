"""Processes that write to a model store, for the crash and concurrency tests: ``python writers.py COMMAND ...``.

Each prints ``ready`` once it is about to touch the store (after its imports and training), then one line per
version it saved, ``saved <version>``. With ``--go FILE`` it waits for FILE to exist first, so that several
writers start at the same moment.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path


def knn_model(rows: int, seed: int):
    """A k-nearest-neighbours model: large (it keeps every row), so that saving it takes a while."""
    import numpy as np
    from emberflow.engine.model import Model
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 8))
    y = (X[:, 0] + rng.normal(scale=0.5, size=rows) > 0).astype(int)
    features = [f"x{i}" for i in range(8)]
    return Model(obj=KNeighborsClassifier(n_neighbors=5).fit(X, y), engine="sklearn", features=features,
                 label="y", classes=[0, 1])


def wait_for(go: str | None) -> None:
    print("ready", flush=True)
    if go:
        while not Path(go).exists():
            time.sleep(0.005)


def save_knn(args: argparse.Namespace) -> None:
    from emberflow.engine.models import save_to_store
    from emberflow.engine.store import ModelStore

    model = knn_model(args.rows, args.seed)
    store = ModelStore(args.store)
    wait_for(args.go)
    for _ in range(args.times):
        ref, _manifest = save_to_store(store, model, args.name, args.format, {"step": "writer"})
        print(f"saved {ref.version}", flush=True)


def fork_server(args: argparse.Namespace) -> None:
    """Import and train once, then, for each ``fork`` line on stdin, fork a child that saves ``--times``
    versions and then idles until it is killed; ``reap`` waits for that child and prints how it ended.

    Forking skips the second of imports a fresh interpreter needs, so a test can kill many writers quickly;
    each child is still a separate process that dies by SIGKILL wherever it is.
    """
    import os

    from emberflow.engine.models import save_to_store
    from emberflow.engine.store import ModelStore

    model = knn_model(args.rows, args.seed)
    print("ready", flush=True)
    child = 0
    for line in sys.stdin:
        if line.strip() == "fork":
            child = os.fork()
            if child == 0:
                store = ModelStore(args.store)
                for _ in range(args.times):
                    ref, _manifest = save_to_store(store, model, args.name, args.format, {"step": "writer"})
                    print(f"saved {ref.version}", flush=True)
                print("done", flush=True)
                time.sleep(3600)
                os._exit(0)
            print(f"child {child}", flush=True)
        elif line.strip() == "reap":
            _pid, status = os.waitpid(child, 0)
            print(f"reaped {os.waitstatus_to_exitcode(status)}", flush=True)


def save_tree(args: argparse.Namespace) -> None:
    """Save a copy of a directory-shaped artifact (a Spark ML model folder) as a version, as its format would."""
    import json

    from emberflow.engine.store import ModelStore

    source = Path(args.source)
    manifest = json.loads((source.parent / "manifest.json").read_text())
    store = ModelStore(args.store)

    def write(folder: Path) -> dict:
        shutil.copytree(source, folder / source.name)
        return {k: v for k, v in manifest.items() if k not in ("name", "version", "files", "signature")}

    wait_for(args.go)
    ref = store.save(args.name, write)
    print(f"saved {ref.version}", flush=True)


def hold_lock(args: argparse.Namespace) -> None:
    from emberflow.engine.store import ModelStore

    with ModelStore(args.store)._lock(args.name):
        print("locked", flush=True)
        time.sleep(3600)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    for command, func in (("save-knn", save_knn), ("fork-server", fork_server)):
        saver = sub.add_parser(command)
        saver.add_argument("store")
        saver.add_argument("name")
        saver.add_argument("--rows", type=int, default=50_000)
        saver.add_argument("--seed", type=int, default=0)
        saver.add_argument("--times", type=int, default=1)
        saver.add_argument("--format", default="joblib")
        saver.set_defaults(func=func)
    sub.choices["save-knn"].add_argument("--go")
    tree = sub.add_parser("save-tree")
    tree.add_argument("store")
    tree.add_argument("name")
    tree.add_argument("source")
    tree.add_argument("--go")
    tree.set_defaults(func=save_tree)
    hold = sub.add_parser("hold-lock")
    hold.add_argument("store")
    hold.add_argument("name")
    hold.set_defaults(func=hold_lock)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main(sys.argv[1:])
