"""The MOJO-backed H2O server against H2O's own MOJO scoring without a cluster, per row.

A binomial GLM is trained on H2O and saved (binary and MOJO); ``emberflow serve`` serves it (its JVM started
once, with the server), and a client (``bench/serve_client.py``) sends SINGLE one-row requests over HTTP, one
after the other, then one request of BATCH rows. The baseline calls ``h2o.mojo_predict_pandas`` (a JVM per
call) on the same rows: once per row, then once for the batch. Each side times its parts inside its process;
the server's start is not timed. Both sides' probabilities for the batch must agree to 1e-12.
"""

from __future__ import annotations

import json

from .cases import BASELINES, ROOT, Bench, Row, seconds
from .data import csv_file
from .harness import BenchError, Sample
from .serve_server import started

MODEL = "bench-serve-h2o-glm"


def serve_h2o(b: Bench) -> None:
    from emberflow.engine.formats.h2o import MOJO, genmodel_jar

    single, batch = (10, 50) if b.quick else (200, 1000)
    train = csv_file(b.data, b.sizes.train_rows, seed=1)
    data = csv_file(b.data, max(batch, 1000), seed=2, with_label=False)
    b.run(*b.workflow("train_h2o.yaml", data=train, model=MODEL, out=b.work / "serve-h2o-scored.csv"))
    folder = b.store / MODEL
    archive = folder / str(max(int(p.name) for p in folder.iterdir() if p.name.isdigit())) / MOJO
    server, url = started(b, "emberflow serve", b.emberflow("serve", MODEL, "--store", b.store, "--port"),
                          log="serve-h2o")

    answers: dict[str, list[float]] = {}  # each side's last probabilities of the batch

    def timed(side: str, *cmd) -> Sample:
        sample = b.run(*cmd, cwd=ROOT)
        printed = json.loads(sample.stdout.strip().splitlines()[-1])
        sample.parts, answers[side] = {"single": printed["single"], "batch": printed["batch"]}, printed["p1"]
        return sample

    ours, theirs = "emberflow serve (HTTP)", "h2o.mojo_predict_pandas"
    client = b.python("-m", "bench.serve_client", url, data, single, batch)
    baseline = b.python(BASELINES / "mojo_predict_pandas.py", archive, genmodel_jar(), data, single, batch)
    try:
        found = b.compare("serve h2o", {ours: lambda: timed(ours, *client), theirs: lambda: timed(theirs, *baseline)},
                          reps=max(1, min(b.reps, 3)), warmup=False)
    finally:
        server.terminate()
        server.wait(timeout=30)
    _same_probabilities(answers[ours], answers[theirs])
    for part, label in (("single", f"{single} one-row requests, one after the other"),
                        ("batch", f"one request of {batch} rows")):
        mine, base = found[ours].part(part), found[theirs].part(part)
        per = (lambda s: f"{s / single * 1000:.2f} ms/request ({seconds(s)})") if part == "single" else seconds
        b.add(Row(f"H2O MOJO served (emberflow serve) vs h2o.mojo_predict_pandas: {label}", None, mine / base,
                  per(mine), f"{per(base)} (h2o.mojo_predict_pandas, a JVM per call)"))


def _same_probabilities(mine: list[float], base: list[float]) -> None:
    worst = max((abs(a - b) for a, b in zip(mine, base, strict=True)), default=0.0)
    if len(mine) != len(base) or worst > 1e-12:
        raise BenchError(f"the served probabilities differ from h2o.mojo_predict_pandas' by up to {worst} "
                         f"({len(mine)} against {len(base)} rows)")


SERVE_CASES = {"serve-h2o": serve_h2o}
