"""CSV writing through Arrow's CSV writer: many times faster than pandas' ``to_csv``, and equal in content.

Numbers, text and booleans go through Arrow; a frame holding anything else (dates, mixed objects ...) is written
by pandas. The header is written as pandas writes it (quoted only where needed), text values are quoted only
when some value of the batch needs it (an empty text among them: ``""``), a whole float keeps its ``.0`` (so it
reads back as a float), and a missing value is an empty field. Booleans are written ``true``/``false`` (pandas
writes ``True``/``False``; readers take both).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import Any, BinaryIO

from emberflow.engine.api import is_arrow
from emberflow.nodes.frame_columns import arrow_scalar

WRITABLE_TYPES = ("integer", "floating", "boolean", "string", "large_string", "null")


def write_frames(frames: Iterable[Any], handle: BinaryIO, header: bool, separator: str) -> int:
    """Write pandas frames one after the other to ``handle`` as one CSV (the header from the first one).

    Returns the number of rows written.
    """
    rows = 0
    columns: list[str] | None = None
    for frame in frames:
        names = frame.column_names if is_arrow(frame) else [str(c) for c in frame.columns]
        if columns is None:
            columns = names
            if header:
                handle.write(header_line(names, separator).encode("utf-8"))
        elif names != columns:
            raise ValueError(f"a batch has columns {names}, the first one had {columns}")
        write_frame(frame, handle, separator)
        rows += len(frame)
    return rows


def header_line(names: list[str], separator: str) -> str:
    import csv

    text = io.StringIO()
    csv.writer(text, delimiter=separator, lineterminator="\n").writerow(names)
    return text.getvalue()


def write_frame(frame, handle: BinaryIO, separator: str) -> None:
    """One frame's rows, without header: through Arrow when its columns allow, else through pandas. An Arrow
    table is written as its pandas frame would be (``as_from_pandas``), or, failing that, becomes that frame."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    from emberflow.engine.api import to_pandas

    table = as_from_pandas(frame) if is_arrow(frame) else None
    if table is None:
        frame = to_pandas(frame)
        table = arrow_table(frame)
    if table is None:
        frame.to_csv(handle, index=False, header=False, sep=separator, lineterminator="\n")
        return
    table = pa.table([keep_float_point(column) for column in table.columns], names=table.column_names)
    quoting = "needed" if needs_quotes(table, separator) else "none"
    pcsv.write_csv(table, handle, pcsv.WriteOptions(include_header=False, delimiter=separator,
                                                    quoting_style=quoting))


def arrow_table(frame):
    """``frame`` as an Arrow table, or None if a column is of a type Arrow should not write for us."""
    import pyarrow as pa

    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    return table if all(writable(column) for column in table.columns) else None


def as_from_pandas(table, keeps=None):
    """The Arrow table ``arrow_table`` makes of ``table.to_pandas()``, made without pandas: integers with missing
    values become floats (pandas holds them as float64), NaN becomes missing (``from_pandas`` reads NaN so). None
    when a column is of a type that ``keeps(column)`` refuses (by default: other than numbers, booleans and text):
    the caller then goes through pandas."""
    import pyarrow as pa
    import pyarrow.compute as pc

    keeps = keeps or writable
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_integer(kind) and column.null_count:
            column = column.cast(pa.float64(), safe=False)
        elif pa.types.is_floating(kind) and pc.any(pc.is_nan(column)).as_py():
            column = pc.if_else(pc.is_nan(column), pa.nulls(len(column), kind), column)
        elif not keeps(column):
            return None
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def writable(column) -> bool:
    """Whether WriteCSV writes ``column`` from Arrow as pandas would write it."""
    import pyarrow as pa

    return any(getattr(pa.types, f"is_{name}")(column.type) for name in WRITABLE_TYPES)


def keep_float_point(column):
    """A float column whose whole values (``3.0``) would be written ``3`` turned into text ``3.0``, so that the
    file reads back with the column as floats, as it does from pandas' output."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_floating(column.type) or column.null_count == len(column):
        return column
    whole = pc.and_(pc.is_finite(column), pc.equal(pc.floor(column), column))
    if not pc.any(whole).as_py():
        return column
    text = pc.cast(column, pa.string())
    plain = pc.and_(whole, pc.invert(pc.match_substring(text, "e")))
    point, nothing = arrow_scalar(".0", pa.string()), arrow_scalar("", pa.string())
    return pc.if_else(plain, pc.binary_join_element_wise(text, point, nothing), text)


def needs_quotes(table, separator: str) -> bool:
    """Whether any text value holds the separator, a quote or a line break, or is empty (and so must be quoted:
    unquoted, an empty text would read back as a missing value)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pattern = f"^$|[{re.escape(separator)}\"\r\n]"
    for column in table.columns:
        if (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)) and \
                pc.any(pc.match_substring_regex(column, pattern)).as_py():
            return True
    return False
