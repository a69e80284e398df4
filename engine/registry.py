"""Finds nodes through the ``emberflow.nodes`` entry-point group: built-in nodes and plugins alike.

A node is imported only when a workflow uses it (or when all are listed), so a plugin that fails to import
breaks only the workflows that use it, with an error that names the plugin.
"""

from __future__ import annotations

from .entry_points import EntryPoint, entry_points
from .errors import EmberflowError
from .node import Node

GROUP = "emberflow.nodes"


class PluginError(EmberflowError):
    """A node plugin could not be loaded or is not a Node."""


class Registry:
    """Node classes by name, from entry points plus any registered directly (tests, embedding)."""

    def __init__(self, group: str = GROUP):
        self._group = group
        self._entry_points: dict[str, EntryPoint] | None = None
        self._loaded: dict[str, type[Node]] = {}

    def _points(self) -> dict[str, EntryPoint]:
        if self._entry_points is None:
            self._entry_points = {ep.name: ep for ep in entry_points(group=self._group)}
        return self._entry_points

    def register(self, node_class: type[Node], name: str | None = None) -> None:
        if not (isinstance(node_class, type) and issubclass(node_class, Node)):
            raise PluginError(f"{node_class!r} is not a subclass of emberflow's Node")
        self._loaded[name or node_class.node_name()] = node_class

    def names(self) -> list[str]:
        return sorted(set(self._points()) | set(self._loaded))

    def __contains__(self, name: str) -> bool:
        return name in self._loaded or name in self._points()

    def get(self, name: str) -> type[Node]:
        if name in self._loaded:
            return self._loaded[name]
        point = self._points().get(name)
        if point is None:
            raise KeyError(name)
        try:
            node_class = point.load()
        except Exception as exc:  # a broken plugin must not look like an emberflow bug
            dist = point.dist_name or "unknown distribution"
            raise PluginError(f"node plugin '{name}' ({point.value}, from {dist}) failed to load: {exc}") from exc
        if not (isinstance(node_class, type) and issubclass(node_class, Node)):
            raise PluginError(f"entry point '{name}' ({point.value}) is not a subclass of emberflow's Node")
        self._loaded[name] = node_class
        return node_class

    def all(self) -> dict[str, type[Node]]:
        return {name: self.get(name) for name in self.names()}


_default: Registry | None = None


def default_registry() -> Registry:
    global _default
    if _default is None:
        _default = Registry()
    return _default
