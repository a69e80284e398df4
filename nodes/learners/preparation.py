"""What every engine's trainer shares, with no engine code: the feature columns and their kinds, the task rule,
and the raw input schema that the manifest records.

Each backend reads its frame's column types into ``ColumnKind`` values (numeric, categorical, or something no
model takes, such as a date) and the label's distinct values; the functions here decide the rest, so that the
same data gives the same plan on every engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emberflow.engine.api import DataError, did_you_mean, did_you_mean_each

# task: auto takes a label of whole numbers with at most this many distinct values for classes.
MOST_CLASSES_OF_NUMBERS = 20
NUMERIC, CATEGORICAL = "numeric", "categorical"


@dataclass
class FeaturePlan:
    """The raw feature columns, split by how they are prepared, with their types as the engine reported them."""

    label: str
    numeric: list[str]
    categorical: list[str]
    dtypes: dict[str, str] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        """Every feature column in the frame's order."""
        chosen = set(self.numeric) | set(self.categorical)
        return [c for c in self.dtypes if c in chosen]

    def input_schema(self, levels: dict[str, list[Any]]) -> list[dict[str, Any]]:
        """The manifest's ``input_schema``: each raw column, its kind and type, and a categorical one's levels."""
        schema = []
        for name in self.features:
            column: dict[str, Any] = {"name": name, "kind": CATEGORICAL if name in self.categorical else NUMERIC,
                                      "dtype": self.dtypes[name]}
            if name in self.categorical:
                column["levels"] = [plain(v) for v in levels.get(name, [])]
            schema.append(column)
        return schema


def plan_features(kinds: dict[str, tuple[str, str]], params: dict[str, Any], node: str) -> FeaturePlan:
    """The plan from each column's ``(kind, dtype)``, where kind is numeric, categorical, or a word saying why no
    model takes the column ("a date column"). ``features`` default to every column but the label (and
    ``weight_col``); a column named in ``categorical`` is one whatever its type."""
    columns = list(kinds)
    label = params["label"]
    if label not in columns:
        hint = next((f" (one column holding {sep!r}: is the file's separator {sep!r}? set ReadCSV's separator)"
                     for sep in (";", "\t", "|") if len(columns) == 1 and sep in columns[0]), "")
        raise DataError(f"no label column '{label}' in the data{did_you_mean(label, columns)}; columns: "
                        f"{', '.join(columns)}{hint}")
    weight = params.get("weight_col")
    features = params["features"] or [c for c in columns if c not in (label, weight)]
    categorical = params.get("categorical") or []
    for what, names in (("feature", features), ("categorical", categorical)):
        unknown = [f for f in names if f not in columns]
        if unknown:
            raise DataError(f"{what} columns {unknown} are not in the data{did_you_mean_each(unknown, columns)}; "
                            f"columns: {', '.join(columns)}")
    if label in features:
        raise DataError(f"the label '{label}' is also listed as a feature; remove it from features")
    if not features:
        raise DataError("no feature columns: the data holds only the label")
    for name in features:
        kind, dtype = kinds[name]
        if kind not in (NUMERIC, CATEGORICAL) and name not in categorical:
            raise DataError(f"feature '{name}' is {kind} ({dtype}), which {node} cannot take; leave it out with "
                            "features: [...], or turn it into numbers or text with a CastColumns step")
    is_category = {f: f in categorical or kinds[f][0] == CATEGORICAL for f in features}
    return FeaturePlan(label, [f for f in features if not is_category[f]], [f for f in features if is_category[f]],
                       {c: kinds[c][1] for c in columns if c in features})


@dataclass
class LabelFacts:
    """What the task rule needs of the label: its kind (text, boolean, integer, float), how many distinct values
    it has (counted up to ``MOST_CLASSES_OF_NUMBERS + 1``), whether they are all whole numbers, and the rows
    without a label."""

    kind: str
    distinct: int
    whole: bool
    missing: int = 0
    example: Any = None  # one of its values, to name the class of a label that has only one


def decide_task(requested: str, tasks: tuple[str, ...], label: str, facts: LabelFacts) -> tuple[str, str]:
    """The task and why, by one rule: a text or boolean label, or one of whole numbers with at most 20 distinct
    values, is a classification; other numbers are a regression. A classifier refuses a label that looks
    continuous (numbers that are not whole, more than 20 distinct values), naming the count."""
    many = facts.distinct > MOST_CLASSES_OF_NUMBERS
    counted = f"more than {MOST_CLASSES_OF_NUMBERS}" if many else str(facts.distinct)
    if facts.kind in ("text", "boolean"):
        rule, why = "classification", f"the label '{label}' is {facts.kind}"
    elif facts.whole and not many:
        rule, why = "classification", f"the label '{label}' holds {counted} distinct whole numbers"
    else:
        kind = "whole numbers" if facts.whole else "numbers that are not all whole"
        rule, why = "regression", f"the label '{label}' holds {counted} distinct {kind}"
    task = rule if requested == "auto" else requested
    if task not in tasks:
        other = "a regressor such as TrainLinearRegression" if task == "regression" else "a classifier such as TrainLR"
        raise DataError(f"{why}, a {task}, and this trainer does {' and '.join(tasks)} only; use {other}")
    if task == "classification" and facts.kind == "float" and not facts.whole and many:
        raise DataError(f"{why}: a continuous label, not classes; use task: regression (or a regressor such as "
                        "TrainLinearRegression)")
    if task == "classification" and facts.distinct < 2:
        raise DataError(f"the label '{label}' has only one class ({plain(facts.example)!r}); a classifier needs two "
                        "or more")
    if task == "regression" and facts.kind in ("text", "boolean"):
        raise DataError(f"{why}; a regression needs a numeric label: use task: classification")
    return task, why if requested == "auto" else f"task: {requested}"


def missing_label_warning(label: str, missing: int, total: int) -> str:
    return (f"left out {missing} of {total} training rows whose label '{label}' is missing (to drop them before "
            f"this step: a DropMissing step (columns: [{label}]))")


def plain(value: Any) -> Any:
    """NumPy scalars as plain Python values, for JSON."""
    return value.item() if hasattr(value, "item") else value
