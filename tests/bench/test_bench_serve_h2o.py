"""The serve-h2o benchmark runs, tiny (10 one-row requests and a 50-row batch, a GLM on 2,000 rows): emberflow
serve of an H2O MOJO against h2o.mojo_predict_pandas, both sides' probabilities agreeing (the case checks them),
and its two figures in the report. No timing is asserted."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.h2o


def test_the_serve_h2o_benchmark_runs_and_reports_both_figures(quick_bench):
    rows = quick_bench("--only", "serve-h2o").report["rows"]
    names = [row["name"] for row in rows]
    assert any("10 one-row requests" in name for name in names), names
    assert any("one request of 50 rows" in name for name in names), names
    assert all(row["ratio"] > 0 for row in rows)
