"""scikit-learn models as joblib or pickle files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import ModelFormat

if TYPE_CHECKING:
    from ..context import Sessions
    from ..model import Model

SKLEARN_LIBRARIES = ("scikit-learn", "numpy", "scipy")


class JoblibFormat(ModelFormat):
    """joblib: efficient for models that hold large NumPy arrays (a k-nearest-neighbours model, say)."""

    name = "joblib"
    engine = "sklearn"
    auto = True
    runs_code_on_load = True
    suffixes = (".joblib",)
    library_names = (*SKLEARN_LIBRARIES, "joblib")
    artifact = "model.joblib"

    def applies_to(self, model: Model) -> bool:
        return model.engine == "sklearn"

    def save(self, model: Model, folder: Path) -> dict[str, Any]:
        import joblib

        joblib.dump(model.obj, folder / self.artifact)
        return {"artifact": self.artifact}

    def load(self, folder: Path, manifest: dict[str, Any], sessions: Sessions, options: dict[str, Any]) -> Any:
        import joblib

        return joblib.load(folder / manifest.get("artifact", self.artifact),
                           mmap_mode="r" if options.get("mmap") else None)


class PickleFormat(ModelFormat):
    """The standard library's pickle, protocol 5 (out-of-band buffers make large arrays cheap)."""

    name = "pickle"
    engine = "sklearn"
    runs_code_on_load = True
    suffixes = (".pkl", ".pickle")
    library_names = SKLEARN_LIBRARIES
    artifact = "model.pkl"

    def applies_to(self, model: Model) -> bool:
        return model.engine == "sklearn"

    def save(self, model: Model, folder: Path) -> dict[str, Any]:
        import pickle

        with open(folder / self.artifact, "wb") as handle:
            pickle.dump(model.obj, handle, protocol=5)
        return {"artifact": self.artifact}

    def load(self, folder: Path, manifest: dict[str, Any], sessions: Sessions, options: dict[str, Any]) -> Any:
        import pickle

        with open(folder / manifest.get("artifact", self.artifact), "rb") as handle:
            return pickle.load(handle)


def linear_spec(model: Model):
    """A fitted LogisticRegression as a portable LinearModel."""
    from ..portable import LinearModel

    obj = model.obj
    if not all(hasattr(obj, a) for a in ("coef_", "intercept_", "classes_")) or type(obj).__name__ != \
            "LogisticRegression":
        return None
    threshold = 0.5
    return LinearModel(
        features=list(model.features), classes=list(obj.classes_), coef=obj.coef_.astype("float64"),
        intercept=obj.intercept_.astype("float64"), threshold=threshold, multinomial=obj.coef_.shape[0] > 1,
    )
