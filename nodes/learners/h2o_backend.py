"""The H2O backend: H2O's GLM, DRF and GBM on an H2OFrame, with H2O's own preparation, so that the saved
binary and MOJO take the raw columns.

- **Categories:** text, boolean and ``categorical`` columns are H2O categorical (enum) columns of a new frame
  (the input frame is left as it is): a text (string) column becomes one, as does a number column named in
  ``categorical`` (its levels are the numbers' text: ``3``, not ``3.0``). A column whose levels are ``true`` and
  ``false`` in any case has them as ``true``/``false``, the text every engine compares categories in (see
  ``emberflow.engine.predictor``). A missing category is the level ``(missing)``, a level of its own as in the
  other engines' one-hot encoding (H2O's GLM would take the most frequent level, its trees a direction of their
  own); in a column that had none in training it is an unseen category. Score makes the same columns of the
  rows it scores, on the cluster or for the MOJO. GLM encodes each level but the first as a 0/1 column (H2O's
  reference coding: with regularization the penalty falls on other coefficients than a full one-hot encoding's,
  without it the model is the same); DRF and GBM split on the levels natively, without one-hot encoding.
- **Missing numbers:** GLM replaces them by the training mean (``impute: mean``, H2O's MeanImputation) or
  median (``impute: median``, H2O's PlugValues with the training medians); the values are in the model, binary
  and MOJO. DRF and GBM send missing values down a direction of their own at each split, learned in training:
  H2O's native handling, which stands for ``impute: median`` and ``mean`` on trees. ``impute: none`` refuses
  missing numbers on every algorithm.
- **Unseen categories at scoring** (``unknown_category: ignore``): H2O takes them as missing values (and warns,
  a warning Score puts in the run's record): GLM gives them the most frequent training level, DRF and GBM the
  direction of missing values. ``error`` refuses them, naming the column and the value, before H2O predicts.
- **Defaults** mean what they mean on the other engines: a logistic regression without ``C`` or ``regParam`` has
  ``lambda_`` = 1 / rows and ``alpha`` 0 (scikit-learn's C = 1; H2O's own default is alpha 0.5 and a lambda it
  picks); ``standardization`` is H2O's ``standardize``. Forests and boosting grow every tree asked for (no early
  stopping). DRF tries at each split the square root of the columns for a classification and a third of them
  for a regression (its ``mtries`` -1), counting a categorical column once; each tree takes 63.2% of the rows
  drawn without replacement (H2O's ``sample_rate`` 0.632), where scikit-learn and Spark draw a bootstrap sample
  (which holds about 63.2% of the rows, some twice).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from emberflow.engine.api import MISSING_LEVEL, DataError, did_you_mean

from .preparation import CATEGORICAL, NUMERIC, LabelFacts, decide_task, missing_label_warning, plan_features

if TYPE_CHECKING:
    from emberflow.engine.api import Model, StepContext

    from .specs import AlgorithmSpec

NUMBER_TYPES = ("int", "real")
CATEGORY_TYPES = ("enum", "string")
BOOLEAN_TEXT = ("true", "false")


def train(spec: AlgorithmSpec, node: str, ctx: StepContext, frame, params: dict[str, Any]) -> Model:
    from emberflow.engine.api import Model

    types = {name: frame.types[name] for name in frame.columns}
    plan = plan_features(column_kinds(types), params, node)
    weight = params.get("weight_col")
    check_weight(types, weight)
    data = frame[list(dict.fromkeys([*plan.features, plan.label, *([weight] if weight else [])]))]
    data, facts = labelled_rows(ctx, data, plan.label, types[plan.label])
    task, why = decide_task(params.get("task", "auto"), spec.tasks, plan.label, facts)
    ctx.note(f"{task}: {why}")
    data = as_categories(data, {name: None for name in plan.categorical})
    check_impute(data, plan.numeric, params["impute"], node)
    classes: list[Any] = []
    if task == "classification":
        data, classes = label_as_classes(data, plan.label, types[plan.label])
    estimator = ESTIMATORS[spec.name](params, task, data, plan, classes)
    try:
        fit(ctx, estimator, data, plan.features, plan.label)
    finally:
        remove_plug_values(estimator)
    return Model(
        obj=estimator, engine="h2o", features=plan.features, label=plan.label, classes=classes,
        feature_types=plan.dtypes, params=h2o_params(spec, params), task=task, algorithm=spec.name,
        input_schema=plan.input_schema(levels_of(data, plan.categorical)),
        metrics=training_metrics(estimator, data, plan.label, task, classes, params.get("threshold", 0.5)),
    )


def column_kinds(types: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Each column's kind for the plan: H2O's int and real columns are numeric, enum and string (text) ones
    categorical; time and uuid columns no model takes."""
    described = {"time": "a date or time column", "uuid": "a UUID column"}
    kinds = {}
    for name, kind in types.items():
        if kind in NUMBER_TYPES:
            kinds[name] = (NUMERIC, kind)
        elif kind in CATEGORY_TYPES:
            kinds[name] = (CATEGORICAL, kind)
        else:
            kinds[name] = (described.get(kind, f"an H2O {kind} column"), kind)
    return kinds


def check_weight(types: dict[str, str], weight_col: str | None) -> None:
    if weight_col is not None and types.get(weight_col) not in NUMBER_TYPES:
        what = (f"is not in the data{did_you_mean(weight_col, types)}" if weight_col not in types
                else f"is an H2O {types[weight_col]} column")
        raise DataError(f"the weight column '{weight_col}' {what}; weight_col must name a numeric column")


def labelled_rows(ctx: StepContext, data, label: str, label_type: str):
    """The rows that have a label (the others left out, with a warning), and the facts the task rule needs,
    computed on the cluster."""
    missing = int(data[label].nacnt()[0])
    if missing:
        ctx.warn(missing_label_warning(label, missing, data.nrows))
        data = data[data[label].isna() == 0, :]
    if data.nrows == 0:
        raise DataError("the data has no rows to train on (no rows, or none with a label)")
    if label_type == "string":
        data[label] = data[label].asfactor()
    column = data[label]
    if label_type in CATEGORY_TYPES:
        levels = column.levels()[0]
        kind = "boolean" if is_boolean(levels) else "text"
        return data, LabelFacts(kind, column.table().nrow, kind == "boolean", missing)
    if label_type not in NUMBER_TYPES:
        raise DataError(f"the label '{label}' is an H2O {label_type} column; a model predicts numbers or "
                        "categories: cast it with a CastColumns step")
    whole = label_type == "int" or bool((column.floor() == column).all())
    return data, LabelFacts("integer" if label_type == "int" else "float", column.unique().nrow, whole, missing)


def is_boolean(levels: list[str]) -> bool:
    lowered = [level.lower() for level in levels]
    return bool(levels) and set(lowered) <= set(BOOLEAN_TEXT) and len(set(lowered)) == len(levels)


def as_categories(frame, columns: dict[str, list[Any] | None]):
    """``frame`` with each of ``columns`` as a categorical column whose levels are the category texts every
    engine uses (text as it is, numbers as ``3`` or ``2.5``, ``true``/``false`` for booleans) and a missing value
    as the level ``MISSING_LEVEL``. ``columns`` maps each name to the levels a model knows (``None`` in
    training): true/false levels are made lower case when the column's own levels are all true and false
    (training), or when the model's are (scoring). The input frame is left as it is (H2O copies on write)."""
    names = list(columns)
    types, gaps = frame.types, dict(zip(names, frame[names].nacnt(), strict=True)) if names else {}
    for name, known in columns.items():
        column, kind = frame[name], types[name]
        if kind == "int":
            column = column.asfactor()
        elif kind in ("real", "string"):
            column = column.ascharacter().asfactor()
        elif kind != "enum":
            raise DataError(f"column '{name}' is an H2O {kind} column, and the model takes categories there; "
                            "cast it to text with a CastColumns step")
        column, renamed = boolean_as_text(column, known)
        if gaps[name]:
            column = column.isna().ifelse(MISSING_LEVEL, column)
        if kind != "enum" or renamed or gaps[name]:
            frame[name] = column
    return frame


def boolean_as_text(column, known: list[Any] | None):
    """The column with its true/false levels in lower case (see ``as_categories``), and whether they changed."""
    levels = column.levels()[0]
    boolean = is_boolean(levels) if known is None else bool(known) and set(map(str, known)) <= set(BOOLEAN_TEXT)
    renamed = [level.lower() if boolean and level.lower() in BOOLEAN_TEXT else level for level in levels]
    if renamed == levels or len(set(renamed)) != len(renamed):
        return column, False
    return column.set_levels(renamed), True


def levels_of(data, categorical: list[str]) -> dict[str, list[str]]:
    """The levels each categorical column's rows hold, as the input schema records them (``MISSING_LEVEL`` is no
    category of the data)."""
    if not categorical:
        return {}
    return {name: [level for level in levels if level != MISSING_LEVEL]
            for name, levels in zip(categorical, data[categorical].levels(), strict=True)}


def check_impute(data, numeric: list[str], impute: str, node: str) -> None:
    if impute != "none" or not numeric:
        return
    gaps = [name for name, count in zip(numeric, data[numeric].nacnt(), strict=True) if count]
    if gaps:
        raise DataError(f"features {gaps} have missing values and impute is none; set impute: median (or mean), "
                        f"or drop those rows with a DropMissing step before {node}")


def label_as_classes(data, label: str, label_type: str):
    """The label as a factor of the classes its rows hold (a new column: numbers become their text, and the
    levels of a category no row holds any more are dropped), and the classes, typed as the label was."""
    column = data[label]
    if label_type == "int":
        column = column.asfactor()
    elif label_type == "real" or len(column.levels()[0]) != column.table().nrow:
        column = column.ascharacter().asfactor()
    data[label] = column
    return data, typed_levels(data[label].levels()[0], label_type)


def typed_levels(levels: list[str], label_type: str) -> list[Any]:
    """H2O's factor levels are text; a numeric label's classes are numbers, as on the other engines."""
    if label_type == "int":
        return [int(float(level)) for level in levels]
    if label_type == "real":
        return [float(level) for level in levels]
    return list(levels)


def fit(ctx: StepContext, estimator, data, features: list[str], label: str) -> None:
    """Train, with H2O's warnings in the run's record rather than on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.train(x=features, y=label, training_frame=data)
    for warning in caught:
        ctx.warn(f"H2O: {str(warning.message).strip()}")


def h2o_params(spec: AlgorithmSpec, params: dict[str, Any]) -> dict[str, Any]:
    """The step's parameters that apply on H2O, as the manifest records them."""
    return {p.name: params[p.name] for p in spec.all_params
            if params.get(p.name) is not None and (p.engines is None or "h2o" in p.engines)}


def training_metrics(estimator, data, label: str, task: str, classes: list[Any], threshold: float) -> dict:
    """``train_rows`` and, as Score measures them (on the cluster: no rows leave it), ``train_accuracy`` at the
    step's threshold or ``train_rmse``. (H2O's own training metrics take the threshold that maximizes F1, and a
    forest's are out of bag.)"""
    import h2o

    metrics: dict[str, Any] = {"train_rows": int(data.nrows)}
    predictions = estimator.predict(data)
    try:
        if task == "regression":
            errors = predictions[:, 0] - data[label]
            metrics["train_rmse"] = float((errors * errors).mean()[0]) ** 0.5
        else:
            right = class_index(predictions, len(classes), threshold) == data[label].asnumeric()
            metrics["train_accuracy"] = float(right.mean()[0])
    finally:
        h2o.remove(predictions)
    return metrics


def class_index(predictions, classes: int, threshold: float):
    """Each row's predicted class as its index among the classes, from H2O's probabilities: for two, the
    second's probability above ``threshold``; beyond two the most probable (the first of equals). H2O's own
    predict column takes the threshold that maximizes F1, and breaks ties by chance."""
    if classes == 2:
        return predictions[:, 2] > threshold
    return predictions[:, 1:classes + 1].idxmax(axis=1)


def glm_arguments(params: dict[str, Any], strength: float, l1: float, data, plan) -> dict[str, Any]:
    """The GLM arguments common to logistic and linear regression."""
    arguments: dict[str, Any] = {
        "lambda_": strength, "alpha": l1, "max_iterations": params["max_iter"], "beta_epsilon": params["tol"],
        "intercept": params["fit_intercept"], "standardize": params["standardization"],
        **missing_values(data, plan, params["impute"]),
    }
    optional = {"seed": params.get("seed"), "weights_column": params.get("weight_col")}
    arguments.update({k: v for k, v in optional.items() if v is not None})
    return arguments


def missing_values(data, plan, impute: str) -> dict[str, Any]:
    """GLM's handling of missing values: the training means (MeanImputation), or for ``impute: median`` the
    medians (PlugValues: a one-row frame holding a value for every feature, categories the most frequent
    level, which is what MeanImputation takes for them)."""
    if impute != "median" or not plan.numeric:
        return {"missing_values_handling": "MeanImputation"}
    import h2o

    medians = data[plan.numeric].median(na_rm=True)
    values = {n: 0.0 if m != m else m for n, m in zip(plan.numeric, medians, strict=True)}
    values.update({name: most_frequent(data[name]) for name in plan.categorical})
    plugs = {name: [values[name]] for name in plan.features}  # in the features' order: no second frame
    types = {name: "enum" if name in plan.categorical else "real" for name in plugs}
    return {"missing_values_handling": "PlugValues", "plug_values": h2o.H2OFrame(plugs, column_types=types)}


def most_frequent(column) -> str | None:
    """The most frequent level of a categorical column (the first of equals, in the levels' order)."""
    from emberflow.engine.api import to_pandas

    counts = to_pandas(column.table())
    if counts.empty:
        return None
    return str(counts.iloc[counts.iloc[:, 1].to_numpy().argmax(), 0])


def remove_plug_values(estimator) -> None:
    """The one-row frame of plug values, uploaded for the GLM's training, off the cluster once it is fitted: the
    model keeps the values (binary and MOJO), and a run on a cluster it joined leaves nothing of its own there."""
    import h2o

    plug = estimator._parms.get("plug_values") if isinstance(getattr(estimator, "_parms", None), dict) else None
    if plug is not None and hasattr(plug, "frame_id"):
        h2o.remove(plug)


def logistic_regression(params: dict[str, Any], task: str, data, plan, classes: list[Any]):
    """H2O's GLM, family binomial (two classes) or multinomial; without ``regParam`` the regularization of
    scikit-learn's C = 1, as ``lambda_`` = 1 / rows (H2O averages the loss over the rows, scikit-learn sums it)."""
    from h2o.estimators import H2OGeneralizedLinearEstimator

    family = params["family"]
    if family == "auto":
        family = "binomial" if len(classes) == 2 else "multinomial"
    if family == "binomial" and len(classes) > 2:
        raise DataError(f"family binomial takes two classes, but the label '{plan.label}' has {len(classes)}; "
                        "use family: multinomial or auto")
    strength = params["regParam"] if params["regParam"] is not None else 1.0 / max(data.nrows, 1)
    l1 = params["elasticNetParam"] if params["elasticNetParam"] is not None else 0.0
    return H2OGeneralizedLinearEstimator(family=family, **glm_arguments(params, strength, l1, data, plan))


def linear_regression(params: dict[str, Any], task: str, data, plan, classes: list[Any]):
    """H2O's GLM, family gaussian: squared error over twice the rows plus ``regParam`` times the elastic-net
    penalty, Spark's and scikit-learn's objective."""
    from h2o.estimators import H2OGeneralizedLinearEstimator

    arguments = glm_arguments(params, params["regParam"], params["elasticNetParam"], data, plan)
    return H2OGeneralizedLinearEstimator(family="gaussian", **arguments)


def tree_arguments(params: dict[str, Any]) -> dict[str, Any]:
    arguments = {"ntrees": params["n_estimators"], "max_depth": params["max_depth"],
                  "min_rows": params["min_samples_leaf"], "stopping_rounds": 0}
    if params.get("seed") is not None:
        arguments["seed"] = params["seed"]
    return arguments


def random_forest(params: dict[str, Any], task: str, data, plan, classes: list[Any]):
    from h2o.estimators import H2ORandomForestEstimator

    return H2ORandomForestEstimator(mtries=-1, **tree_arguments(params))


def gbt(params: dict[str, Any], task: str, data, plan, classes: list[Any]):
    from h2o.estimators import H2OGradientBoostingEstimator

    return H2OGradientBoostingEstimator(learn_rate=params["learning_rate"], **tree_arguments(params))


ESTIMATORS = {"logistic_regression": logistic_regression, "random_forest": random_forest, "gbt": gbt,
              "linear_regression": linear_regression}


# ----- scoring on the cluster (Score's run_h2o) -----

def model_inputs(model: Model, frame):
    """The model's input columns of ``frame`` as it was trained on them: numbers as numbers, categories as the
    texts of ``as_categories``; with ``unknown_category: error`` a category the model never saw is an error
    naming the column, the value and its row. A model without an input schema (trained before) takes the
    columns as they are."""
    columns = frame[list(model.features)]
    if not model.input_schema:
        return columns
    types = columns.types
    for column in model.input_schema:
        if column.get("kind") != CATEGORICAL and types[column["name"]] not in NUMBER_TYPES:
            check_numbers(columns, column["name"], types[column["name"]])
    categorical = {c["name"]: c.get("levels") or [] for c in model.input_schema if c.get("kind") == CATEGORICAL}
    columns = as_categories(columns, categorical)
    if model.params.get("unknown_category") == "error":
        for name, levels in categorical.items():
            check_known(columns[name], name, levels)
    return columns


def check_numbers(frame, name: str, kind: str) -> None:
    """A numeric input that H2O holds as categories or text: refused, naming a value (a column of nothing but
    missing values, which H2O may type as anything, is let through as missing numbers)."""
    column = frame[name]
    if int(column.nacnt()[0]) == column.nrow:
        frame[name] = column.ascharacter().asnumeric()
        return
    sample = column.levels()[0][:1] if kind == "enum" else [column.na_omit()[0, 0]] if kind == "string" else []
    holds = f"holds {sample[0]!r}" if sample else f"is an H2O {kind} column"
    raise DataError(f"column '{name}' {holds} in the scored data, and the model takes numbers there; fix or drop "
                    "such rows (CastColumns with invalid: null makes them missing)")


def check_known(column, name: str, levels: list[Any]) -> None:
    """With ``unknown_category: error``: every category of the rows among the levels seen in training."""
    known = set(map(str, levels))
    for level in column.levels()[0]:
        if level in known or level == MISSING_LEVEL:
            continue
        rows = (column == level).which()
        if rows.nrow:
            row = int(rows[0, 0])
            raise DataError(f"column '{name}' holds {level!r} in row {row + 1} of the scored data, a category the "
                            f"model never saw (it knows {', '.join(sorted(known)[:10])}); drop such rows, or train "
                            "with unknown_category: ignore")


def predict(ctx: StepContext, estimator, inputs):
    """H2O's predictions, with its warnings (levels not trained on ...) in the run's record."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        predictions = estimator.predict(inputs)
    for warning in caught:
        ctx.warn(f"H2O: {str(warning.message).strip()}")
    return predictions


def predicted_classes(predictions, classes: list[Any], threshold: float):
    """A column of the predicted classes (as ``class_index`` picks them), numbers for a numeric label."""
    index = class_index(predictions, len(classes), threshold)
    if len(classes) == 2:
        return index.ifelse(classes[1], classes[0])
    factor = index.ascharacter().asfactor()
    named = factor.set_levels([str(classes[int(float(level))]) for level in factor.levels()[0]])
    if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in classes):
        return named.ascharacter().asnumeric()
    return named
