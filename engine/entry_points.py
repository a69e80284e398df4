"""Entry points and versions of the installed distributions, found without importing ``importlib.metadata``.

Importing ``importlib.metadata`` (with the ``email`` package it parses metadata with) costs more than the rest of
``emberflow validate``; node and format plugins only need each distribution's ``entry_points.txt``, and a
manifest only the ``Version`` of a few libraries (``importlib.metadata.version`` took 1.5-3 ms each). This reads
those files from the ``*.dist-info`` and ``*.egg-info`` folders on ``sys.path`` as ``importlib.metadata`` finds
them (first distribution of a name wins), and hands over to ``importlib.metadata`` itself whenever something
else could provide distributions (a zip file on the path, a custom finder).
"""

from __future__ import annotations

import os
import re
import sys
from importlib import import_module

SUFFIXES = (".dist-info", ".egg-info")


class EntryPoint:
    """A named reference ``module:attribute`` in a group, with the distribution that declares it (named as its
    metadata folder spells it, such as ``markdown_it_py``)."""

    def __init__(self, name: str, value: str, group: str, dist_name: str | None):
        self.name, self.value, self.group, self.dist_name = name, value, group, dist_name

    def load(self):
        module, _, attributes = self.value.partition("[")[0].strip().partition(":")
        target = import_module(module.strip())
        for attribute in filter(None, attributes.strip().split(".")):
            target = getattr(target, attribute)
        return target

    def __repr__(self) -> str:
        return f"EntryPoint({self.name!r}, {self.value!r}, group={self.group!r})"


def entry_points(group: str) -> list[EntryPoint]:
    """Every entry point of ``group``, in the order ``importlib.metadata.entry_points(group=...)`` gives."""
    if _other_sources():
        from importlib.metadata import entry_points as from_metadata

        return [EntryPoint(p.name, p.value, group, p.dist.name if p.dist else None)
                for p in from_metadata(group=group)]
    found: list[EntryPoint] = []
    seen: set[str] = set()
    for folder in sys.path:
        for dist_name, path in _distributions(folder or "."):
            key = _normalized(dist_name)
            if key in seen:
                continue
            seen.add(key)
            found += _read(os.path.join(path, "entry_points.txt"), group, dist_name)
    return found


def distribution_version(name: str) -> str | None:
    """The version of the installed distribution ``name`` (any spelling: ``scikit-learn``, ``scikit_learn``), as
    ``importlib.metadata.version`` gives it: the ``Version`` field of the first such distribution on ``sys.path``;
    None when none is installed."""
    if not _other_sources():
        path = _first_distribution(name)
        version = _metadata_version(path) if path else None
        if path is None or version is not None:
            return version
    from importlib import metadata  # another source of distributions, or metadata this reader cannot read

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _first_distribution(name: str) -> str | None:
    key = _normalized(name)
    for folder in sys.path:
        for dist_name, path in _distributions(folder or "."):
            if _normalized(dist_name) == key:
                return path
    return None


def _metadata_version(path: str) -> str | None:
    """The ``Version`` header of a distribution's metadata: ``METADATA`` in a ``.dist-info`` folder, ``PKG-INFO``
    in an ``.egg-info`` folder, or an ``.egg-info`` file itself. Only the headers are read (the long description
    after them can be large)."""
    if os.path.isdir(path):
        path = os.path.join(path, "METADATA" if path.endswith(".dist-info") else "PKG-INFO")
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line in ("\n", "\r\n"):  # the end of the headers
                    return None
                if line[:1] in (" ", "\t"):  # the continuation of a folded header
                    continue
                key, sep, value = line.partition(":")
                if sep and key.strip().lower() == "version":
                    return value.strip()
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _other_sources() -> bool:
    """Whether distributions could come from somewhere this reader does not look: a finder of its own on
    ``sys.meta_path``, or a zip file on ``sys.path``."""
    for finder in sys.meta_path:
        if hasattr(finder, "find_distributions") and getattr(finder, "__name__", "") != "PathFinder":
            return True
    return any(entry and os.path.isfile(entry) for entry in sys.path)


def _distributions(folder: str) -> list[tuple[str, str]]:
    try:
        names = sorted(os.listdir(folder))
    except OSError:  # missing or not a folder: nothing installed there
        return []
    found = []
    for name in names:
        if name.endswith(SUFFIXES):  # tested before splitting: most names on the path are modules
            stem = os.path.splitext(name)[0]
            found.append((stem.partition("-")[0], os.path.join(folder, name)))
    return found


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _read(path: str, group: str, dist_name: str) -> list[EntryPoint]:
    """The entry points of ``group`` in an ``entry_points.txt`` (an INI-like file of ``name = value`` lines)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return []
    if group not in text:  # most distributions declare nothing in this group
        return []
    found, section = [], None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == group and "=" in line:
            name, _, value = line.partition("=")
            found.append(EntryPoint(name.strip(), value.strip(), group, dist_name))
    return found
