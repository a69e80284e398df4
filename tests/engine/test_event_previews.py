"""The first rows a run's events show of a frame: an Arrow table's are those of its pandas frame."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
from emberflow.engine.events import PREVIEW_ROWS, _head


def test_an_arrow_tables_preview_has_the_dtypes_of_its_whole_pandas_frame():
    """An integer column whose one missing value lies past the preview is float64 in pandas: the preview shows
    1.0, not 1, as the step's pandas frame holds it."""
    rows = PREVIEW_ROWS + 10
    table = pa.table({"n": pa.array([*range(rows - 1), None], pa.int64()), "s": pa.array(["a"] * rows)})
    head = _head(table, "sklearn")
    pd.testing.assert_frame_equal(head, table.to_pandas().head(PREVIEW_ROWS))
    assert head["n"].dtype == "float64" and len(head) == PREVIEW_ROWS
