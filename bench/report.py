"""The results of a benchmark run: a table on the terminal, JSON, Markdown and a PNG plot of the ratios."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from .cases import Row

LIBRARIES = ("emberflow", "numpy", "pandas", "pyarrow", "duckdb", "scikit-learn", "joblib", "pyspark", "h2o", "PyYAML")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "processor": _cpu_name(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    libraries = {}
    for name in LIBRARIES:
        try:
            libraries[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            libraries[name] = "not installed"
    info["libraries"] = libraries
    return info


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def table(rows: list[Row]) -> str:
    """The results as a Markdown table (readable as plain text too)."""
    lines = ["| benchmark | emberflow | baseline | ratio | target | met |", "|---|---|---|---|---|---|"]
    for row in rows:
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
        target = f"<= {row.target:g}" if row.target is not None else "(reported)"
        met = {True: "yes", False: "**no**", None: "-"}[row.met]
        name = f"{row.name} ({row.note})" if row.note else row.name
        lines.append(f"| {name} | {row.emberflow} | {row.baseline} | {ratio} | {target} | {met} |")
    return "\n".join(lines)


def machine_line(info: dict[str, Any]) -> str:
    libs = ", ".join(f"{k} {v}" for k, v in info["libraries"].items() if v != "not installed")
    return (f"{info['cpus']} cores ({info['processor']}), {info['memory_gib']} GiB, {info['system']}, "
            f"Python {info['python']}; {libs}; load average at the end {info['load_average']}")


def write(results: Path, rows: list[Row], series: dict[str, Any], settings: dict[str, Any],
          seconds: float) -> dict[str, Path]:
    """Write latest.json, latest.md and latest.png (and a time-stamped copy of the JSON) into ``results``."""
    results.mkdir(parents=True, exist_ok=True)
    info = machine()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {
        "finished": stamp, "seconds": round(seconds, 1), "machine": info, "settings": settings,
        "rows": [{"name": r.name, "target": r.target, "ratio": r.ratio, "met": r.met, "emberflow": r.emberflow,
                  "baseline": r.baseline, "note": r.note, "detail": r.detail} for r in rows],
        "series": series,
    }
    paths = {"json": results / "latest.json", "markdown": results / "latest.md", "plot": results / "latest.png"}
    text = json.dumps(document, indent=2, default=str)
    paths["json"].write_text(text + "\n")
    (results / f"bench-{stamp}.json").write_text(text + "\n")
    paths["markdown"].write_text(f"{table(rows)}\n\nMeasured on {machine_line(info)}; the whole run took "
                                 f"{seconds / 60:.1f} min.\n")
    plot(rows, paths["plot"])
    return paths


def plot(rows: list[Row], path: Path) -> None:
    """A horizontal bar per ratio, coloured by whether it meets its target, with the target marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r.ratio is not None]
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(shown) + 1.2))
    names = [r.name for r in shown][::-1]
    ratios = [r.ratio for r in shown][::-1]
    colours = [{True: "tab:green", False: "tab:red", None: "tab:gray"}[r.met] for r in shown][::-1]
    ax.barh(names, ratios, color=colours)
    for y, row in enumerate(shown[::-1]):
        if row.target is not None:
            ax.plot([row.target, row.target], [y - 0.4, y + 0.4], color="black", linewidth=2)
        ax.text(row.ratio, y, f" {row.ratio:.2f}", va="center", fontsize=8)
    ax.axvline(1.0, color="gray", linestyle=":", linewidth=1)
    ax.set_xscale("log")  # ratios span from well under 1 to far over it
    ax.set_xlabel("emberflow / baseline, log scale (lower is better; black marks: targets)")
    ax.set_title("emberflow against hand-written baselines")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
