"""Spark ML models served through a local Spark session, started once when the model is loaded (the engine's
own session machinery: ``context.Sessions``, ``engines.spark``) and kept for the server's life; the
PipelineModel is loaded once. Each request becomes a small Spark frame (``createDataFrame``) that goes through
``spark_scoring.spark_scores``, the code Score on Spark uses, and its rows are collected.

The frame's columns are typed from the model's input schema: numbers as doubles (the pipeline casts them to
doubles anyway), categories as their text (``predictor.category_text``), which the pipeline's SQLTransformer
turns into the same category text as for the column it was trained on; missing values are nulls, as Spark's
CSV reader gives them. A model saved before input schemas gets the columns as Spark infers them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..model import Model
    from ..predictor import Prediction

PREDICTION, PROBABILITIES = "emberflow_served_prediction", "emberflow_served_probabilities"
LOCAL_ROWS = 8  # a request of at most this many rows goes to Spark as a local relation (see ``local_frame``)


class SparkScorer:
    """``predict(frame)``: a Spark ML model's Prediction for a pandas frame's raw rows."""

    def __init__(self, model: Model, session: Any):
        self.model, self.session = model, session

    def predict(self, frame) -> Prediction:
        import numpy as np

        from ..predictor import Prediction, check_features
        from ..spark_errors import spark_errors
        from ..spark_scoring import spark_scores

        check_features(self.model, frame.columns)
        with spark_errors():
            scores = spark_scores(self.model, self.spark_frame(frame))
            columns = [scores.prediction.alias(PREDICTION)]
            if scores.probabilities is not None:
                columns.append(scores.probabilities.alias(PROBABILITIES))
            rows = scores.transformed.select(*columns).collect()
        values = np.asarray([row[0] for row in rows])
        if self.model.is_regression:
            return Prediction("regression", values.astype("float64"))
        proba = np.asarray([row[1] for row in rows], dtype="float64").reshape(len(rows), len(scores.classes))
        return Prediction("classification", values, proba, scores.classes)

    def spark_frame(self, frame):
        """The feature columns as a Spark frame, typed from the input schema (see the module's doc)."""
        from pyspark.sql import types

        from ..predictor import category_text, numeric_values

        features = frame[list(self.model.features)]
        if not self.model.input_schema:
            return self.session.createDataFrame(features.astype(object).where(features.notna(), None))
        fields, columns = [], []
        for column in self.model.input_schema:
            name = column["name"]
            if column.get("kind") == "categorical":
                values, kind = category_text(features[name]), types.StringType()
            else:
                values, kind = numeric_values(features[name], name), types.DoubleType()
            columns.append([None if value != value else value for value in values.tolist()])  # NaN: null
            fields.append(types.StructField(name, kind))
        rows, schema = list(zip(*columns, strict=True)), types.StructType(fields)
        if len(rows) <= LOCAL_ROWS:
            return self.local_frame(rows, schema)
        return self.session.createDataFrame(rows, schema)

    def local_frame(self, rows: list[tuple], schema):
        """A few rows as a local relation (Spark's ``createDataFrame`` of a Java list of Rows): the optimizer
        evaluates the pipeline's stages on it while planning, so collecting runs no Spark job; pyspark's
        ``createDataFrame`` makes an RDD, whose job cost about 240 ms a one-row request here against about 80 ms.
        Each value is one call through py4j, so this is for a few rows only."""
        from pyspark.sql import DataFrame

        session = self.session
        gateway, jvm = session.sparkContext._gateway, session._jvm
        java_rows = jvm.java.util.ArrayList()
        for row in rows:
            values = gateway.new_array(jvm.java.lang.Object, len(row))
            for index, value in enumerate(row):
                values[index] = value
            java_rows.add(jvm.org.apache.spark.sql.RowFactory.create(values))
        java_schema = session._jsparkSession.parseDataType(schema.json())
        return DataFrame(session._jsparkSession.createDataFrame(java_rows, java_schema), session)
