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
    from ..model import Model
    from ..predictor import Prediction
    from ..store import VersionRef

# The engines whose models score in this process: scikit-learn's and the portable (params) linear models.
IN_PROCESS = ("sklearn", "portable")


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


def load_served(store: ModelStore, reference: str, log: Callable[[str], None]) -> Served:
    """``reference`` loaded and verified, once its engine is one that serves (refused before loading)."""
    from ..context import Sessions
    from ..models import load_from_store

    ref = store.resolve(reference)
    check_servable(ref, store.manifest(ref))
    model, ref, manifest = load_from_store(store, f"{ref.name}@{ref.version}", Sessions(warn=log), warn=log)
    return Served(model, ref, manifest, predictor_of(model, ref))


def check_servable(ref: VersionRef, manifest: dict[str, Any]) -> None:
    """Refuse, before loading, a version whose model scores only inside an engine's cluster or session."""
    from ..formats import get_format

    fmt = manifest.get("format")
    engine = get_format(fmt).engine if isinstance(fmt, str) else None
    if engine in IN_PROCESS:
        return
    if engine == "spark":
        raise UserError(f"{ref} is a Spark ML model (format {fmt}), which only a Spark session scores; serve its "
                        "params export instead: save the model with SaveModel format: params (logistic and linear "
                        "regressions) and serve that version")
    if engine == "h2o":
        raise UserError(f"{ref} is an H2O model (format {fmt}); emberflow serve does not score H2O MOJOs yet "
                        "(h2o-genmodel starts a JVM per call, about 0.5 s): save an H2O GLM with format: params to "
                        "serve it, or score in batch with Score mode: mojo")
    raise UserError(f"{ref} is saved as format {fmt}, which loads with {engine or 'no known engine'}; emberflow "
                    f"serve scores models of the {' and '.join(IN_PROCESS)} engines")


def predictor_of(model: Model, ref: VersionRef) -> Callable[[Any], Prediction]:
    from ..predictor import predict

    if model.engine not in IN_PROCESS:  # a plugin format whose objects belong to another engine
        raise UserError(f"{ref} loaded as a {model.engine} model; emberflow serve scores models of the "
                        f"{' and '.join(IN_PROCESS)} engines")
    from .batching import Batcher

    return Batcher(model, lambda frame: predict(model, frame))


class ModelHolder:
    """The version being served; ``current`` is read once per request."""

    def __init__(self, store: ModelStore, reference: str, log: Callable[[str], None]):
        self.store, self.reference, self.log = store, reference, log
        self.alias = moving_alias(reference)
        self._stamp = self.alias_stamp()
        self.current = load_served(store, reference, log)
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
            new = load_served(self.store, f"{ref.name}@{ref.version}", self.log)
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
