"""Timing: child processes (wall time and peak resident memory), alternated with their baseline, medians."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


class BenchError(RuntimeError):
    """A benchmarked command failed: the benchmark's figures would mean nothing."""


@dataclass
class Sample:
    seconds: float
    max_rss: int = 0  # bytes, of the child process (and the children it waited for)
    cpu: float = 0.0  # seconds of CPU (user + system) the child used, all its threads
    parts: dict[str, float] = field(default_factory=dict)  # timings reported from inside the process
    stdout: str = field(default="", repr=False)
    stderr: str = field(default="", repr=False)


@dataclass
class Series:
    """Repeated samples of one side of a comparison."""

    label: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    def part(self, name: str) -> float:
        """The median of a timing the process reported about itself (one operation inside it)."""
        return statistics.median(s.parts[name] for s in self.samples)

    @property
    def cpu_median(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def peak_rss(self) -> int:
        return max((s.max_rss for s in self.samples), default=0)

    def as_dict(self) -> dict:
        parts = sorted({name for s in self.samples for name in s.parts})
        return {"label": self.label, "median_s": round(self.median, 4),
                "runs_s": [round(s.seconds, 4) for s in self.samples],
                "cpu_median_s": round(self.cpu_median, 4),
                "peak_rss_mib": round(self.peak_rss / 2**20, 1),
                "parts_median_s": {name: round(self.part(name), 4) for name in parts}}


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of benchmarked processes: this one's, with bytecode caching on as in a normal install
    (a ``PYTHONDONTWRITEBYTECODE`` here would make emberflow's own modules compile on every start, while the
    libraries it is compared with come precompiled)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra or {})
    return env


def run_command(cmd: Sequence[str], cwd: Path, env: dict[str, str], timeout: float = 1800) -> Sample:
    """Run ``cmd`` to completion: its wall time, peak RSS and standard output. A failure raises with the end of
    its output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(map(str, cmd)), cwd=cwd, env=env, stdout=out, stderr=err)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)  # blocking: no polling delay in the measurement
        finally:
            killer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if code != 0:
            tail = (out.read() + err.read()).decode(errors="replace")[-3000:]
            raise BenchError(f"{' '.join(map(str, cmd))} exited with {code}:\n{tail}")
        return Sample(seconds, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime,
                      stdout=out.read().decode(errors="replace"), stderr=err.read().decode(errors="replace"))


def alternate(sides: dict[str, Callable[[], Sample]], reps: int, warmup: bool = True,
              log: Callable[[str], None] = print) -> dict[str, Series]:
    """Run every side ``reps`` times, interleaved (the order flips each round, so a burst of load elsewhere
    hits both sides alike), after one unmeasured warm-up run of each (page cache, bytecode)."""
    series = {name: Series(name) for name in sides}
    names = list(sides)
    if warmup:
        for name in names:
            sides[name]()
    for rep in range(reps):
        for name in (names if rep % 2 == 0 else names[::-1]):
            sample = sides[name]()
            series[name].samples.append(sample)
            log(f"    {name:<34} {sample.seconds:8.3f} s  {sample.max_rss / 2**20:8.1f} MiB")
    return series
