"""A Spark ML model's predictions for a Spark frame's rows: the one implementation that Score on Spark and
``emberflow serve`` (``serving.spark``) both use, so that both give the same predictions for the same rows.

The rows are checked against the model's input schema before the pipeline sees them (``scoring_frame``), the
PipelineModel (its SQLTransformer, Imputer, StringIndexer, OneHotEncoder ... and the estimator) prepares and
scores them, and the prediction is made as on every engine: a regression's number as a double; for two classes
the second's probability against the model's threshold, beyond two Spark's most probable class, given as the
class value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import DataError

if TYPE_CHECKING:
    from .model import Model

NUMERIC, CATEGORICAL = "numeric", "categorical"  # the input schema's kinds


@dataclass
class SparkScores:
    """The transformed frame and the expressions on it: ``prediction`` (a double for a regression, else the
    class value), ``probabilities`` (an array of doubles in the order of ``classes``; None for a regression)."""

    transformed: Any
    prediction: Any
    probabilities: Any
    classes: list[Any]


def spark_column(name: str):
    """A column by its exact name (dots and backticks in it taken literally)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def spark_scores(model: Model, frame) -> SparkScores:
    """The model's predictions for ``frame``'s rows (see the module's doc)."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    stages = list(reversed(getattr(model.obj, "stages", [model.obj])))
    wanted = "getPredictionCol" if model.is_regression else "getProbabilityCol"
    predictor = next((s for s in stages if callable(getattr(s, wanted, None))), None)
    if predictor is None:
        needs = "predictions" if model.is_regression else "class probabilities"
        raise DataError(f"Score needs a model that gives {needs}; {model.model_class} does not")
    transformed = model.obj.transform(scoring_frame(model, frame))
    if model.is_regression:
        return SparkScores(transformed, spark_column(predictor.getPredictionCol()).cast("double"), None, [])
    classes = list(model.classes) or [float(i) for i in range(predictor.numClasses)]
    index = predicted_index(predictor.getPredictionCol(), predictor.getProbabilityCol(), len(classes),
                            model.params.get("threshold", 0.5))
    prediction = F.element_at(F.array(*[F.lit(c) for c in classes]), index + 1)
    probabilities = vector_to_array(spark_column(predictor.getProbabilityCol()))
    return SparkScores(transformed, prediction, probabilities, classes)


def category_text_sql(name: str, dtype: str) -> str:
    """A SQL expression of a column's category text, null where it is missing: a whole number of a floating
    column as ``3`` (through a bigint), booleans ``true``/``false``, anything else as Spark casts it to text."""
    column = "`" + name.replace("`", "``") + "`"
    if dtype in ("float", "double") or dtype.startswith("decimal"):
        number = f"CAST({column} AS DOUBLE)"
        return (f"CASE WHEN isnan({number}) THEN NULL WHEN {number} % 1 = 0 AND abs({number}) < 9e18 "
                f"THEN CAST(CAST({number} AS BIGINT) AS STRING) ELSE CAST({number} AS STRING) END")
    return f"CAST({column} AS STRING)"


def scoring_frame(model: Model, frame):
    """``frame``, checked against the model's input schema before the pipeline sees it, so that what the
    pipeline would fail on with Spark's own words is one line naming the column: a numeric column of another
    type (on the schema), and, in at most one Spark job, a text in a numeric column that is not a number, and
    with ``unknown_category: error`` a category the model never saw (missing values are no category)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import BooleanType, NumericType, StringType

    from .spark_compat import try_cast

    types = {f.name: f.dataType for f in frame.schema.fields}
    unknown = model.params.get("unknown_category", "ignore")
    checks = []
    for column in model.input_schema:
        name, values = column["name"], spark_column(column["name"])
        if column.get("kind") == NUMERIC and isinstance(types[name], StringType):
            checks.append((column, F.when(values.isNotNull() & try_cast(values, "double").isNull(), values)))
        elif column.get("kind") == NUMERIC and not isinstance(types[name], (NumericType, BooleanType)):
            raise DataError(f"column '{name}' is {types[name].simpleString()} in the scored data, and the model "
                            f"takes numbers there ({column.get('dtype')}); cast it with a CastColumns step")
        elif column.get("kind") == CATEGORICAL and unknown == "error":
            text = F.expr(category_text_sql(name, column.get("dtype", "string")))
            checks.append((column, F.when(text.isNotNull() & ~text.isin(column.get("levels") or []), text)))
    if not checks:
        return frame
    found = frame.agg(*[F.first(bad, ignorenulls=True) for _, bad in checks]).first()
    for (column, _), value in zip(checks, found, strict=True):
        if value is not None:
            raise scoring_problem(column, value)
    return frame


def scoring_problem(column: dict[str, Any], value: Any) -> DataError:
    name = column["name"]
    if column.get("kind") == NUMERIC:
        return DataError(f"column '{name}' holds {value!r} in the scored data, and the model takes numbers there; "
                         "fix or drop such rows (CastColumns with invalid: null makes them missing)")
    levels = sorted(map(str, column.get("levels") or []))
    return DataError(f"column '{name}' holds {value!r} in the scored data, a category the model never saw (it "
                     f"knows {', '.join(levels[:10])}{' ...' if len(levels) > 10 else ''}); drop such rows, or train "
                     "with unknown_category: ignore")


def predicted_index(prediction_col: str, probability_col: str, n_classes: int, threshold: float):
    """The predicted class index as Score predicts it on every engine: for two classes, 1 where the second's
    probability is above ``threshold``; beyond two, Spark's most probable class."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    if n_classes == 2:
        return F.when(vector_to_array(spark_column(probability_col))[1] > threshold, 1).otherwise(0)
    return spark_column(prediction_col).cast("int")
