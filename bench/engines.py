"""Benchmarks of the Spark and H2O engines against hand-written pyspark and h2o scripts."""

from __future__ import annotations

ENGINE_CASES: dict = {}
