"""A small line chart of one metric across a model's versions, drawn as SVG on the server (no JavaScript).

Every text in it comes from manifests or run records, so all of it is escaped; a version without the metric
(or with a value that is not a finite number) leaves a gap in the line.
"""

from __future__ import annotations

import math
from html import escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 72, 24, 16, 44
MAX_X_LABELS = 12
MAX_DESCRIBED = 200  # versions read out in the chart's description (for screen readers)
LINE, POINT, GRID, INK = "#c2410c", "#9a3412", "#d9dee5", "#4a5563"


def number_text(value: float) -> str:
    """A value on the chart, short: four significant digits."""
    return f"{value:.4g}"


def metric_chart(metric: str, points: list[tuple[int, float | None]]) -> str | None:
    """``metric`` of each (version, value), oldest first, as one ``<svg>``; None when no version has a value."""
    values = [v for _, v in points if _finite(v)]
    if not values:
        return None
    low, high = min(values), max(values)
    if low == high:  # a flat line drawn across the middle
        pad = abs(low) * 0.05 or 1.0
        low, high = low - pad, high + pad
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(index: int) -> float:
        return LEFT + (plot_w / 2 if len(points) == 1 else index * plot_w / (len(points) - 1))

    def y_of(value: float) -> float:
        return TOP + (high - value) / (high - low) * plot_h

    title = f"{metric} across versions"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="metric-chart" role="img" width="{WIDTH}" '
           f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" aria-labelledby="chart-title chart-desc" '
           f'font-family="system-ui, sans-serif" font-size="11">',
           f'<title id="chart-title">{escape(title)}</title>',
           f'<desc id="chart-desc">{escape(_description(points))}</desc>']
    out += _axes(low, high, y_of, [(x_of(i), version) for i, (version, _) in enumerate(points)])
    out += _line(points, x_of, y_of, metric)
    out.append("</svg>")
    return "\n".join(out)


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _description(points: list[tuple[int, float | None]]) -> str:
    said = [f"version {version}: {number_text(v) if _finite(v) else 'none'}" for version, v in points[-MAX_DESCRIBED:]]
    return "; ".join(said) + ("" if len(points) <= MAX_DESCRIBED else f" (the newest {MAX_DESCRIBED} versions)")


def _axes(low: float, high: float, y_of, ticks: list[tuple[float, int]]) -> list[str]:
    """Three horizontal grid lines with their values, and version numbers along the bottom (thinned out)."""
    out = []
    for value in (low, (low + high) / 2, high):
        y = y_of(value)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{GRID}"/>'
                   f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" fill="{INK}">{number_text(value)}</text>')
    every = math.ceil(len(ticks) / MAX_X_LABELS)
    labelled = ticks[::every] + ([ticks[-1]] if (len(ticks) - 1) % every else [])
    for x, version in labelled:
        out.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" fill="{INK}">{version}</text>')
    out.append(f'<text x="{LEFT + (WIDTH - LEFT - RIGHT) / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" '
               f'fill="{INK}">version</text>')
    return out


def _line(points: list[tuple[int, float | None]], x_of, y_of, metric: str) -> list[str]:
    """The line through consecutive values (broken where a version has none) and a dot per value."""
    out, path, dots = [], [], []
    for index, (version, value) in enumerate(points):
        if not _finite(value):
            path.append(None)
            continue
        x, y = x_of(index), y_of(value)
        path.append(f"{x:.1f} {y:.1f}")
        dots.append(f'<circle class="point" data-version="{version}" cx="{x:.1f}" cy="{y:.1f}" r="4" '
                    f'fill="{POINT}"><title>version {version}: {escape(metric)} {number_text(value)}</title></circle>')
    segments, current = [], []
    for point in [*path, None]:
        if point is None:
            if len(current) > 1:
                segments.append("M " + " L ".join(current))
            current = []
        else:
            current.append(point)
    if segments:
        out.append(f'<path d="{" ".join(segments)}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    return out + dots
