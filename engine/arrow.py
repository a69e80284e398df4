"""Arrow tables as sklearn-engine frames, recognised without importing pyarrow (see ``frames``). Light, so that
the API imports it with the node interface: validating a workflow loads no frame helpers."""

from __future__ import annotations

from typing import Any


def is_arrow(value: Any) -> bool:
    """Whether ``value`` is an Arrow table (a sklearn-engine frame that has not become pandas yet)."""
    return type(value).__module__.startswith("pyarrow") and type(value).__name__ == "Table"
