"""H2O frames to pandas: every row comes back, missing values included, and time columns come back as times."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = pytest.mark.h2o


def test_a_one_column_frame_keeps_its_rows_with_missing_values(h2o):
    from emberflow.engine.engines.h2o import frame_to_pandas, pandas_to_frame

    for values in ([1.0, None, 3.0, None], [None], ["a", None, "b"]):
        back = frame_to_pandas(pandas_to_frame(h2o, pd.DataFrame({"x": values})))
        assert back.shape == (len(values), 1)
        assert back["x"].isna().tolist() == [v is None for v in values]


def test_time_columns_come_back_as_the_times_h2o_read(h2o):
    from emberflow.engine.engines.h2o import frame_to_pandas

    frame = h2o.H2OFrame({"day": ["2024-02-29 00:00:00", "", "1999-12-31 23:59:58"], "n": [1, 2, 3]},
                         column_types=["time", "int"])
    back = frame_to_pandas(frame)
    assert pd.api.types.is_datetime64_any_dtype(back["day"])
    assert back["day"].tolist()[0] == pd.Timestamp("2024-02-29") and pd.isna(back["day"][1])
    assert back["day"][2] == pd.Timestamp("1999-12-31 23:59:58") and back["n"].tolist() == [1, 2, 3]


def test_an_object_column_of_dates_goes_to_h2o_as_times_and_one_of_text_as_categorical(h2o):
    import datetime

    from emberflow.engine.engines.h2o import frame_to_pandas, pandas_to_frame

    frame = pd.DataFrame({"day": pd.Series([datetime.date(2024, 1, 31), None], dtype=object),
                          "word": pd.Series(["a", None], dtype=object), "flag": pd.Series([True, None], dtype=object)})
    uploaded = pandas_to_frame(h2o, frame)
    assert uploaded.types == {"day": "time", "word": "enum", "flag": "enum"}
    assert frame_to_pandas(uploaded)["day"].tolist()[0] == pd.Timestamp("2024-01-31")


def test_text_comes_back_as_the_text_h2o_holds(h2o):
    """pandas read the download with its own guesses: 08123 became 8123, the text NA missing, True a boolean."""
    from emberflow.engine.engines.h2o import frame_to_pandas, pandas_to_frame

    frame = pd.DataFrame({"zip": pd.array(["08123", "NA", "", None, "True"], dtype="str"), "n": [1, 2, 3, 4, 5]})
    uploaded = pandas_to_frame(h2o, frame)
    assert uploaded.types == {"zip": "enum", "n": "int"}
    back = frame_to_pandas(uploaded)
    assert back["zip"].tolist()[:3] == ["08123", "NA", ""] and pd.isna(back["zip"][3]) and back["zip"][4] == "True"
    assert back["n"].tolist() == [1, 2, 3, 4, 5]


def test_text_holding_u_fffd_or_line_breaks_goes_to_h2o_as_it_is(h2o):
    """H2O's categorical columns cannot hold U+FFFD (its parser writes <0xEFBFBD>), and its CSV parser cut a row at
    a line break in quotes past its first chunk, so a large frame of such text lost rows."""
    from emberflow.engine.engines.h2o import frame_to_pandas, pandas_to_frame

    rows = 300_000
    frame = pd.DataFrame({"a": range(rows), "b": [f"line {i}\nnext {i}" for i in range(rows)]})
    frame.loc[7, "b"] = "37\ufffd36'N"
    uploaded = pandas_to_frame(h2o, frame)
    assert uploaded.nrow == rows and uploaded.types == {"a": "int", "b": "string"}
    last = f"line {rows - 1}\nnext {rows - 1}"
    assert frame_to_pandas(uploaded[[7, rows - 1], :])["b"].tolist() == ["37\ufffd36'N", last]
