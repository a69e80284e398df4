"""Model formats: one small unit per way of writing a model to files and reading it back.

Each format says which models it ``applies_to`` (chosen by the model, not by if-chains in the caller), writes
the files with ``save``, reads them with ``load``, and names the ``libraries`` whose versions the manifest must
record. ``format: auto`` takes the first format, in ``FORMATS`` order, that is an ``auto`` choice for the
model. The heavy libraries are imported inside the methods that need them. Third parties add formats through
the ``emberflow.formats`` entry-point group.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..entry_points import distribution_version, entry_points
from ..errors import EmberflowError, UserError

if TYPE_CHECKING:
    from ..context import Sessions
    from ..model import Model

GROUP = "emberflow.formats"


class ModelFormat:
    name: ClassVar[str]
    engine: ClassVar[str]  # the engine whose library reads it back (portable: NumPy alone)
    auto: ClassVar[bool] = False  # chosen by ``format: auto`` for the models it applies to
    runs_code_on_load: ClassVar[bool] = False  # pickle-like: loading a file can execute code
    suffixes: ClassVar[tuple[str, ...]] = ()  # how a plain file of this format is recognised by its name
    library_names: ClassVar[tuple[str, ...]] = ()
    # Libraries whose other versions the format's own loading deals with (H2O's: a binary of another version
    # gives way to the MOJO beside it, or is refused): the version gate leaves a difference in them to it, unless
    # strict_versions is on.
    own_version_gate: ClassVar[tuple[str, ...]] = ()
    # Libraries of which the format's loading refuses every other version itself (an H2O binary alone), with
    # advice that fits: the version gate leaves them to it even under strict_versions.
    exact_versions: ClassVar[tuple[str, ...]] = ()

    def applies_to(self, model: Model) -> bool:
        raise NotImplementedError

    def save(self, model: Model, folder: Path) -> dict[str, Any]:
        """Write the artifact into ``folder``; return manifest entries such as ``{"artifact": "model.joblib"}``."""
        raise NotImplementedError

    def load(self, folder: Path, manifest: dict[str, Any], sessions: Sessions, options: dict[str, Any]) -> Any:
        """Read the artifact back (its files already verified) and return the engine's model object."""
        raise NotImplementedError

    def deserializing(self, manifest: dict[str, Any], warn) -> AbstractContextManager:
        """Around ``load``: what becomes of the library's own warnings while it deserializes (by default, nothing:
        they are shown as Python shows them)."""
        return nullcontext()

    def in_memory_artifact(self, manifest: dict[str, Any], options: dict[str, Any]) -> str | None:
        """The one listed file this format deserializes from memory, or None to read its files itself. The
        loader then reads that file once, checks it, and hands ``load`` the checked bytes as
        ``options["checked_bytes"]``: the file is not read twice, and cannot change between check and load."""
        return None

    def in_memory_files(self, manifest: dict[str, Any], options: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        """The listed files this format deserializes from memory, in named groups: the loader reads and checks
        each group's files (in parallel) into one buffer, laid end to end, and hands ``load`` the buffers as
        ``options["checked"][group]``. By default the one ``in_memory_artifact``, as the group ``artifact``."""
        artifact = self.in_memory_artifact(manifest, options)
        return {"artifact": (artifact,)} if artifact else {}

    def recognizes(self, path: Path) -> bool:
        """Whether ``path``, a file or folder with no manifest beside it, is of this format (by default: by its
        suffix)."""
        return path.suffix.lower() in self.suffixes

    def chosen_by_auto(self, model: Model) -> bool:
        """Whether ``format: auto`` takes this format for ``model`` (the formats are asked in order)."""
        return self.auto and self.applies_to(model)

    def libraries(self) -> dict[str, str]:
        return installed_versions(self.library_names)

    def written_by(self, path: Path) -> dict[str, str | Untold]:
        """The versions of the libraries that wrote ``path``, a plain file or folder with no manifest beside it,
        as the file itself records them, read without deserializing anything: the version gate judges them as it
        judges a manifest's. ``Untold`` for a library whose version the file does not tell; by default, none."""
        return {}


class Untold:
    """In ``written_by``, a library version that a file does not tell, and why."""

    def __init__(self, why: str):
        self.why = why

    def __repr__(self) -> str:
        return f"Untold({self.why!r})"


def recorded_libraries(manifest: dict[str, Any]) -> dict[str, str]:
    """The library versions a manifest records (Python aside): its ``libraries``, and the H2O version that
    manifests written before it was kept there hold in their ``h2o`` section."""
    held = manifest.get("libraries")  # a manifest may have been edited: anything but a mapping records nothing
    libraries = {str(k): str(v) for k, v in held.items()} if isinstance(held, dict) else {}
    legacy = manifest.get("h2o")
    if "h2o" not in libraries and isinstance(legacy, dict) and legacy.get("version"):
        libraries["h2o"] = str(legacy["version"])
    return libraries


def installed_versions(names: tuple[str, ...]) -> dict[str, str]:
    """Installed distribution versions, read from metadata without importing the libraries."""
    return {name: installed_version(name) for name in names}


@cache  # the libraries a process has imported do not change under it
def installed_version(name: str) -> str:
    return distribution_version(name) or "not installed"


def _builtin() -> list[ModelFormat]:
    from .h2o import H2O_FORMATS
    from .portable import ParamsFormat
    from .sklearn import JoblibFormat, PickleBuffersFormat, PickleFormat
    from .skops import SkopsFormat
    from .spark import SparkMLFormat

    return [JoblibFormat(), PickleBuffersFormat(), PickleFormat(), ParamsFormat(), SkopsFormat(), SparkMLFormat(),
            *H2O_FORMATS]


_formats: list[ModelFormat] | None = None


def all_formats() -> list[ModelFormat]:
    global _formats
    if _formats is None:
        formats = _builtin()
        for point in entry_points(group=GROUP):
            try:
                formats.append(point.load()())
            except Exception as exc:
                raise EmberflowError(f"model format plugin '{point.name}' failed to load: {exc}") from exc
        _formats = formats
    return _formats


def format_names() -> list[str]:
    return [f.name for f in all_formats()]


def get_format(name: str) -> ModelFormat:
    for fmt in all_formats():
        if fmt.name == name:
            return fmt
    raise UserError(f"unknown model format {name!r}; formats: auto, {', '.join(format_names())}")


def choose_format(model: Model, requested: str = "auto") -> ModelFormat:
    """The format ``requested`` for ``model``, or the model's own with ``auto``; a clear error if it cannot."""
    if requested == "auto":
        for fmt in all_formats():
            if fmt.chosen_by_auto(model):
                return fmt
        raise UserError(f"no model format applies to a {model.model_class}; formats: {', '.join(format_names())}")
    fmt = get_format(requested)
    if not fmt.applies_to(model):
        fitting = [f.name for f in all_formats() if f.applies_to(model)]
        raise UserError(
            f"format '{requested}' cannot save a {model.model_class} (engine {model.engine}); "
            f"formats that can: {', '.join(fitting) or 'none'}"
        )
    return fmt
