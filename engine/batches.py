"""Frames that pass through a workflow in batches, for data larger than memory should hold at once.

``ReadCSV`` with ``batch_rows`` returns a ``FrameBatches``; nodes that work row by row (``Score``, ``WriteCSV``)
take one and pass the batches on, so reading, scoring and writing happen together, one batch at a time, when the
last of them (the writer) consumes the batches. A node that needs every row at once (``SplitData``, ``TrainLR``,
any node on Spark or H2O) does not declare ``takes_batches`` and the runner refuses to hand it batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any


class FrameBatches:
    """A frame as a sequence of pandas frames with the same columns, produced on demand.

    ``source`` is called for every iteration, so each consumer reads the batches from the start again (nothing
    is kept in memory between batches).
    """

    def __init__(self, source: Callable[[], Iterable[Any]], description: str = "batches"):
        self._source = source
        self.description = description

    def __iter__(self) -> Iterator[Any]:
        return iter(self._source())

    def collect(self) -> Any:
        """Every batch in one pandas frame (for a consumer that cannot work batch by batch)."""
        import pandas as pd

        frames = list(self)
        if not frames:
            raise ValueError(f"{self.description} produced no batch")
        return pd.concat(frames, ignore_index=True)

    def __repr__(self) -> str:
        return f"FrameBatches({self.description})"
