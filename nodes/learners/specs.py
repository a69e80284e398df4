"""Algorithm specs: each algorithm's parameters, tasks, engines and checks, with no engine code.

Every parameter has one meaning on every engine: a default that the backends map to each library's own (the
libraries' defaults differ: Spark trains 20 trees, H2O 50, scikit-learn 100, so ``n_estimators`` defaults to 100
everywhere). Each engine's own spellings are accepted as aliases.
"""

from __future__ import annotations

from typing import Any

from emberflow.engine.api import MAX_JAVA_INT, MAX_SEED, Param, ParamProblem

TASKS = ("auto", "classification", "regression")
IMPUTE = ("median", "mean", "none")
UNKNOWN = ("ignore", "error")
ALL_ENGINES = ("sklearn", "spark", "h2o")

# What every trainer takes: which columns, which task, how the features are prepared.
PREPARATION = (
    Param("label", "string", doc="the column to predict"),
    Param("features", "array", None, "the feature columns (default: every column but the label)", items="string"),
    Param("task", "string", "auto", "classification, regression, or auto: a text or boolean label, or one of "
          "whole numbers with at most 20 distinct values, is a classification; other numbers a regression",
          choices=TASKS),
    Param("impute", "string", "median", "missing values of numeric features: replaced by the training median or "
          "mean, or none (then a missing value is an error)", choices=IMPUTE),
    Param("categorical", "array", None, "numeric columns to treat as categories (integer codes); text and "
          "boolean columns always are", items="string"),
    Param("unknown_category", "string", "ignore", "a category at scoring that training never saw: ignore (no "
          "one-hot column set, or the engine's equivalent) or error (naming the column and value)",
          choices=UNKNOWN),
)
THRESHOLD = Param("threshold", "number", 0.5, "two classes: the probability of the second above which a row is "
                  "predicted as it", minimum=0.0, maximum=1.0)
SEED = Param("seed", "integer", None, "random seed (0 to 2**32 - 1)", aliases=("random_state",), minimum=0,
             maximum=MAX_SEED)
STANDARDIZATION = Param("standardization", "boolean", True, "fit on standardized numeric features (a scaler in "
                        "the saved model on scikit-learn; coefficients are reported for the original ones)",
                        aliases=("standardize",))


class AlgorithmSpec:
    """One algorithm: ``name`` as the manifest records it, the ``tasks`` and ``engines`` it takes, its own
    ``params`` (beside ``PREPARATION``), and ``check`` for constraints across parameters."""

    def __init__(self, name: str, tasks: tuple[str, ...], engines: tuple[str, ...], params: tuple[Param, ...],
                 engine_notes: dict[str, str] | None = None):
        self.name, self.tasks, self.engines, self.params = name, tasks, engines, params
        self.engine_notes = engine_notes or {}

    @property
    def all_params(self) -> tuple[Param, ...]:
        preparation = PREPARATION if len(self.tasks) > 1 else tuple(p for p in PREPARATION if p.name != "task")
        threshold = (THRESHOLD,) if "classification" in self.tasks else ()
        return (*preparation, *self.params, *threshold)

    def check(self, params: dict[str, Any], engine: str) -> None:
        """Checks across parameters, at validation time."""
        categorical, features = params.get("categorical") or [], params.get("features")
        if features is not None and params["label"] in features:
            raise ParamProblem(f"the label '{params['label']}' is also listed in features; remove it", "features")
        if features is not None:
            outside = [c for c in categorical if c not in features]
            if outside:
                raise ParamProblem(f"categorical names {outside}, which are not in features; add them to "
                                   "features or remove them from categorical", "categorical")


def trees(default_depth: int, default_leaf: int, spark_name: str) -> tuple[Param, ...]:
    """The tree parameters, under their common names; ``spark_name`` is Spark's name of the number of trees."""
    return (
        Param("n_estimators", "integer", 100, "the number of trees", minimum=1, maximum=MAX_JAVA_INT,
              aliases=(spark_name, "ntrees")),
        Param("max_depth", "integer", default_depth, "the deepest a tree grows", minimum=1, maximum=30,
              aliases=("maxDepth",)),
        Param("min_samples_leaf", "integer", default_leaf, "the fewest training rows in a leaf", minimum=1,
              maximum=MAX_JAVA_INT, aliases=("minInstancesPerNode", "min_rows")),
        SEED,
    )


RANDOM_FOREST = AlgorithmSpec(
    "random_forest", ("classification", "regression"), ALL_ENGINES, trees(10, 1, "numTrees"),
    {"sklearn": "RandomForestClassifier / RandomForestRegressor, one-hot encoded categories",
     "spark": "RandomForestClassifier / RandomForestRegressor after StringIndexer and OneHotEncoder",
     "h2o": "H2ORandomForestEstimator (DRF), with H2O's native categorical columns"})

GBT = AlgorithmSpec(
    "gbt", ("classification", "regression"), ALL_ENGINES,
    (*trees(5, 20, "maxIter"),
     Param("learning_rate", "number", 0.1, "the shrinkage of each tree", minimum=0.0, maximum=1.0,
           aliases=("stepSize", "learn_rate"))),
    {"sklearn": "HistGradientBoostingClassifier / Regressor, one-hot encoded categories, no early stopping",
     "spark": "GBTClassifier / GBTRegressor; Spark's GBT classifier takes two classes only",
     "h2o": "H2OGradientBoostingEstimator (GBM), with H2O's native categorical columns"})

LINEAR_REGRESSION = AlgorithmSpec(
    "linear_regression", ("regression",), ALL_ENGINES,
    (Param("regParam", "number", 0.0, "regularization strength (0: ordinary least squares)", minimum=0.0,
           aliases=("alpha", "lambda_")),
     Param("elasticNetParam", "number", 0.0, "the L1 share of the regularization (0: ridge, 1: lasso)",
           minimum=0.0, maximum=1.0, aliases=("l1_ratio",)),
     Param("fit_intercept", "boolean", True, "fit an intercept", aliases=("fitIntercept", "intercept")),
     Param("max_iter", "integer", 1000, "the most iterations (of the L1 solvers)", minimum=1, maximum=MAX_JAVA_INT,
           aliases=("maxIter", "max_iterations")),
     Param("tol", "number", 1e-6, "the convergence tolerance", minimum=0.0),
     STANDARDIZATION),
    {"sklearn": "LinearRegression, Ridge or ElasticNet, as the regularization asks",
     "spark": "LinearRegression", "h2o": "H2OGeneralizedLinearEstimator, family gaussian"})

KNN = AlgorithmSpec(
    "knn", ("classification", "regression"), ("sklearn",),
    (Param("n_neighbors", "integer", 5, "the neighbours that vote", minimum=1, maximum=MAX_JAVA_INT,
           aliases=("k",)),
     Param("weights", "string", "uniform", "uniform, or distance (closer neighbours weigh more)",
           choices=("uniform", "distance")),
     Param("p", "integer", 2, "the Minkowski distance's power (1: Manhattan, 2: Euclidean)", minimum=1),
     STANDARDIZATION),
    {"sklearn": "KNeighborsClassifier / KNeighborsRegressor"})


SOLVERS = ("lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga")
PENALTIES = ("l2", "l1", "elasticnet", "none")
L1_SOLVERS = ("liblinear", "saga")
FAMILIES = ("auto", "binomial", "multinomial")


class LogisticRegressionSpec(AlgorithmSpec):
    """Logistic regression: scikit-learn's names, and Spark's, H2O's or Fire Insights' where they map. Without
    ``C`` or ``regParam`` the regularization is scikit-learn's default, C = 1, on every engine: ``regParam`` =
    1 / rows on Spark and H2O, which average the loss over the rows where scikit-learn sums it."""

    def check(self, params: dict[str, Any], engine: str) -> None:
        super().check(params, engine)
        if engine == "spark" and params["l1_ratio"] is not None and params["elasticNetParam"] is not None:
            raise ParamProblem("give either l1_ratio or elasticNetParam for TrainLR, not both", "l1_ratio")
        if engine != "sklearn":
            return
        if params["regParam"] is not None and "C" in params and params["C"] != 1.0:
            raise ParamProblem("give either C or regParam for TrainLR, not both", "regParam")
        if l1_share(params) and params["solver"] not in L1_SOLVERS:
            raise ParamProblem(f"an L1 or elasticnet penalty needs solver {' or '.join(L1_SOLVERS)}, not "
                               f"'{params['solver']}'; set solver: saga", "solver")
        if params["penalty"] == "elasticnet" and params["l1_ratio"] is None:
            raise ParamProblem("penalty elasticnet needs l1_ratio (between 0 and 1)", "penalty")


def l1_share(params: dict[str, Any], engine: str = "sklearn") -> float:
    """The L1 share of a logistic regression's penalty, from whichever names the step used (``penalty`` is
    scikit-learn's alone)."""
    if params["elasticNetParam"] is not None:
        return params["elasticNetParam"]
    if engine != "sklearn":
        return params["l1_ratio"] or 0.0
    return {"l1": 1.0, "elasticnet": params["l1_ratio"] or 0.0}.get(params["penalty"], 0.0)


LOGISTIC_REGRESSION = LogisticRegressionSpec(
    "logistic_regression", ("classification",), ALL_ENGINES,
    (Param("C", "number", 1.0, "inverse regularization strength (scikit-learn)", minimum=0.0, engines=("sklearn",)),
     Param("penalty", "string", "l2", "the regularization", choices=PENALTIES, engines=("sklearn",)),
     Param("l1_ratio", "number", None, "the L1 share of an elasticnet penalty", minimum=0.0, maximum=1.0,
           engines=("sklearn", "spark")),
     Param("solver", "string", "lbfgs", "the optimizer", choices=SOLVERS, engines=("sklearn",)),
     Param("max_iter", "integer", 100, "the most iterations", minimum=1, maximum=MAX_JAVA_INT,
           aliases=("maxIter", "max_iterations")),
     Param("tol", "number", 1e-4, "the convergence tolerance", minimum=0.0),
     Param("fit_intercept", "boolean", True, "fit an intercept", aliases=("fitIntercept", "intercept")),
     Param("class_weight", "any", None, "'balanced' or a mapping of class: weight", engines=("sklearn", "spark")),
     Param("regParam", "number", None, "regularization strength, Spark's lambda (default: that of C = 1)",
           minimum=0.0, aliases=("lambda_",)),
     Param("elasticNetParam", "number", None, "the L1 share of the regularization (0: L2, 1: L1)", minimum=0.0,
           maximum=1.0, aliases=("alpha",)),
     Param("seed", "integer", None, "random seed of the solvers that shuffle (0 to 2**32 - 1)",
           aliases=("random_state",), minimum=0, maximum=MAX_SEED),
     STANDARDIZATION,
     Param("family", "string", "auto", "Spark and H2O: binomial (two classes), multinomial, or auto",
           choices=FAMILIES, engines=("spark", "h2o")),
     Param("weight_col", "string", None, "Spark and H2O: a column of row weights",
           aliases=("weightCol", "weights_column"), engines=("spark", "h2o"))),
    {"sklearn": "LogisticRegression after a StandardScaler (standardization)",
     "spark": "LogisticRegression", "h2o": "H2OGeneralizedLinearEstimator, family binomial or multinomial"})
