"""The benchmarks, one function per target of the suite. Each runs emberflow and its baseline alternately and
adds rows (ratio emberflow / baseline, with absolute figures) to the bench's results."""

from __future__ import annotations

import json
import shutil
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .data import csv_file, mixed_csv_file, pima_file
from .harness import BIN, ROOT, BenchError, Sample, Series, alternate, run_command

HERE = Path(__file__).resolve().parent
WORKFLOWS = HERE / "workflows"
BASELINES = HERE / "baselines"
GIB = 2**30


@dataclass
class Sizes:
    train_rows: int = 100_000
    score_rows: int = 1_000_000
    stream_rows: int = 10_000_000
    batch_rows: int = 500_000
    knn_rows: int = 1_000_000
    engine_rows: int = 1_000_000  # Spark and H2O train and score
    mojo_rows: int = 1_000_000
    prep_rows: int = 1_000_000  # data preparation and SQL
    rf_rows: int = 1_000_000  # random forest: trained on this many rows, then as many scored, on each engine

    @classmethod
    def quick(cls) -> Sizes:
        return cls(train_rows=2_000, score_rows=5_000, stream_rows=20_000, batch_rows=4_000, knn_rows=5_000,
                   engine_rows=2_000, mojo_rows=2_000, prep_rows=5_000, rf_rows=2_000)

    def with_rows(self, rows: int) -> Sizes:
        """Every data set at ``rows`` rows (``--rows``), the streamed one read in four batches or more."""
        sized = {name: rows for name in vars(self) if name.endswith("_rows") and name != "batch_rows"}
        return Sizes(**sized, batch_rows=max(1, min(self.batch_rows, rows // 4)))


@dataclass
class Row:
    """One line of the results table."""

    name: str
    target: float | None  # the highest ratio that meets the target (None: reported only)
    ratio: float | None
    emberflow: str
    baseline: str
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        if self.target is None or self.ratio is None:
            return None
        return self.ratio <= self.target


@dataclass
class Bench:
    """Where a benchmark run keeps things, how many repetitions, and the rows found so far."""

    results: Path
    data: Path
    work: Path
    sizes: Sizes
    reps: int
    env: dict[str, str]
    warmup: bool = True
    quick: bool = False
    log: Callable[[str], None] = print
    rows: list[Row] = field(default_factory=list)
    series: dict[str, dict[str, Any]] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def store(self) -> Path:
        return self.work / "store"

    def run(self, *cmd: Any, cwd: Path | None = None) -> Sample:
        return run_command([str(c) for c in cmd], cwd=cwd or self.work, env=self.env)

    def emberflow(self, *args: Any) -> list[str]:
        return [str(BIN / "emberflow"), *map(str, args)]

    def workflow(self, name: str, record: bool = False, **variables: Any) -> list[str]:
        """``emberflow run`` of a benchmark workflow; with ``record``, it prints its run record as JSON."""
        vars_ = [part for k, v in variables.items() for part in ("--var", f"{k}={v}")]
        return self.emberflow("run", WORKFLOWS / name, *vars_, "--store", self.store,
                              "--json" if record else "--quiet")

    def python(self, *args: Any) -> list[str]:
        return [str(BIN / "python"), *map(str, args)]

    def compare(self, case: str, sides: dict[str, Callable[[], Sample]], reps: int | None = None,
                warmup: bool = True) -> dict[str, Series]:
        """Alternate the sides; ``warmup: False`` for long runs whose files the earlier cases have read."""
        self.log(f"  {case}")
        found = alternate(sides, reps or self.reps, warmup=self.warmup and warmup, log=self.log)
        self.series[case] = {name: s.as_dict() for name, s in found.items()}
        return found

    def add(self, row: Row) -> None:
        self.rows.append(row)
        verdict = {True: "met", False: "NOT met", None: ""}[row.met]
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
        self.log(f"  => {row.name}: {row.emberflow} vs {row.baseline}: ratio {ratio} {verdict}")


def seconds(value: float) -> str:
    return f"{value:.3f} s"


def ratio_row(name: str, target: float | None, ours: float, theirs: float, baseline: str, note: str = "") -> Row:
    return Row(name, target, ours / theirs, seconds(ours), f"{seconds(theirs)} ({baseline})", note)


# ----- 1. start-up -----
def startup(b: Bench) -> None:
    train = ROOT / "workflows" / "train.yaml"
    sides = {
        "python -c 'import yaml'": lambda: b.run(*b.python("-c", "import yaml"), cwd=ROOT),
        "emberflow --help": lambda: b.run(*b.emberflow("--help"), cwd=ROOT),
        "emberflow validate": lambda: b.run(*b.emberflow("validate", train), cwd=ROOT),
    }
    found = b.compare("start-up", sides, reps=max(3 * b.reps, 3))
    base = found["python -c 'import yaml'"].median
    for name in ("emberflow --help", "emberflow validate"):
        label = name if name.endswith("help") else "emberflow validate workflows/train.yaml"
        b.add(ratio_row(label, 1.5, found[name].median, base, "python -c 'import yaml'"))


# ----- 2. train on pandas + scikit-learn -----
def train_sklearn(b: Bench) -> None:
    data = csv_file(b.data, b.sizes.train_rows, seed=1)
    out = b.work / "train"
    out.mkdir(parents=True, exist_ok=True)
    sides = {
        "emberflow train workflow": lambda: b.run(*b.workflow(
            "train_sklearn.yaml", data=data, model="bench-lr", out=out / "ef_scored.csv")),
        "baselines/train_sklearn.py": lambda: b.run(*b.python(
            BASELINES / "train_sklearn.py", data, out / "model.joblib", out / "bl_scored.csv", out / "metrics.json")),
    }
    found = b.compare("train", sides)
    b.add(ratio_row(f"train workflow, sklearn, {b.sizes.train_rows:,} rows", 1.10,
                    found["emberflow train workflow"].median, found["baselines/train_sklearn.py"].median,
                    "pandas + scikit-learn + joblib script"))


def _latest_model_file(b: Bench, name: str) -> Path:
    folder = b.store / name
    version = max(int(p.name) for p in folder.iterdir() if p.name.isdigit())
    manifest = json.loads((folder / str(version) / "manifest.json").read_text())
    return folder / str(version) / manifest["artifact"]


# ----- 3. save and load of a large model -----
def model_io(b: Bench) -> None:
    rows = b.sizes.knn_rows
    plain = b.work / "knn"
    made = json.loads(b.run(*b.python("-m", "bench.make_knn", rows, b.store, plain), cwd=ROOT).stdout)
    b.log(f"  stored formats: {made}")

    def ours(model: str, mmap: bool) -> Callable[[], Sample]:
        def side() -> Sample:
            sample = b.run(*b.workflow("model_io.yaml", record=True, model=model, copy="bench-knn-copy",
                                       mmap=str(mmap).lower()))
            record = json.loads(sample.stdout)
            sample.parts = {step["id"]: step["seconds"] for step in record["steps"]}
            shutil.rmtree(b.store / "bench-knn-copy", ignore_errors=True)
            return sample
        return side

    def theirs(kind: str) -> Callable[[], Sample]:
        source = plain / ("knn.pkl" if kind == "pickle" else "knn.joblib")
        def side() -> Sample:
            copy = plain / f"copy-{kind}"
            copy.unlink(missing_ok=True)  # a new file each time, as SaveModel writes a new version
            sample = b.run(*b.python(BASELINES / "model_io.py", kind, plain / "small.pkl", source, copy))
            sample.parts = json.loads(sample.stdout)
            return sample
        return side

    sides = {
        f"emberflow ({made['bench-knn']}, auto)": ours("bench-knn", False),
        "emberflow (joblib)": ours("bench-knn-joblib", False),
        "emberflow (joblib, mmap: true)": ours("bench-knn-joblib", True),
        "joblib": theirs("joblib"),
        "pickle protocol 5": theirs("pickle"),
        "joblib mmap_mode='r'": theirs("joblib-mmap"),
    }
    found = b.compare("model save/load", sides, reps=b.reps)
    auto = found[f"emberflow ({made['bench-knn']}, auto)"]
    size = f"{rows:,} x 8"
    for op in ("save", "load"):
        pairs = {"joblib": found["joblib"].part(op), "pickle 5": found["pickle protocol 5"].part(op)}
        best = min(pairs, key=pairs.get)
        row = ratio_row(f"{op} KNN {size} via {'SaveModel' if op == 'save' else 'LoadModel'} (checksums)", 1.3,
                        auto.part(op), pairs[best], best)
        row.detail = {"baselines_s": pairs, "format": made["bench-knn"],
                      "emberflow_joblib_s": found["emberflow (joblib)"].part(op)}
        b.add(row)
    mmap = found["emberflow (joblib, mmap: true)"].part("load")
    b.add(ratio_row(f"load KNN {size}, joblib, mmap: true (checksums)", None, mmap,
                    found["joblib mmap_mode='r'"].part("load"), "joblib mmap_mode='r'"))


# ----- 4. score 1M rows in memory -----
def _scoring_model(b: Bench) -> Path:
    """A logistic regression in the store (trained by the train workflow), and its file for the baselines."""
    if not (b.store / "bench-lr").is_dir():
        data = csv_file(b.data, b.sizes.train_rows, seed=1)
        b.run(*b.workflow("train_sklearn.yaml", data=data, model="bench-lr", out=b.work / "seed_scored.csv"))
    return _latest_model_file(b, "bench-lr")


def score_sklearn(b: Bench) -> None:
    model_file = _scoring_model(b)
    data = csv_file(b.data, b.sizes.score_rows, seed=2, with_label=False)
    out = b.work / "score"
    out.mkdir(parents=True, exist_ok=True)
    sides = {
        "emberflow score workflow": lambda: b.run(*b.workflow(
            "score_sklearn.yaml", data=data, model="bench-lr", out=out / "ef_scored.csv")),
        "baselines/score_sklearn.py": lambda: b.run(*b.python(
            BASELINES / "score_sklearn.py", model_file, data, out / "bl_scored.csv")),
    }
    found = b.compare("score", sides, reps=max(1, min(b.reps, 3)))
    ours = found["emberflow score workflow"]
    b.shared["in_memory_per_row"] = ours.median / b.sizes.score_rows
    b.shared["in_memory_rss"] = ours.peak_rss
    b.add(ratio_row(f"score {b.sizes.score_rows:,} rows CSV to CSV, sklearn", 1.0, ours.median,
                    found["baselines/score_sklearn.py"].median, "pandas read_csv + predict_proba + to_csv"))
    for name in ("ef_scored.csv", "bl_scored.csv"):
        (out / name).unlink(missing_ok=True)


# ----- 5. score a large CSV in batches -----
def score_stream(b: Bench) -> None:
    if "in_memory_per_row" not in b.shared:
        score_sklearn(b)
    _scoring_model(b)
    rows = b.sizes.stream_rows
    data = csv_file(b.data, rows, seed=3, with_label=False)
    out = b.work / "stream"
    out.mkdir(parents=True, exist_ok=True)
    sides = {"emberflow score workflow, batch_rows": lambda: b.run(*b.workflow(
        "score_stream.yaml", data=data, model="bench-lr", out=out / "scored.csv", batch_rows=b.sizes.batch_rows))}
    found = b.compare("stream", sides, reps=max(1, min(b.reps, 2)), warmup=False)
    ours = found["emberflow score workflow, batch_rows"]
    size_gb = data.stat().st_size / 1e9
    b.add(Row(f"streaming score {rows:,} rows ({size_gb:.1f} GB): peak RSS", 1.0, ours.peak_rss / GIB,
              f"{ours.peak_rss / 2**20:.0f} MiB", "limit 1024 MiB",
              note=f"in-memory {b.sizes.score_rows:,} rows: {b.shared['in_memory_rss'] / 2**20:.0f} MiB"))
    per_row = ours.median / rows
    b.add(Row(f"streaming score {rows:,} rows: time per row vs in-memory", 1.2,
              per_row / b.shared["in_memory_per_row"], f"{per_row * 1e6:.2f} us/row ({seconds(ours.median)})",
              f"{b.shared['in_memory_per_row'] * 1e6:.2f} us/row (in-memory, {b.sizes.score_rows:,} rows)"))
    (out / "scored.csv").unlink(missing_ok=True)


# ----- 8. the tutorial emberflow grew from, end to end -----
def tutorial(b: Bench) -> None:
    """The tutorial's script (pandas, scikit-learn, pickle) against the same work as a workflow, on the Pima data;
    both must find the same test accuracy. Short runs whose time swings with the machine's load (both fit with
    OpenBLAS's threads, which wait for each other when other processes hold the cores), so at least 9 of each
    (one in quick mode)."""
    data = pima_file(b.data)
    out = b.work / "tutorial"
    out.mkdir(parents=True, exist_ok=True)
    ours, theirs = "emberflow tutorial workflow", "baselines/tutorial.py"
    sides = {
        ours: lambda: b.run(*b.workflow("tutorial.yaml", record=True, data=data, model="tutorial-lr")),
        theirs: lambda: b.run(*b.python(BASELINES / "tutorial.py", data, out / "finalized_model.sav")),
    }
    found = b.compare("tutorial", sides, reps=b.reps if b.quick else max(b.reps, 9))
    accuracy = json.loads(found[ours].samples[-1].stdout)["metrics"]["score"]["accuracy"]
    expected = float(found[theirs].samples[-1].stdout.split()[-1])
    if abs(accuracy - expected) > 1e-12:
        raise BenchError(f"the tutorial workflow's test accuracy {accuracy} differs from the script's {expected}")
    row = ratio_row("the tutorial as a workflow: Pima, 768 rows, read, split, train, save, score", 1.05,
                    found[ours].median, found[theirs].median, "the tutorial's script: pandas, scikit-learn, pickle")
    paired = [o.seconds / t.seconds for o, t in zip(found[ours].samples, found[theirs].samples, strict=True)]
    row.detail = {"median_of_paired_ratios": round(statistics.median(paired), 4),
                  "cpu_ratio": round(found[ours].cpu_median / found[theirs].cpu_median, 4)}
    b.log(f"  paired ratios {[round(r, 3) for r in paired]}; CPU time ratio {row.detail['cpu_ratio']}")
    b.add(row)


# ----- 9. data preparation and a SQL group-by -----
def prep_sql(b: Bench) -> None:
    """Filter, SelectColumns, CastColumns and a SQL group-by (DuckDB) over the labelled CSV, against the same work
    in pandas; both summaries must agree (counts exactly, the rest to 1e-9)."""
    data = csv_file(b.data, b.sizes.prep_rows, seed=1)
    out = b.work / "prep"
    out.mkdir(parents=True, exist_ok=True)
    ours, theirs = "emberflow prep + SQL workflow", "baselines/prep_sql.py"
    sides = {
        ours: lambda: b.run(*b.workflow("prep_sql.yaml", data=data, out=out / "ef_summary.csv")),
        theirs: lambda: b.run(*b.python(BASELINES / "prep_sql.py", data, out / "bl_summary.csv")),
    }
    found = b.compare("prep-sql", sides)
    _same_summaries(out / "ef_summary.csv", out / "bl_summary.csv")
    b.add(ratio_row(f"Filter, SelectColumns, CastColumns, SQL group-by, {b.sizes.prep_rows:,} rows CSV, sklearn", 1.0,
                    found[ours].median, found[theirs].median, "pandas read_csv, mask, astype, groupby, to_csv"))


def _same_summaries(ours: Path, theirs: Path) -> None:
    import csv
    import math

    def rows(path: Path) -> list[dict[str, str]]:
        return list(csv.DictReader(path.read_text().splitlines()))

    def same(a: dict[str, str], b: dict[str, str]) -> bool:
        numbers = [k for k in a if k not in ("label", "n")]
        return a.keys() == b.keys() and (a["label"], a["n"]) == (b["label"], b["n"]) and all(
            math.isclose(float(a[k]), float(b[k]), rel_tol=1e-9, abs_tol=1e-12) for k in numbers)

    mine, base = rows(ours), rows(theirs)
    if len(mine) != len(base) or not all(same(a, b) for a, b in zip(mine, base, strict=True)):
        raise BenchError(f"the workflow's summary {mine} differs from the pandas script's {base}")


# ----- random forests on numbers and text with missing values, on each engine -----
RF_PARAMS = "100 trees, max depth 10"
RF_BASELINES = {"sklearn": "pandas + scikit-learn script: ColumnTransformer, RandomForestClassifier",
                "spark": "pyspark script: Imputer, StringIndexer, OneHotEncoder, RandomForestClassifier",
                "h2o": "h2o script: import_file, H2ORandomForestEstimator"}


def random_forest(b: Bench, engine: str) -> None:
    """TrainRandomForest on ``rf_rows`` rows of 8 numbers and 2 text columns with missing values, then Score on as
    many other rows (with levels training never saw), against a script doing the same preparation and forest with
    the library; both sides' test accuracy must agree within 0.005 (3 / sqrt(rows) on small data): the forests differ
    by their randomness only, where a forest without the text columns loses 0.02."""
    rows = b.sizes.rf_rows
    train = mixed_csv_file(b.data, rows, seed=1)
    scored = mixed_csv_file(b.data, rows, seed=2, unseen_share=0.001)
    out = b.work / f"rf-{engine}"
    out.mkdir(parents=True, exist_ok=True)
    ours, theirs = f"emberflow rf workflow ({engine})", f"baselines/rf_{engine}.py"

    def workflow() -> Sample:
        sample = b.run(*b.workflow(f"rf_{engine}.yaml", record=True, train=train, data=scored))
        sample.parts = {step["id"]: step["seconds"] for step in json.loads(sample.stdout)["steps"]}
        return sample

    found = b.compare(f"rf {engine}", {
        ours: workflow,
        theirs: lambda: b.run(*b.python(BASELINES / f"rf_{engine}.py", train, scored, out / "metrics.json")),
    }, reps=max(1, min(b.reps, 3)), warmup=False)
    accuracy = json.loads(found[ours].samples[-1].stdout)["metrics"]["score"]["accuracy"]
    expected = json.loads((out / "metrics.json").read_text())["accuracy"]
    tolerance = max(0.005, 3 / rows**0.5)  # leaving the text columns out costs 0.02
    if abs(accuracy - expected) > tolerance:
        raise BenchError(f"the rf workflow's accuracy on {engine} is {accuracy}, the script's {expected}: they "
                         f"should agree within {tolerance:.3f}")
    row = ratio_row(f"random forest ({RF_PARAMS}), {engine}: train + score {rows:,} rows, 8 numbers + 2 text, "
                    "missing values", 1.10, found[ours].median, found[theirs].median,
                    RF_BASELINES[engine])
    row.detail = {"accuracy": {"emberflow": accuracy, "baseline": expected}}
    b.add(row)
    shutil.rmtree(out, ignore_errors=True)


SKLEARN_CASES = {
    "startup": startup,
    "train": train_sklearn,
    "model-io": model_io,
    "score": score_sklearn,
    "stream": score_stream,
    "prep-sql": prep_sql,
    "tutorial": tutorial,
    "rf": lambda b: random_forest(b, "sklearn"),
}
