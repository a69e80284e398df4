"""Run the benchmarks: ``python -m bench.run`` (all of them), ``--quick`` (tiny sizes, a smoke run),
``--only startup,train`` (some of them), ``--rows 5000`` (every data set at that size). Prints the table of ratios
and writes bench/results/latest.*."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .cases import SKLEARN_CASES, Bench, Sizes
from .engines import ENGINE_CASES
from .harness import BenchError, child_env
from .report import table, write
from .serve_h2o import SERVE_CASES
from .serve_mlflow import SERVE_MLFLOW_CASES

HERE = Path(__file__).resolve().parent
CASES = {**SKLEARN_CASES, **ENGINE_CASES, **SERVE_CASES, **SERVE_MLFLOW_CASES}


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of rows, 1 or more, got {text!r}")
    return int(text)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repetition, no warm-up (a smoke run)")
    parser.add_argument("--only", help=f"comma-separated cases among: {', '.join(CASES)}")
    parser.add_argument("--skip", help="comma-separated cases to leave out")
    parser.add_argument("--rows", type=_positive, help="rows of every generated data set instead of the full or quick "
                        "sizes (e.g. to smoke a Spark or H2O case: --only rf-spark --rows 5000 --reps 1)")
    parser.add_argument("--reps", type=int, help="repetitions of each side (default 5, quick 1)")
    parser.add_argument("--results", type=Path, default=HERE / "results", help="where the results go")
    parser.add_argument("--data", type=Path, help="where generated data is kept (default RESULTS/data)")
    return parser.parse_args(argv)


def chosen(args: argparse.Namespace) -> list[str]:
    names = args.only.split(",") if args.only else list(CASES)
    if args.quick and not args.only:
        names = list(SKLEARN_CASES)
    skipped = set(args.skip.split(",")) if args.skip else set()
    unknown = [n for n in [*names, *skipped] if n not in CASES]
    if unknown:
        raise SystemExit(f"unknown cases {unknown}; cases: {', '.join(CASES)}")
    return [n for n in names if n not in skipped]


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    names = chosen(args)
    sizes = Sizes.quick() if args.quick else Sizes()
    if args.rows:
        sizes = sizes.with_rows(args.rows)
    reps = args.reps or (1 if args.quick else 5)
    work = Path(tempfile.mkdtemp(prefix="emberflow-bench-"))
    bench = Bench(results=args.results, data=args.data or args.results / "data", work=work, sizes=sizes,
                  reps=reps, env=child_env({"EMBERFLOW_STORE": str(work / "store")}), warmup=not args.quick,
                  quick=args.quick, log=lambda text: print(text, flush=True))
    start = time.perf_counter()
    try:
        for name in names:
            print(f"[{name}]", flush=True)
            CASES[name](bench)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - start
    settings = {"quick": args.quick, "reps": reps, "cases": names, "sizes": vars(sizes)}
    paths = write(args.results, bench.rows, bench.series, settings, elapsed)
    print("\n" + table(bench.rows))
    print(f"\n{len(bench.rows)} figures in {elapsed / 60:.1f} min; written to "
          f"{', '.join(str(p) for p in paths.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
