"""scikit-learn models as joblib or pickle files."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import IntegrityError
from ..integrity import HashingWriter
from . import ModelFormat, Untold

if TYPE_CHECKING:
    from ..context import Sessions
    from ..model import Model
    from ..portable import LinearModel

SKLEARN_LIBRARIES = ("scikit-learn", "numpy", "scipy")
# From this many bytes of NumPy arrays on, ``format: auto`` saves a scikit-learn model as ``pickle-buffers``
# rather than joblib: it writes each array once (joblib writes a KD-tree's data twice) and reads back faster.
LARGE_ARRAYS = 32 * 2**20
OUT_OF_BAND_BYTES = 2**20  # pickle-buffers: smaller arrays stay in the pickle stream
PIECE_BYTES = 16 * 2**20  # pickle-buffers: the arrays' bytes go into files of this size, checked in parallel
ALIGN = 64  # pickle-buffers: each array starts at a multiple of this many bytes
PIECE_NAME = "model.buffers.{:03d}"


def array_bytes(obj: Any, depth: int = 0) -> int:
    """The bytes of the NumPy arrays an estimator holds (its fitted data, coefficients, trees ...), through the
    estimators it is made of: a pipeline's steps, a column transformer's parts, an ensemble's members, and a
    tree's node arrays (kept in a compiled object, not as attributes)."""
    if depth > 6:
        return 0
    if is_array(obj):
        return obj.nbytes
    if isinstance(obj, (list, tuple)):
        return sum(array_bytes(item, depth + 1) for item in obj)
    tree = getattr(obj, "tree_", None)
    total = tree_bytes(tree) if tree is not None else 0
    for name, value in getattr(obj, "__dict__", {}).items():
        if is_array(value):
            total += value.nbytes
        elif name in ("steps", "transformers_", "estimators_", "_predictors") or hasattr(value, "get_params"):
            total += array_bytes(value, depth + 1)
        elif hasattr(value, "get_arrays"):  # a KD-tree or ball tree of nearest-neighbours models
            total += sum(a.nbytes for a in value.get_arrays() if is_array(a))
    return total


def is_array(value: Any) -> bool:
    return hasattr(value, "nbytes") and hasattr(value, "dtype") and isinstance(value.nbytes, int)


def tree_bytes(tree: Any) -> int:
    """A fitted decision tree's node and value arrays, by their size (64 bytes a node, as scikit-learn keeps
    them)."""
    try:
        return int(tree.capacity) * 64 + int(tree.value.nbytes)
    except AttributeError:
        return 0


def _artifact(manifest: dict[str, Any], default: str) -> str | None:
    name = manifest.get("artifact", default)
    return name if name in (manifest.get("files") or {}) else None


class SklearnFormat(ModelFormat):
    """A format of scikit-learn models, whose version warnings are emberflow's (see ``folded_version_warnings``)."""

    engine = "sklearn"

    def applies_to(self, model: Model) -> bool:
        return model.engine == "sklearn"

    def deserializing(self, manifest: dict[str, Any], warn) -> contextlib.AbstractContextManager:
        return folded_version_warnings(manifest, warn)

    def written_by(self, path: Path) -> dict[str, str | Untold]:
        """The scikit-learn version in the estimators' pickled state, read without unpickling it."""
        from .pickled import sklearn_version

        return {"scikit-learn": sklearn_version(path)}


@contextlib.contextmanager
def folded_version_warnings(manifest: dict[str, Any], warn) -> Iterator[None]:
    """scikit-learn's InconsistentVersionWarning, caught while a model is deserialized and said once, in
    emberflow's words.

    scikit-learn prints it (with its file path and source line, in the middle of a run's progress line) for each
    estimator pickled by another version. Before deserializing, the version gate has already compared the
    manifest's scikit-learn with the running one, and warned in the same terms: a warning about the version the
    manifest records is dropped. One about another version (a file without a manifest, or one whose manifest
    records another version) becomes the gate's warning, by the gate's rule: a minor difference warns, a patch
    difference does not. Other warnings are shown as Python would have shown them.
    """
    import warnings

    from sklearn.exceptions import InconsistentVersionWarning

    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", InconsistentVersionWarning)
            yield
    finally:
        pickled: dict[tuple[str, str], set[str]] = {}
        for item in caught:
            if isinstance(item.message, InconsistentVersionWarning):
                versions = (item.message.original_sklearn_version, item.message.current_sklearn_version)
                pickled.setdefault(versions, set()).add(item.message.estimator_name)
            else:
                warnings.showwarning(item.message, item.category, item.filename, item.lineno, item.file, item.line)
        for message in version_warnings(manifest, pickled):
            warn(message)


def version_warnings(manifest: dict[str, Any], pickled: dict[tuple[str, str], set[str]]) -> list[str]:
    """The gate's warnings for the scikit-learn versions that estimators were pickled by (and the running
    one), beyond the version the manifest records, which the gate has judged already."""
    from ..models import minor

    recorded = (manifest.get("libraries") or {}).get("scikit-learn")
    messages = []
    for (was, now), estimators in sorted(pickled.items()):
        if was == recorded or minor(was) == minor(now):
            continue
        also = f"; its manifest records scikit-learn {recorded}" if recorded else ""
        messages.append(f"model saved with scikit-learn {was} (its {', '.join(sorted(estimators))}), running "
                        f"scikit-learn {now}; it may not load or may behave differently{also}")
    return messages


class JoblibFormat(SklearnFormat):
    """joblib: efficient for models that hold large NumPy arrays (a k-nearest-neighbours model, say)."""

    name = "joblib"
    auto = True
    runs_code_on_load = True
    suffixes = (".joblib", ".sav")  # .sav: what tutorials name a pickle or joblib file (joblib reads both)
    library_names = (*SKLEARN_LIBRARIES, "joblib")
    artifact = "model.joblib"

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


class PickleFormat(SklearnFormat):
    """The standard library's pickle, protocol 5, in one file that plain ``pickle.load`` reads."""

    name = "pickle"
    runs_code_on_load = True
    suffixes = (".pkl", ".pickle")
    library_names = SKLEARN_LIBRARIES
    artifact = "model.pkl"

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


class PickleBuffersFormat(SklearnFormat):
    """Pickle protocol 5 with the large arrays out of band: the pickle stream in ``model.pkl``, the arrays' raw
    bytes end to end in ``model.buffers.NNN`` files of ``PIECE_BYTES``, their lengths in the manifest.

    Made for models that hold large arrays (a k-nearest-neighbours model keeps all its training data):
    loading reads and checks the pieces in parallel, one thread per CPU, into one block of memory, and the
    arrays are unpickled in place, with no second copy. ``format: auto`` takes it for a scikit-learn model
    holding ``LARGE_ARRAYS`` or more of arrays.
    """

    name = "pickle-buffers"
    auto = True
    runs_code_on_load = True
    library_names = SKLEARN_LIBRARIES
    artifact = "model.pkl"

    def chosen_by_auto(self, model: Model) -> bool:
        return self.applies_to(model) and array_bytes(model.obj) >= LARGE_ARRAYS

    def save(self, model: Model, folder: Path) -> dict[str, Any]:
        import pickle

        buffers: list[memoryview] = []

        def out_of_band(buffer: pickle.PickleBuffer) -> bool:  # False: leave it out of the stream
            raw = buffer.raw()
            if raw.nbytes < OUT_OF_BAND_BYTES:
                return True
            buffers.append(raw)
            return False

        stream = pickle.dumps(model.obj, protocol=5, buffer_callback=out_of_band)
        with HashingWriter(folder / self.artifact) as handle:
            handle.write(stream)
        pieces = write_pieces(folder, buffers)
        layout = {"files": pieces, "lengths": [raw.nbytes for raw in buffers], "align": ALIGN}
        return {"artifact": self.artifact, "out_of_band": layout}

    def in_memory_files(self, manifest: dict[str, Any], options: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        if options.get("mmap"):
            options["warn"]("mmap applies to joblib models; this pickle-buffers model is read into memory")
        listed = manifest.get("files") or {}
        pieces = tuple(name for name in _layout(manifest).get("files") or () if name in listed)
        artifact = _artifact(manifest, self.artifact)
        return {"artifact": (artifact,) if artifact else (), "buffers": pieces}

    def load(self, folder: Path, manifest: dict[str, Any], sessions: Sessions, options: dict[str, Any]) -> Any:
        import pickle

        checked = options["checked"]
        if not len(checked["artifact"]):
            raise IntegrityError(f"the manifest lists no {self.artifact}, the pickle stream; refusing to load it")
        layout = _layout(manifest)
        buffers = in_place_buffers(checked["buffers"], layout.get("lengths") or [], layout.get("align", ALIGN))
        return pickle.loads(checked["artifact"], buffers=buffers)


def _layout(manifest: dict[str, Any]) -> dict[str, Any]:
    layout = manifest.get("out_of_band")
    return layout if isinstance(layout, dict) else {}


def _padded(length: int, align: int) -> int:
    return length + (-length) % align


def write_pieces(folder: Path, buffers: list[memoryview]) -> list[str]:
    """Write ``buffers`` end to end, each padded to ``ALIGN`` bytes, into files of ``PIECE_BYTES``; their names."""
    names: list[str] = []
    handle: HashingWriter | None = None
    room = 0
    padding = bytes(ALIGN)
    try:
        for raw in buffers:
            for data in (raw.cast("B"), memoryview(padding)[:_padded(raw.nbytes, ALIGN) - raw.nbytes]):
                while len(data):
                    if room == 0:
                        if handle is not None:
                            handle.close()
                        names.append(PIECE_NAME.format(len(names)))
                        handle, room = HashingWriter(folder / names[-1]), PIECE_BYTES
                    count = min(room, len(data))
                    handle.write(data[:count])
                    data, room = data[count:], room - count
    except BaseException:
        if handle is not None:
            handle.close(keep_digest=False)
        raise
    if handle is not None:
        handle.close()
    return names


def in_place_buffers(data: Any, lengths: list[int], align: int) -> list[Any]:
    """The out-of-band buffers as pickle buffers over ``data`` (the checked pieces): arrays are unpickled in
    place, sharing that memory."""
    import pickle

    view = memoryview(data)
    buffers, offset = [], 0
    for length in lengths:
        buffers.append(pickle.PickleBuffer(view[offset:offset + length]))
        offset += _padded(length, align)
    if offset != len(view):
        raise IntegrityError(f"the manifest's out-of-band lengths add up to {offset} bytes, its pieces hold "
                             f"{len(view)}; refusing to load it")
    return buffers


# ----- the portable params format -----

# The estimators ``params`` takes, by class name, and the kind of linear model each is.
LINEAR_KINDS = {"LogisticRegression": "logistic_regression", "LinearRegression": "linear_regression",
                "Ridge": "linear_regression", "Lasso": "linear_regression", "ElasticNet": "linear_regression"}


def linear_spec(model: Model) -> LinearModel | None:
    """A fitted linear estimator as a portable LinearModel: alone (its features taken as they are), or last in a
    Pipeline after a ColumnTransformer whose parts ``params`` can write (see ``prepared_inputs``). None for any
    other model."""
    import numpy as np

    from ..portable import LinearModel, NumericInput

    found = split_pipeline(model.obj)
    if found is None:
        return None
    preparation, estimator = found
    kind = LINEAR_KINDS.get(type(estimator).__name__)
    if kind is None or not hasattr(estimator, "coef_"):
        return None
    features = list(model.features) or [str(n) for n in getattr(model.obj, "feature_names_in_", [])]
    inputs = [NumericInput(name) for name in features] if preparation is None else \
        prepared_inputs(preparation, features)
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    coef = coef.reshape(1, -1) if coef.ndim == 1 else coef
    if inputs is None or sorted(i.name for i in inputs) != sorted(features) or \
            coef.shape[1] != sum(i.width for i in inputs):
        return None
    classifier = kind == "logistic_regression"
    return LinearModel(
        features=features, classes=[_plain(c) for c in estimator.classes_] if classifier else [], coef=coef,
        intercept=np.atleast_1d(np.asarray(estimator.intercept_, dtype=np.float64)),
        threshold=float(model.params.get("threshold", 0.5)), multinomial=coef.shape[0] > 1, kind=kind,
        inputs=inputs)


def split_pipeline(obj: Any) -> tuple[Any, Any] | None:
    """``(preparation, estimator)`` of a Pipeline of a ColumnTransformer and an estimator, ``(None, obj)`` of an
    estimator alone; None for another pipeline."""
    steps = getattr(obj, "steps", None)
    if not isinstance(steps, list):
        return None, obj
    parts = [step for _name, step in steps if step not in (None, "passthrough")]
    if len(parts) == 1:
        return None, parts[0]
    if len(parts) == 2 and type(parts[0]).__name__ == "ColumnTransformer":
        return parts[0], parts[1]
    return None


def prepared_inputs(transformer: Any, features: list[str]) -> list[Any] | None:
    """The portable inputs of a fitted ColumnTransformer, in the order of its output columns: a numeric part
    (passed through, or a SimpleImputer and/or a StandardScaler) gives one input a column, a OneHotEncoder one
    categorical input a column. None if it holds anything else."""
    inputs: list[Any] = []
    for _name, part, columns in transformer.transformers_:
        names = column_names(columns, features)
        if names is None:
            return None
        if part == "drop" or not names:
            continue
        found = one_hot_inputs(part, names) if type(part).__name__ == "OneHotEncoder" else \
            numeric_inputs(part, names)
        if found is None:
            return None
        inputs += found
    return inputs


def column_names(columns: Any, features: list[str]) -> list[str] | None:
    """A ColumnTransformer part's columns as names (positions are taken among ``features``)."""
    from numbers import Integral

    if isinstance(columns, str):
        columns = [columns]
    names = []
    for column in list(columns):
        if isinstance(column, str):
            names.append(column)
        elif isinstance(column, Integral) and 0 <= int(column) < len(features):
            names.append(features[int(column)])
        else:
            return None
    return names


def numeric_inputs(part: Any, names: list[str]) -> list[Any] | None:
    """Numeric inputs from ``passthrough`` or a Pipeline of a SimpleImputer (missing values NaN, no indicator)
    then a StandardScaler, either optional."""
    from ..portable import NumericInput

    steps = [step for _name, step in part.steps] if hasattr(part, "steps") else [part]
    steps = [step for step in steps if step not in (None, "passthrough")]
    inputs = [NumericInput(name) for name in names]
    kinds = [type(step).__name__ for step in steps]
    if kinds not in ([], ["SimpleImputer"], ["StandardScaler"], ["SimpleImputer", "StandardScaler"]):
        return None
    for step in steps:
        if type(step).__name__ == "SimpleImputer":
            if not imputes_nan_alone(step, len(names)):
                return None
            for spec, value in zip(inputs, step.statistics_, strict=True):
                spec.impute = float(value)
        else:
            for i, spec in enumerate(inputs):
                spec.center = None if step.mean_ is None else float(step.mean_[i])
                spec.scale = None if step.scale_ is None else float(step.scale_[i])
    return inputs


def imputes_nan_alone(imputer: Any, columns: int) -> bool:
    """A SimpleImputer that replaces NaN in each column by a number, and adds or drops no column."""
    import numpy as np

    missing = imputer.missing_values
    try:
        statistics = np.asarray(imputer.statistics_, dtype=np.float64)
    except (AttributeError, TypeError, ValueError):
        return False
    return (isinstance(missing, float) and np.isnan(missing) and not imputer.add_indicator
            and statistics.shape == (columns,) and bool(np.isfinite(statistics).all()))


def one_hot_inputs(encoder: Any, names: list[str]) -> list[Any] | None:
    """Categorical inputs of a OneHotEncoder whose categories are texts (a missing value may be one of its own),
    that drops no category and ignores those it never saw (all zeros)."""
    from ..portable import CategoricalInput

    if encoder.handle_unknown not in ("ignore", "infrequent_if_exist") or getattr(encoder, "drop_idx_", None) \
            is not None or getattr(encoder, "_infrequent_enabled", False):
        return None
    inputs = []
    for name, categories in zip(names, encoder.categories_, strict=True):
        levels = [None if is_missing(c) else c for c in categories]
        if not all(level is None or isinstance(level, str) for level in levels) or levels.count(None) > 1:
            return None
        missing = levels.index(None) if None in levels else None
        inputs.append(CategoricalInput(name, levels, missing_level=missing, unseen_level=None))
    return inputs


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
