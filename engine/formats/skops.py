"""``skops``: scikit-learn models in the skops format, a safe alternative to pickle and joblib.

A skops file describes the objects it holds instead of holding code to rebuild them, and loading builds only
types that are trusted. Which types are trusted is emberflow's choice, never the file's: skops' own defaults
(scikit-learn's estimators, NumPy arrays, Python's builtins) plus ``TRUSTED`` below, the few other
scikit-learn types inside the models emberflow's nodes make (the trees and distance metrics of a
nearest-neighbours model). A file naming any other type (a function, a class of some module) is refused
before anything is built, naming the types. So a skops model loads from a plain path without ``trust: true``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import IntegrityError, UserError
from . import Untold
from .sklearn import SKLEARN_LIBRARIES, SklearnFormat

if TYPE_CHECKING:
    from ..context import Sessions
    from ..model import Model

_METRICS = ("Euclidean", "Manhattan", "Minkowski", "Chebyshev", "SEuclidean", "Mahalanobis", "Haversine")
TRUSTED = frozenset({
    "numpy.dtype",  # a OneHotEncoder's default dtype (np.float64) is saved as a dtype
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    *(f"sklearn.metrics._dist_metrics.{metric}Distance64" for metric in _METRICS),
})


class UntrustedTypes(UserError):
    """A skops file names types outside emberflow's trusted set."""


class SkopsFormat(SklearnFormat):
    """scikit-learn models through skops: loading cannot run code from the file."""

    name = "skops"
    suffixes = (".skops",)
    library_names = (*SKLEARN_LIBRARIES, "skops")
    artifact = "model.skops"

    def save(self, model: Model, folder: Path) -> dict[str, Any]:
        import skops.io as sio

        sio.dump(model.obj, folder / self.artifact)
        return {"artifact": self.artifact}

    def written_by(self, path: Path) -> dict[str, str | Untold]:
        """The skops version in the file's schema, and the scikit-learn version in its first estimator's state."""
        import json
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                schema = json.loads(archive.read("schema.json"))
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            untold = Untold(f"its schema.json cannot be read: {exc}")
            return {"scikit-learn": untold, "skops": untold}
        skops = schema.get("_skops_version") if isinstance(schema, dict) else None
        return {"scikit-learn": _sklearn_version(schema),
                "skops": skops if isinstance(skops, str) else Untold("its schema names no _skops_version")}

    def load(self, folder: Path, manifest: dict[str, Any], sessions: Sessions, options: dict[str, Any]) -> Any:
        import skops.io as sio

        path = folder / manifest.get("artifact", self.artifact)
        try:
            named = sio.get_untrusted_types(file=path)
        except Exception as exc:  # a damaged or foreign file: skops says why in its own words
            raise IntegrityError(f"{path.name} is not a readable skops file: {exc}") from None
        untrusted = sorted(set(named) - TRUSTED)
        if untrusted:
            raise UntrustedTypes(
                f"{path.name} holds types that emberflow does not trust, so it is not loaded: "
                f"{', '.join(untrusted)}; a skops model may hold scikit-learn estimators and NumPy data only")
        return sio.load(path, trusted=list(named))


def _sklearn_version(schema: Any) -> str | Untold:
    """The ``_sklearn_version`` of the first estimator state in a skops schema (a JSON string, as skops writes a
    str)."""
    import json

    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            held = node.get("_sklearn_version")
            if isinstance(held, dict) and isinstance(held.get("content"), str):
                try:
                    version = json.loads(held["content"]) if held.get("is_json") else held["content"]
                except ValueError:
                    version = None
                if isinstance(version, str):
                    return version
            pending.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            pending.extend(reversed(node))
    return Untold("its schema holds no _sklearn_version")
