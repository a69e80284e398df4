"""The served version: loaded as LoadModel loads one from the store (every file's SHA-256, the manifest's
signature and location, the library versions, all checked before anything is deserialized), and, when the server
was given an alias, the version the alias points at, followed as it moves.

Following an alias costs one ``stat`` of the model's ``aliases.json`` per check (``refresh``, which the server
calls every second). When the file changed and the alias names another version, that version is loaded beside
the one being served, then put in its place: a request takes the served version once, when it starts, so the
requests in flight finish on the old one. A version that fails to load is logged and the old one keeps serving;
it is tried again only when the aliases change again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import EmberflowError, UserError
from ..store import ALIASES, ModelStore

if TYPE_CHECKING:
    from ..context import Sessions
    from ..model import Model
    from ..predictor import Prediction
    from ..store import VersionRef

# The engines whose models score in this process: scikit-learn's and the portable (params) linear models.
IN_PROCESS = ("sklearn", "portable")
# All the engines whose models serve: H2O's through their MOJO in a JVM kept for the server's life
# (``serving.mojo``), Spark ML's in a local Spark session started once (``serving.spark``).
SERVED_ENGINES = (*IN_PROCESS, "h2o", "spark")


@dataclass(frozen=True)
class Served:
    """One loaded version and how it predicts."""

    model: Model
    ref: VersionRef
    manifest: dict[str, Any]
    predict: Callable[[Any], Prediction]

    @property
    def name(self) -> str:
        return self.ref.name


def moving_alias(reference: str) -> str | None:
    """The alias ``reference`` names (``name@prod``), which the server follows; None for a version number or the
    latest version, which are served as they were when the server started."""
    _, _, which = reference.partition("@")
    return None if which in ("", "latest") or which.isdigit() else which


def load_served(store: ModelStore, reference: str, log: Callable[[str], None], java_heap: str | None = None) -> Served:
    """``reference`` loaded and verified, once its engine is one that serves (refused before loading).
    ``java_heap``: the heap of the JVM that scores an H2O model's MOJO (default ``DEFAULT_MOJO_HEAP``)."""
    from ..context import Sessions
    from ..models import load_from_store
    from ..numpy_preparation import numpy_preparation

    ref = store.resolve(reference)
    check_servable(ref, store.manifest(ref))
    sessions = Sessions(warn=log)  # a Spark model's session starts as it loads, and stays for the server's life
    model, ref, manifest = load_from_store(store, f"{ref.name}@{ref.version}", sessions, warn=log)
    model.numpy_preparation = numpy_preparation(model, log)
    return Served(model, ref, manifest, predictor_of(model, ref, sessions, java_heap))


def check_servable(ref: VersionRef, manifest: dict[str, Any]) -> None:
    """Refuse, before loading, a version that cannot be served: an H2O model saved without a MOJO, or a model of
    an engine that does not serve."""
    from ..formats import get_format

    fmt = manifest.get("format")
    engine = get_format(fmt).engine if isinstance(fmt, str) else None
    if engine == "h2o" and fmt != "mojo" and not (manifest.get("h2o") or {}).get("mojo"):
        raise UserError(f"{ref} is an H2O model saved without a MOJO (format {fmt}{mojo_refusal(manifest)}), and "
                        "emberflow serve scores H2O models through their MOJO, with no H2O cluster; save it again "
                        "with format: h2o or mojo (h2o 3.46.0.11 exports MOJOs) and serve that version")
    if engine not in SERVED_ENGINES:
        raise UserError(f"{ref} is saved as format {fmt}, which loads with {engine or 'no known engine'}; "
                        f"emberflow serve scores models of the {', '.join(SERVED_ENGINES)} engines")


def mojo_refusal(manifest: dict[str, Any]) -> str:
    reason = (manifest.get("h2o") or {}).get("mojo_refused")
    return f": H2O refused to export one: {reason}" if reason else ""


def predictor_of(model: Model, ref: VersionRef, sessions: Sessions,
                 java_heap: str | None = None) -> Callable[[Any], Prediction]:
    from .batching import Batcher

    if model.engine == "h2o":
        return Batcher(model, mojo_scorer(model, ref, java_heap).predict)
    if model.engine == "spark":
        from .spark import SparkScorer

        return Batcher(model, SparkScorer(model, sessions.get("spark")).predict)
    if model.engine not in IN_PROCESS:  # a plugin format whose objects belong to another engine
        raise UserError(f"{ref} loaded as a {model.engine} model; emberflow serve scores models of the "
                        f"{', '.join(SERVED_ENGINES)} engines")
    from ..predictor import predict

    return Batcher(model, lambda frame: predict(model, frame))


def mojo_scorer(model: Model, ref: VersionRef, java_heap: str | None = None):
    """The model's MOJO in a JVM started now and kept while the version is served, with ``java_heap``."""
    from ..formats.h2o import DEFAULT_MOJO_HEAP, StoredH2OModel
    from .mojo import MojoScorer

    mojo = model.obj.mojo if isinstance(model.obj, StoredH2OModel) else None
    if mojo is None:
        raise UserError(f"{ref} is an H2O model without a MOJO; emberflow serve scores H2O models through their "
                        "MOJO: save it again with format: h2o")
    return MojoScorer(model, mojo, java_heap or DEFAULT_MOJO_HEAP)


class ModelHolder:
    """The version being served; ``current`` is read once per request."""

    def __init__(self, store: ModelStore, reference: str, log: Callable[[str], None], java_heap: str | None = None):
        self.store, self.reference, self.log, self.java_heap = store, reference, log, java_heap
        self.alias = moving_alias(reference)
        self._stamp = self.alias_stamp()
        self.current = load_served(store, reference, log, java_heap)
        self._refreshing = threading.Lock()

    def alias_stamp(self) -> tuple[int, int, int] | None:
        """What tells that ``aliases.json`` changed: its inode, size and modification time (a rewrite renames a
        new file into place, so the inode changes even within the clock's resolution)."""
        if self.alias is None:
            return None
        try:
            info = (self.store.root / self.reference.partition("@")[0] / ALIASES).stat()
        except OSError:
            return None
        return info.st_ino, info.st_size, info.st_mtime_ns

    def refresh(self) -> bool:
        """Serve the version the alias points at now, if it moved; True when the served version changed."""
        if self.alias is None or not self._refreshing.acquire(blocking=False):
            return False
        try:
            stamp = self.alias_stamp()
            if stamp == self._stamp:
                return False
            self._stamp = stamp
            return self._follow()
        finally:
            self._refreshing.release()

    def _follow(self) -> bool:
        old = self.current
        try:
            ref = self.store.resolve(self.reference)
            if ref.version == old.ref.version:
                return False
            new = load_served(self.store, f"{ref.name}@{ref.version}", self.log, self.java_heap)
        except EmberflowError as exc:
            self.log(f"alias '{self.alias}' changed, and {exc}; still serving {old.ref}")
            return False
        except Exception as exc:  # a damaged file the loader did not expect: the old version keeps serving
            self.log(f"alias '{self.alias}' changed, and loading it failed ({type(exc).__name__}: {exc}); still "
                     f"serving {old.ref}")
            return False
        self.current = new
        self.log(f"alias '{self.alias}' moved: now serving {new.ref} (was {old.ref})")
        return True
