"""Where the time goes in the benchmarks that miss their targets: ``python -m bench.profile startup`` (what
``emberflow validate`` imports beyond PyYAML, from ``python -X importtime``, the least of several runs) and
``python -m bench.profile model-io [ROWS]`` (saving and loading the large model in this process, step by step,
with the plain pickle calls and a bare SHA-256 of the same bytes beside them)."""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .harness import BIN, ROOT, child_env


def import_times(args: list[str], runs: int = 7) -> dict[str, tuple[float, float, int]]:
    """Module: (least self ms, least cumulative ms, nesting depth) over ``runs`` runs of ``python -X importtime``."""
    found: dict[str, list[tuple[int, int, int]]] = {}
    for _ in range(runs):
        done = subprocess.run([str(BIN / "python"), "-X", "importtime", *args], capture_output=True, text=True,
                              cwd=ROOT, env=child_env())
        for line in done.stderr.splitlines():
            match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
            if match:
                found.setdefault(match[4], []).append((int(match[1]), int(match[2]), len(match[3])))
    return {name: (min(s for s, _, _ in rows) / 1000, min(c for _, c, _ in rows) / 1000, rows[0][2])
            for name, rows in found.items()}


def startup() -> None:
    base = import_times(["-c", "import yaml"])
    ours = import_times(["-m", "emberflow.engine.cli", "validate", "workflows/train.yaml"])
    extra = {name: times for name, times in ours.items() if name not in base}
    print(f"python -c 'import yaml': {sum(t[0] for t in base.values()):.1f} ms of imports; emberflow validate: "
          f"{sum(t[0] for t in ours.values()):.1f} ms, of which {sum(t[0] for t in extra.values()):.1f} ms in "
          f"{len(extra)} modules the baseline does not import. Largest (self ms, cumulative ms):")
    for name, (own, total, depth) in sorted(extra.items(), key=lambda item: -item[1][1])[:30]:
        print(f"  {own:6.2f} {total:6.2f}  {'  ' * depth}{name}")


def model_io(rows: int = 1_000_000, runs: int = 7) -> None:
    from emberflow.engine.context import Sessions
    from emberflow.engine.models import load_from_store, save_to_store
    from emberflow.engine.store import ModelStore

    from .make_knn import knn_model

    model = knn_model(rows)
    with tempfile.TemporaryDirectory() as folder:
        store = ModelStore(Path(folder) / "store")
        save_to_store(store, knn_model(100), "small", "auto", {})
        load_from_store(store, "small", Sessions())
        times: dict[str, list[float]] = {}
        for run in range(runs):
            plain = Path(folder) / f"plain-{run}.pkl"
            with _timed(times, "pickle.dump (protocol 5)"), open(plain, "wb") as handle:
                pickle.dump(model.obj, handle, protocol=5)
            with _timed(times, "pickle.load"), open(plain, "rb") as handle:
                pickle.load(handle)
            data = plain.read_bytes()
            with _timed(times, "SHA-256 of the same bytes, in memory"):
                hashlib.sha256(data).hexdigest()
            with _timed(times, "the same bytes written to a new file and fsync'ed (durable, as the store)"):
                _write_durably(Path(folder) / f"durable-{run}.bin", data)
            with _timed(times, "emberflow save_to_store (SaveModel)"):
                ref, manifest = save_to_store(store, model, "big", "auto", {})
            with _timed(times, "emberflow load_from_store (LoadModel)"):
                load_from_store(store, f"big@{ref.version}", Sessions())
            plain.unlink()
        print(f"KNeighborsClassifier on {rows:,} x 8, saved as {manifest['format']} "
              f"({len(data) / 2**20:.0f} MiB); medians of {runs} runs in this process:")
        for name, values in times.items():
            print(f"  {statistics.median(values):7.3f} s  {name}")


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()


class _timed:
    def __init__(self, times: dict[str, list[float]], name: str):
        self.times, self.name = times, name

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc) -> None:
        self.times.setdefault(self.name, []).append(time.perf_counter() - self.start)


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "startup"
    if what == "startup":
        startup()
    elif what == "model-io":
        model_io(*(int(a) for a in sys.argv[2:3]))
    else:
        raise SystemExit("usage: python -m bench.profile startup | model-io [ROWS]")
