"""Benchmarks of the Spark and H2O engines against hand-written pyspark and h2o scripts.

Each run is a fresh process on both sides, so starting Spark's or H2O's JVM is part of every figure.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from .cases import BASELINES, Bench, Row, random_forest, ratio_row, seconds
from .data import csv_file
from .harness import Sample

SPARK_LAUNCH = "Spark Command:"  # printed by Spark's launcher for every JVM it starts (SPARK_PRINT_LAUNCH_COMMAND)


def _engine_reps(b: Bench) -> int:
    return max(1, min(b.reps, 3))


def _latest(b: Bench, name: str) -> Path:
    folder = b.store / name
    return folder / str(max(int(p.name) for p in folder.iterdir() if p.name.isdigit()))


def _in(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# ----- 6. Spark -----
def spark(b: Bench) -> None:
    rows = b.sizes.engine_rows
    train_data = csv_file(b.data, rows, seed=1)
    score_data = csv_file(b.data, rows, seed=2, with_label=False)
    out = _in(b.work / "spark")
    launches: list[int] = []

    def ours(*cmd: str) -> Callable[[], Sample]:
        def side() -> Sample:
            sample = b.run(*cmd)
            launches.append(sample.stderr.count(SPARK_LAUNCH))
            return sample
        return side

    b.env["SPARK_PRINT_LAUNCH_COMMAND"] = "1"
    try:
        train = b.compare("spark train", {
            "emberflow train workflow (spark)": ours(*b.workflow(
                "train_spark.yaml", data=train_data, model="bench-spark-lr", out=out / "ef_scored.csv")),
            "baselines/train_spark.py": lambda: b.run(*b.python(
                BASELINES / "train_spark.py", train_data, out / "bl_model", out / "bl_scored.csv",
                out / "bl_metrics.json")),
        }, reps=_engine_reps(b), warmup=False)
        score = b.compare("spark score", {
            "emberflow score workflow (spark)": ours(*b.workflow(
                "score_spark.yaml", data=score_data, model="bench-spark-lr", out=out / "ef_scored.csv")),
            "baselines/score_spark.py": lambda: b.run(*b.python(
                BASELINES / "score_spark.py", out / "bl_model", score_data, out / "bl_scored.csv")),
        }, reps=_engine_reps(b), warmup=False)
    finally:
        b.env.pop("SPARK_PRINT_LAUNCH_COMMAND", None)
    note = f"JVM launches per run: {sorted(set(launches))}"
    b.add(ratio_row(f"Spark train workflow, {rows:,} rows", 1.10, train["emberflow train workflow (spark)"].median,
                    train["baselines/train_spark.py"].median, "pyspark script", note))
    b.add(ratio_row(f"Spark score workflow, {rows:,} rows", 1.10, score["emberflow score workflow (spark)"].median,
                    score["baselines/score_spark.py"].median, "pyspark script", note))
    shutil.rmtree(out, ignore_errors=True)


# ----- 7. H2O -----
def h2o(b: Bench) -> None:
    rows = b.sizes.engine_rows
    train_data = csv_file(b.data, rows, seed=1)
    score_data = csv_file(b.data, rows, seed=2, with_label=False)
    out = _in(b.work / "h2o")
    models = _in(out / "bl_models")
    train = b.compare("h2o train", {
        "emberflow train workflow (h2o)": lambda: b.run(*b.workflow(
            "train_h2o.yaml", data=train_data, model="bench-h2o-glm", out=out / "ef_scored.csv")),
        "baselines/train_h2o.py": lambda: b.run(*b.python(
            BASELINES / "train_h2o.py", train_data, models, out / "bl_scored.csv", out / "bl_metrics.json")),
    }, reps=_engine_reps(b), warmup=False)
    binary = next(p for p in models.iterdir() if p.suffix != ".zip")
    score = b.compare("h2o score", {
        "emberflow score workflow (h2o)": lambda: b.run(*b.workflow(
            "score_h2o.yaml", data=score_data, model="bench-h2o-glm", out=out / "ef_scored.csv")),
        "baselines/score_h2o.py": lambda: b.run(*b.python(
            BASELINES / "score_h2o.py", binary, score_data, out / "bl_scored.csv")),
    }, reps=_engine_reps(b), warmup=False)
    b.add(ratio_row(f"H2O train workflow (binary + MOJO), {rows:,} rows", 1.10,
                    train["emberflow train workflow (h2o)"].median, train["baselines/train_h2o.py"].median,
                    "h2o script"))
    b.add(ratio_row(f"H2O score workflow, {rows:,} rows", 1.10, score["emberflow score workflow (h2o)"].median,
                    score["baselines/score_h2o.py"].median, "h2o script"))
    mojo(b, out)
    shutil.rmtree(out, ignore_errors=True)


def mojo(b: Bench, out: Path) -> None:
    """MOJO scoring without a cluster, in rows per second: emberflow's Score step (mode: mojo) and
    h2o.mojo_predict_csv, each timed around the scoring inside its process."""
    from emberflow.engine.formats.h2o import MOJO, genmodel_jar

    rows = b.sizes.mojo_rows
    data = csv_file(b.data, rows, seed=2, with_label=False)
    archive = _latest(b, "bench-h2o-glm") / MOJO

    def ours() -> Sample:
        sample = b.run(*b.workflow("score_mojo.yaml", record=True, data=data, model="bench-h2o-glm",
                                   out=out / "ef_mojo.csv"))
        sample.parts = {s["id"]: s["seconds"] for s in json.loads(sample.stdout)["steps"]}
        return sample

    def theirs() -> Sample:
        sample = b.run(*b.python(BASELINES / "score_mojo.py", archive, genmodel_jar(), data, out / "bl_mojo.csv"))
        sample.parts = json.loads(sample.stdout.strip().splitlines()[-1])
        return sample

    found = b.compare("mojo score", {"emberflow Score mode: mojo": ours, "h2o.mojo_predict_csv": theirs},
                      reps=_engine_reps(b), warmup=False)
    ours_s, theirs_s = found["emberflow Score mode: mojo"].part("score"), found["h2o.mojo_predict_csv"].part("score")
    b.add(Row(f"MOJO scoring without a cluster, {rows:,} rows (Score step)", None, ours_s / theirs_s,
              f"{rows / ours_s:,.0f} rows/s ({seconds(ours_s)})",
              f"{rows / theirs_s:,.0f} rows/s ({seconds(theirs_s)}, h2o.mojo_predict_csv)"))


ENGINE_CASES = {
    "spark": spark,
    "h2o": h2o,
    "rf-spark": lambda b: random_forest(b, "spark"),
    "rf-h2o": lambda b: random_forest(b, "h2o"),
}
