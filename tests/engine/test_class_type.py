"""The class-type rule: what type a prediction column of these classes has (Score on Spark, serve's V2
datatypes and the MLflow signature all name it from this rule)."""

from __future__ import annotations

import numpy as np
import pytest
from emberflow.engine.api import class_type


@pytest.mark.parametrize("classes, expected", [
    ([True, False], "bool"),
    ([0, 1], "int"),
    ([0, 1.5], "float"),
    ([0.5, np.float64(2.0)], "float"),  # a NumPy float is a float
    (["a", "b"], "string"),
    (["a", 1], "string"),
    ([True, 1], "string"),  # booleans mixed with numbers are neither
    ([True, 1.5], "string"),
    ([], "string"),
])
def test_the_classes_give_the_prediction_type(classes: list, expected: str):
    assert class_type(classes) == expected
