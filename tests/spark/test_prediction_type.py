"""Score on Spark types its prediction column by the engine's class-type rule, as serve's V2 datatype and the
MLflow signature do: the three agree for every kind of class list (pure functions, no Spark session)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.spark

CLASS_LISTS = ([True, False], [0, 1], [0, 1.5], ["a", "b"], ["a", 1], [True, 1], [])


def test_score_serve_and_mlflow_name_the_same_prediction_type():
    from emberflow.engine.mlflow_export import _class_type
    from emberflow.engine.serving.v2 import value_datatype
    from emberflow.nodes.score import spark_type

    found = [(spark_type(c).simpleString(), value_datatype(c), _class_type(c)) for c in CLASS_LISTS]
    assert found == [("boolean", "BOOL", "boolean"), ("bigint", "INT64", "long"), ("double", "FP64", "double"),
                     *[("string", "BYTES", "string")] * 4]
