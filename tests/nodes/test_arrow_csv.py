"""WriteCSV's Arrow writer: the file reads back exactly as pandas' to_csv output does."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from emberflow.nodes.arrow_csv import arrow_table, write_frames
from hypothesis import given, settings
from hypothesis import strategies as st


def written(frames, header=True, separator=",") -> str:
    buffer = io.BytesIO()
    write_frames(frames, buffer, header, separator)
    return buffer.getvalue().decode("utf-8")


def by_pandas(frame, header=True, separator=",") -> str:
    return frame.to_csv(index=False, header=header, sep=separator, lineterminator="\n")


def read(text: str, separator=",", header="infer") -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), sep=separator, header=header, keep_default_na=True)


MIXED = pd.DataFrame({
    "whole floats": [1.0, -2.0, 0.0, 123456.0, np.nan],
    "floats": [0.1, 1e-05, 1.5e20, -0.0, 1 / 3],
    "ints": [1, 2, 3, 4, 5],
    "nullable ints": pd.array([1, None, 3, 4, 5], dtype="Int64"),
    "text": ["plain", "with, comma", 'a "quote"', None, "é ü"],
    "flags": [True, False, True, True, False],
})


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_mixed_columns_read_back_as_pandas_output_does(separator):
    ours = read(written([MIXED], separator=separator), separator)
    theirs = read(by_pandas(MIXED, separator=separator), separator)
    pd.testing.assert_frame_equal(ours, theirs)
    assert ours["whole floats"].dtype == "float64"


def test_the_header_is_written_as_pandas_writes_it():
    frame = pd.DataFrame({"a": [1], "b,c": [2], 'q"x': [3]})
    assert written([frame]).splitlines()[0] == by_pandas(frame).splitlines()[0]


def test_text_is_quoted_only_when_it_must_be():
    plain = pd.DataFrame({"name": ["ann", "bob"], "x": [1.5, 2.5]})
    assert written([plain]) == by_pandas(plain) == "name,x\nann,1.5\nbob,2.5\n"


def test_an_empty_text_is_quoted_so_that_it_does_not_read_back_as_a_missing_value():
    text = written([pd.DataFrame({"n": [1, 2, 3], "s": pd.array(["", None, "x"], dtype="str")})])
    assert text == 'n,s\n1,""\n2,\n3,"x"\n'  # ReadCSV reads "" back as empty text when na_values lacks ""


def test_batches_make_one_file_with_one_header():
    frames = [MIXED.iloc[:2], MIXED.iloc[2:]]
    ours = read(written(frames))
    pd.testing.assert_frame_equal(ours, read(by_pandas(MIXED)))
    assert written(frames).count("whole floats") == 1


def test_without_header():
    ours = read(written([MIXED], header=False), header=None)
    pd.testing.assert_frame_equal(ours, read(by_pandas(MIXED, header=False), header=None))


def test_columns_arrow_should_not_write_go_through_pandas():
    frame = pd.DataFrame({"day": pd.to_datetime(["2024-01-02", "2024-03-04"]), "x": [1, 2],
                          "mixed": [1, "a"]})
    assert arrow_table(frame) is None
    assert written([frame]) == by_pandas(frame)


def test_a_date_column_arrow_could_read_still_goes_through_pandas():
    frame = pd.DataFrame({"day": pd.to_datetime(["2024-01-02", "2024-03-04"]), "x": [1, 2]})
    assert arrow_table(frame) is None
    assert written([frame]) == by_pandas(frame)


def test_batches_with_other_columns_are_refused():
    with pytest.raises(ValueError, match="a batch has columns"):
        written([MIXED[["ints"]], MIXED[["floats"]]])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=30))
def test_any_float_reads_back_equal(values):
    frame = pd.DataFrame({"x": values, "n": range(len(values))})
    pd.testing.assert_frame_equal(read(written([frame])), read(by_pandas(frame)))


def arrow_column(draw, rows: int):
    """An Arrow column of one of the types ReadCSV and SQL give, with missing values (and NaN) or without."""
    import datetime

    import pyarrow as pa

    kind = draw(st.sampled_from(["int", "float", "bool", "text", "null", "date"]))
    present = st.booleans() if draw(st.booleans()) else st.just(True)
    values = {
        "int": st.integers(-2**63, 2**63 - 1), "bool": st.booleans(), "date": st.dates(),
        "float": st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10**6, 10**6).map(float),
        "text": st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=5),
        "null": st.none(),
    }[kind]
    types = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "text": pa.string(), "null": pa.null(),
             "date": pa.date32()}
    cells = [draw(values) if draw(present) else None for _ in range(rows)]
    assert all(not isinstance(c, datetime.datetime) for c in cells)
    return pa.array(cells, type=types[kind])


@settings(max_examples=200, deadline=None)
@given(st.data(), st.integers(0, 6), st.integers(1, 4), st.sampled_from([",", ";"]))
def test_an_arrow_table_is_written_as_its_pandas_frame_is(data, rows, width, separator):
    """WriteCSV takes ReadCSV's and SQL's Arrow tables as they are: the bytes equal those written from the pandas
    frame the table converts to (integers with missing values written as floats, NaN as a missing value ...)."""
    import pyarrow as pa

    table = pa.table([arrow_column(data.draw, rows) for _ in range(width)], names=[f"c{i}" for i in range(width)])
    assert written([table], separator=separator) == written([table.to_pandas()], separator=separator)
