"""``params``: manual serialization of a linear model to JSON (see ``emberflow.engine.portable``)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import IntegrityError
from . import ModelFormat

if TYPE_CHECKING:
    from ..context import Sessions
    from ..model import Model
    from ..portable import LinearModel

# Which module turns an engine's linear model into a LinearModel (each returns None for other models).
EXTRACTORS = {
    "sklearn": "emberflow.engine.formats.sklearn",
    "spark": "emberflow.engine.formats.spark",
    "h2o": "emberflow.engine.formats.h2o",
}


def to_linear(model: Model) -> LinearModel | None:
    from ..portable import LinearModel

    if isinstance(model.obj, LinearModel):
        return model.obj
    module = EXTRACTORS.get(model.engine)
    if module is None:
        return None
    try:
        extractor = importlib.import_module(module).linear_spec
    except (ImportError, AttributeError):
        return None
    return extractor(model)


class ParamsFormat(ModelFormat):
    """A logistic or linear regression with its preparation (imputation values, standardization, category
    levels), coefficients, intercept, classes and threshold as JSON; loads and scores with NumPy alone."""

    name = "params"
    engine = "portable"
    suffixes = (".json",)
    library_names = ("numpy",)
    artifact = "model.json"

    def applies_to(self, model: Model) -> bool:
        try:
            return to_linear(model) is not None
        except Exception:
            return False

    def save(self, model: Model, folder: Path) -> dict[str, Any]:
        to_linear(model).save(folder / self.artifact)
        return {"artifact": self.artifact}

    def load(self, folder: Path, manifest: dict[str, Any], sessions: Sessions, options: dict[str, Any]) -> Any:
        from ..portable import LinearModel

        path = folder / manifest.get("artifact", self.artifact)
        try:
            return LinearModel.load(path)
        except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(f"{path.name} is not a params model (JSON of a linear model): "
                                 f"{type(exc).__name__}: {exc}") from None
