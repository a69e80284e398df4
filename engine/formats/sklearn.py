"""scikit-learn models as joblib or pickle files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..integrity import HashingWriter
from . import ModelFormat

if TYPE_CHECKING:
    from ..context import Sessions
    from ..model import Model

SKLEARN_LIBRARIES = ("scikit-learn", "numpy", "scipy")
# From this many bytes of NumPy arrays on, ``format: auto`` saves a scikit-learn model with pickle protocol 5
# rather than joblib: it writes each array once (joblib writes a KD-tree's data twice) and reads back faster.
LARGE_ARRAYS = 32 * 2**20


def array_bytes(obj: Any) -> int:
    """The bytes of the NumPy arrays an estimator holds as attributes (its fitted data, coefficients ...)."""
    attributes = getattr(obj, "__dict__", {})
    return sum(value.nbytes for value in attributes.values()
               if hasattr(value, "nbytes") and hasattr(value, "dtype") and isinstance(value.nbytes, int))


def _artifact(manifest: dict[str, Any], default: str) -> str | None:
    name = manifest.get("artifact", default)
    return name if name in (manifest.get("files") or {}) else None


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

    def chosen_by_auto(self, model: Model) -> bool:
        return self.applies_to(model) and array_bytes(model.obj) < LARGE_ARRAYS

    def save(self, model: Model, folder: Path) -> dict[str, Any]:
        import joblib

        with HashingWriter(folder / self.artifact) as handle:
            joblib.dump(model.obj, handle)
        return {"artifact": self.artifact}

    def in_memory_artifact(self, manifest: dict[str, Any], options: dict[str, Any]) -> str | None:
        """Read into memory and checked there, unless ``mmap``: then the arrays stay in the (checked) file."""
        return None if options.get("mmap") else _artifact(manifest, self.artifact)

    def load(self, folder: Path, manifest: dict[str, Any], sessions: Sessions, options: dict[str, Any]) -> Any:
        import io

        import joblib

        checked = options.get("checked_bytes")
        if checked is not None:
            if not hasattr(checked, "seek"):
                checked = io.BytesIO(checked)
            checked.seek(0)
            return joblib.load(checked)
        return joblib.load(folder / manifest.get("artifact", self.artifact),
                           mmap_mode="r" if options.get("mmap") else None)


class PickleFormat(ModelFormat):
    """The standard library's pickle, protocol 5 (each large array written once, in one piece); ``format: auto``
    takes it for a scikit-learn model holding ``LARGE_ARRAYS`` or more of arrays."""

    name = "pickle"
    engine = "sklearn"
    auto = True
    runs_code_on_load = True
    suffixes = (".pkl", ".pickle")
    library_names = SKLEARN_LIBRARIES
    artifact = "model.pkl"

    def applies_to(self, model: Model) -> bool:
        return model.engine == "sklearn"

    def chosen_by_auto(self, model: Model) -> bool:
        return self.applies_to(model) and array_bytes(model.obj) >= LARGE_ARRAYS

    def save(self, model: Model, folder: Path) -> dict[str, Any]:
        import pickle

        with HashingWriter(folder / self.artifact) as handle:
            pickle.dump(model.obj, handle, protocol=5)
        return {"artifact": self.artifact}

    def in_memory_artifact(self, manifest: dict[str, Any], options: dict[str, Any]) -> str | None:
        if options.get("mmap"):
            options["warn"]("mmap applies to joblib models; this pickle model is read into memory")
        return _artifact(manifest, self.artifact)

    def load(self, folder: Path, manifest: dict[str, Any], sessions: Sessions, options: dict[str, Any]) -> Any:
        import pickle

        if options.get("checked_bytes") is not None:
            return pickle.loads(options["checked_bytes"])
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
