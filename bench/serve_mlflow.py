"""emberflow serve against ``mlflow models serve --env-manager local`` on the same scikit-learn model.

TrainLR fits a pipeline (median imputing, one-hot text) on the random forest case's rows (8 numbers, 2 text
columns, 2 % missing values) and SaveModel stores it; ``emberflow models export --format mlflow`` writes it as an
MLflow model, which MLflow's server loads (one uvicorn worker, as emberflow serve is one process). The same client
(``bench/serve_load.py``: threads with kept-alive connections, MLflow's ``dataframe_split``) sends one-row requests
from 1 and then 16 concurrent clients, then 1,000-row requests, to each server in turn; the servers' start is not
timed. Both must answer the 1,000 rows with the same predictions.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .cases import ROOT, Bench, Row
from .data import mixed_csv_file
from .harness import BIN, BenchError, Sample
from .serve_server import started

MODEL = "bench-serve-lr"
TRAIN = """
name: bench-serve-train
engine: sklearn
steps:
  - {id: read, node: ReadCSV, params: {path: "${data}"}}
  - {id: train, node: TrainLR, inputs: {data: read}, params: {label: label}}
  - {id: save, node: SaveModel, inputs: {model: train}, params: {name: "MODEL"}}
""".replace("MODEL", MODEL)
LIMIT_P99 = 0.010  # the target: a single row's p99 under 10 ms


def serve_mlflow(b: Bench) -> None:
    per_client, batch, batches = (20, 100, 3) if b.quick else (300, 1000, 20)
    data = mixed_csv_file(b.data, max(batch, 1000), seed=3)
    train = mixed_csv_file(b.data, 2000 if b.quick else 100_000, seed=1)
    workflow = b.work / "serve_train.yaml"
    workflow.write_text(TRAIN, encoding="utf-8")
    b.run(*b.emberflow("run", workflow, "--var", f"data={train}", "--store", b.store, "--quiet"))
    exported = b.work / "serve-mlflow-model"
    b.run(*b.emberflow("models", "export", MODEL, "--format", "mlflow", "-o", exported, "--store", b.store))
    env = {**b.env, "PATH": f"{BIN}{os.pathsep}{b.env.get('PATH', '')}"}  # mlflow starts uvicorn from PATH
    servers = {
        "emberflow serve": started(b, "emberflow-serve", b.emberflow("serve", MODEL, "--store", b.store, "--port"),
                                   env=env),
        "mlflow models serve": started(b, "mlflow-serve", [str(BIN / "mlflow"), "models", "serve", "-m",
                                                           str(exported), "--env-manager", "local", "-w", "1",
                                                           "-h", "127.0.0.1", "-p"], env=env),
    }
    try:
        for clients in (1, 16):
            _measure(b, servers, data, clients, per_client if clients == 1 else max(per_client // 8, 10),
                     batch, batches)
    finally:
        for server, _url in servers.values():
            server.terminate()
            server.wait(timeout=30)


def _measure(b: Bench, servers: dict, data: Path, clients: int, per_client: int, batch: int, batches: int) -> None:
    answers: dict[str, list] = {}

    def timed(name: str, url: str):
        def run() -> Sample:
            sample = b.run(*b.python("-m", "bench.serve_load", url, data, clients, per_client, batch, batches),
                           cwd=ROOT)
            sample.parts = json.loads(sample.stdout.strip().splitlines()[-1])
            answers[name] = sample.parts.pop("predictions")
            return sample
        return run

    sides = {name: timed(name, url) for name, (_server, url) in servers.items()}
    found = b.compare(f"serve mlflow, {clients} clients", sides, reps=max(1, min(b.reps, 3)), warmup=False)
    ours, theirs = found["emberflow serve"], found["mlflow models serve"]
    if answers["emberflow serve"] != answers["mlflow models serve"]:
        raise BenchError(f"emberflow serve and mlflow models serve predict differently for the {batch} rows")
    mine, base = ours.part("throughput"), theirs.part("throughput")
    who = "client" if clients == 1 else "concurrent clients"
    b.add(Row(f"serve one-row requests, {clients} {who}: time per request vs mlflow models serve", 0.5,
              base / mine, f"{mine:,.0f} requests/s (p50 {ours.part('p50') * 1000:.1f} ms, p99 "
              f"{ours.part('p99') * 1000:.1f} ms)", f"{base:,.0f} requests/s (p50 {theirs.part('p50') * 1000:.1f} ms, "
              f"p99 {theirs.part('p99') * 1000:.1f} ms; mlflow models serve)"))
    if clients == 1:
        b.add(Row("serve one-row requests, 1 client: p99 latency vs 10 ms", 1.0, ours.part("p99") / LIMIT_P99,
                  f"{ours.part('p99') * 1000:.1f} ms", "limit 10 ms"))
        b.add(Row(f"serve {batch}-row requests: latency vs mlflow models serve", 0.5, ours.part("batch") /
                  theirs.part("batch"), f"{ours.part('batch') * 1000:.1f} ms",
                  f"{theirs.part('batch') * 1000:.1f} ms (mlflow models serve)"))
    else:
        b.add(Row(f"serve one-row requests, {clients} concurrent clients: p99 latency (reported)", None,
                  ours.part("p99") / theirs.part("p99"), f"{ours.part('p99') * 1000:.1f} ms",
                  f"{theirs.part('p99') * 1000:.1f} ms (mlflow models serve)"))


SERVE_MLFLOW_CASES = {"serve-mlflow": serve_mlflow}
