"""Score: a model's predictions and probabilities for a frame, and metrics when the label is there."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emberflow.engine.api import (
    FRAME,
    MODEL,
    DataError,
    Node,
    Param,
    check_features,
    did_you_mean,
    predict,
)
from emberflow.nodes.metrics import BatchMetrics, RegressionBatchMetrics, classification_metrics, regression_metrics
from emberflow.nodes.spark_metrics import kept_for_the_run, probability_columns, spark_column, spark_metrics

if TYPE_CHECKING:
    from emberflow.engine.api import FrameBatches, Model, Prediction, StepContext

MODES = ("engine", "mojo")


class Score(Node):
    """Add prediction and probability columns to a frame.

    A binary model adds ``probability`` (of the second class); a model of more classes adds one
    ``probability_<class>`` column per class. When the frame holds the label column, the step records accuracy,
    ROC AUC, log loss and the confusion matrix in the run's record.

    On Spark the columns are plain doubles too (not Spark ML vectors), and the metrics are computed by Spark
    jobs, without collecting the rows. A Spark step scores a Spark ML model, or a scikit-learn or portable
    (``params``) model batch by batch through Arrow (``mapInPandas``); a Spark ML model scores on Spark only
    (to score one without Spark, save it with ``format: params``).

    On H2O the model scores on the cluster, and the step returns an H2OFrame. ``mode: mojo`` scores an H2O
    model's MOJO with the h2o-genmodel classes in a JVM of its own (heap: the ``h2o:`` section's
    ``max_mem_size``; 1G without that section), without any H2O cluster, and returns a pandas frame: on the
    sklearn engine, a run that only loads and scores an H2O model this way starts no H2O at all.

    Given batches (ReadCSV's ``batch_rows``), the step scores each batch as the next step consumes it; its
    metrics are then summed over the batches and recorded after the last one: accuracy, log loss and the
    confusion matrix, equal to those of the whole data, but no ROC AUC (which needs every score at once).
    """

    kind = "ml-predict"
    inputs = {"model": MODEL, "data": FRAME}
    outputs = {"data": FRAME}
    takes_batches = True
    params = (
        Param("label", "string", None, "the label column, for metrics (default: the model's label, if present)"),
        Param("prediction_col", "string", "prediction", "the name of the prediction column"),
        Param("probability_col", "string", "probability", "the name (or prefix) of the probability column(s)"),
        Param("mode", "string", "engine", "engine: score with the step's engine; mojo: score an H2O model's MOJO "
              "without an H2O cluster", choices=MODES, engines=("sklearn", "h2o")),
    )

    @classmethod
    def output_columns(cls, params: dict[str, Any], inputs: dict[str, list[str] | None]) -> dict[str, list[str]]:
        """The input's columns and the prediction's (the probability columns depend on the model: left out)."""
        columns = inputs.get("data")
        prediction = params.get("prediction_col") or "prediction"
        return {} if columns is None else {"data": [*[c for c in columns if c != prediction], prediction]}

    def run_sklearn(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]):
        from emberflow.engine.api import FrameBatches

        model: Model = inputs["model"]
        frame = inputs["data"]
        if isinstance(frame, FrameBatches):
            return score_batches(ctx, model, frame, params)
        if params["mode"] == "mojo":
            return score_mojo(ctx, model, frame, params)
        check_sklearn_model(model)
        return finish_pandas(ctx, model, frame, predict(model, frame), params)

    def run_spark(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]):
        from emberflow.engine.api import spark_errors
        from emberflow.nodes.spark_metrics import spark_regression_metrics

        model: Model = inputs["model"]
        frame = inputs["data"]
        label = params["label"] or model.label
        if params["label"] and label not in frame.columns:
            raise missing_label(label, frame.columns)
        check_features(model, frame.columns)
        with spark_errors():
            if model.engine == "spark":
                scored, classes = spark_model_scores(model, frame, params)
            elif model.engine in ("sklearn", "portable"):
                scored, classes = pandas_model_scores(model, frame, params)
            else:
                raise DataError(f"Score on engine spark cannot use a {model.engine} model; run the step with "
                                f"engine: {model.engine}")
            if label and label in frame.columns:
                scored = kept_for_the_run(ctx, scored)
                ctx.record_metrics(spark_regression_metrics(scored, label, params["prediction_col"])
                                   if model.is_regression else spark_metrics(scored, label, classes, params))
        return scored

    def run_h2o(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]):
        """H2O's predict gives the probabilities; the prediction compares them with the model's threshold, as on
        the other engines (H2O's own predict column uses the threshold that maximizes F1). The rows' columns are
        made what the model was trained on first (categories as text, see ``learners.h2o_backend``); H2O's
        warnings, such as levels the model was not trained on, go to the run's record."""
        from emberflow.engine.api import h2o_estimator, to_pandas
        from emberflow.nodes.learners import h2o_backend

        model: Model = inputs["model"]
        frame = inputs["data"]
        if params["mode"] == "mojo":
            return score_mojo(ctx, model, to_pandas(frame), params)
        if model.engine != "h2o":
            raise DataError(f"Score on engine h2o needs an H2O model, got a {model.engine} model; run the step "
                            f"with engine: {'sklearn' if model.engine == 'portable' else model.engine}")
        label = metrics_label(model, frame.columns, params)
        check_features(model, frame.columns)
        predictions = h2o_backend.predict(ctx, h2o_estimator(model), h2o_backend.model_inputs(model, frame))
        scored = h2o_add_predictions(frame, predictions, model, params)
        if label and model.is_regression:
            local = to_pandas(frame[label].cbind(predictions[:, 0]))
            ctx.record_metrics(regression_metrics(local.iloc[:, 0].to_numpy(), local.iloc[:, 1].to_numpy()))
        elif label:
            classes = list(model.classes)
            local = to_pandas(frame[label].cbind(predictions[:, 1:len(classes) + 1]))
            ctx.record_metrics(classification_metrics(local.iloc[:, 0].to_numpy(), local.iloc[:, 1:].to_numpy(),
                                                      classes, model.params.get("threshold", 0.5)))
        return scored


def check_sklearn_model(model: Model) -> None:
    if model.engine not in ("sklearn", "portable"):
        hint = " (or set mode: mojo to score its MOJO here)" if model.engine == "h2o" else ""
        raise DataError(f"Score on engine sklearn cannot use a {model.engine} model; run the step with "
                        f"engine: {model.engine}{hint}")


def score_batches(ctx: StepContext, model: Model, batches: FrameBatches, params: dict[str, Any]) -> FrameBatches:
    """The batches scored one by one as they are consumed; metrics summed over them, recorded at the end."""
    from emberflow.engine.api import FrameBatches

    if params["mode"] == "mojo":
        raise DataError("mode: mojo scores a whole frame, not batches; remove batch_rows from the ReadCSV step")
    check_sklearn_model(model)
    classes = list(model.classes) or list(getattr(model.obj, "classes_", []))
    threshold = model.params.get("threshold", 0.5)

    def scored():
        label = None
        totals = RegressionBatchMetrics() if model.is_regression else BatchMetrics(classes, threshold)
        for number, frame in enumerate(batches):
            if number == 0:
                label = metrics_label(model, frame.columns, params)
            prediction = predict(model, frame)
            if label:
                totals.add(frame[label].to_numpy(), prediction.values if model.is_regression else prediction.proba)
            yield add_predictions(frame, prediction, params)
        if label:
            ctx.record_metrics(totals.result())

    return FrameBatches(scored, f"{batches.description}, scored")


def finish_pandas(ctx: StepContext, model: Model, frame, prediction: Prediction, params: dict[str, Any]):
    """Prediction (and probability) columns added to a pandas frame; metrics recorded when the label is there."""
    scored = add_predictions(frame, prediction, params)
    label = metrics_label(model, frame.columns, params)
    if label:
        ctx.record_metrics(pandas_metrics(frame[label].to_numpy(), prediction, model.params.get("threshold", 0.5)))
    return scored


def pandas_metrics(y_true, prediction: Prediction, threshold: float) -> dict[str, Any]:
    """The task's metrics of a prediction against the labels (rows without a label left out and counted)."""
    if prediction.task == "regression":
        return regression_metrics(y_true, prediction.values)
    return classification_metrics(y_true, prediction.proba, prediction.classes, threshold)


def metrics_label(model: Model, columns, params: dict[str, Any]) -> str | None:
    """The label column to compute metrics with, if the data has it; an error if the one asked for is missing."""
    label = params["label"] or model.label
    if label and label in columns:
        return label
    if params["label"]:
        raise missing_label(label, columns)
    return None


def missing_label(label: str, columns) -> DataError:
    columns = [str(c) for c in columns]
    return DataError(f"Score: no label column '{label}' in the data{did_you_mean(label, columns)}; columns: "
                     f"{', '.join(columns)}")


def score_mojo(ctx: StepContext, model: Model, frame, params: dict[str, Any]):
    """An H2O model's MOJO scored by h2o-genmodel on a pandas frame: no H2O cluster. The rows are prepared as
    ``emberflow serve`` prepares them for the same MOJO (``predict_mojo``)."""
    from emberflow.engine.api import mojo_probabilities, predict_mojo

    if model.engine != "h2o":
        raise DataError(f"mode: mojo scores H2O models, and this is a {model.engine} model; leave out mode")
    prediction = predict_mojo(model, frame, lambda rows: mojo_probabilities(model, rows, ctx.sessions))
    return finish_pandas(ctx, model, frame, prediction, params)


def h2o_add_predictions(frame, predictions, model: Model, params: dict[str, Any]):
    """The H2OFrame with the prediction and probability columns (replacing columns of those names): a
    regression's predicted number; for two classes the second's probability against the threshold, beyond two
    the most probable class."""
    from emberflow.nodes.learners.h2o_backend import predicted_classes

    classes = list(model.classes)
    if model.is_regression:
        columns, names = [predictions[:, 0]], [params["prediction_col"]]
    else:
        prediction = predicted_classes(predictions, classes, model.params.get("threshold", 0.5))
        probabilities = [predictions[:, 2]] if len(classes) == 2 else [
            predictions[:, i + 1] for i in range(len(classes))]
        columns, names = [prediction, *probabilities], [params["prediction_col"], *probability_columns(classes, params)]
    replaced = [n for n in names if n in frame.columns]
    scored = frame.drop(replaced) if replaced else frame
    for column, name in zip(columns, names, strict=True):
        scored = scored.cbind(column.set_names([name]))
    return scored


def add_predictions(frame, prediction: Prediction, params: dict[str, Any]):
    """``frame`` with the prediction column and, for a classifier, the probability column(s)."""
    scored = frame.copy()
    scored[params["prediction_col"]] = prediction.values
    proba = prediction.proba
    if proba is None:
        return scored
    if proba.shape[1] == 2:
        scored[params["probability_col"]] = proba[:, 1]
    else:
        for index, cls in enumerate(prediction.classes):
            scored[f"{params['probability_col']}_{cls}"] = proba[:, index]
    return scored


def _kept(frame, added: list[str]) -> list[str]:
    return [c for c in frame.columns if c not in added]


def spark_model_scores(model: Model, frame, params: dict[str, Any]):
    """A Spark ML model's predictions (``spark_scores``, which ``emberflow serve`` uses too): a regression's as
    doubles; a classifier's as class values, with its probabilities as doubles."""
    from emberflow.engine.api import spark_scores

    scores = spark_scores(model, frame)
    if model.is_regression:
        return scores.transformed.select(*[spark_column(c) for c in _kept(frame, [params["prediction_col"]])],
                                         scores.prediction.alias(params["prediction_col"])), []
    classes, probabilities = scores.classes, scores.probabilities
    names = probability_columns(classes, params)
    chosen = [probabilities[1]] if len(classes) == 2 else [probabilities[i] for i in range(len(classes))]
    added = [params["prediction_col"], *names]
    scored = scores.transformed.select(
        *[spark_column(c) for c in _kept(frame, added)], scores.prediction.alias(params["prediction_col"]),
        *[value.alias(name) for value, name in zip(chosen, names, strict=True)])
    return scored, classes


def pandas_model_scores(model: Model, frame, params: dict[str, Any]):
    """A scikit-learn or portable model scoring a Spark frame batch by batch, exactly as on the sklearn engine."""
    from pyspark.sql import types

    classes = list(model.classes) or list(getattr(model.obj, "classes_", []))
    names = [] if model.is_regression else probability_columns(classes, params)
    added = [params["prediction_col"], *names]
    kept = _kept(frame, added)
    prediction_type = types.DoubleType() if model.is_regression else spark_type(classes)
    schema = types.StructType(
        [frame.schema[c] for c in kept]
        + [types.StructField(params["prediction_col"], prediction_type)]
        + [types.StructField(n, types.DoubleType()) for n in names])
    order = [*kept, *added]

    def score_batches(batches):
        for batch in batches:
            yield add_predictions(batch, predict(model, batch), params)[order]

    return frame.mapInPandas(score_batches, schema), classes


def spark_type(classes: list[Any]):
    """The Spark type of a prediction column holding these classes (the engine's ``class_type`` rule)."""
    from emberflow.engine.api import class_type
    from pyspark.sql import types

    return {"bool": types.BooleanType, "int": types.LongType, "float": types.DoubleType,
            "string": types.StringType}[class_type(classes)]()
