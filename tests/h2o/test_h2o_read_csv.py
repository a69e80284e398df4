"""ReadCSV on H2O reads what the sklearn engine reads: the texts of na_values are missing values (through H2O's
parser too, whose type guess does not leave them out), a quoted value may span lines however large the file,
and U+FFFD in valid text stays that character."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from emberflow.engine.errors import DataError
from emberflow.engine.frames import to_pandas
from emberflow.nodes.read_csv import ReadCSV
from emberflow.nodes.write_csv import WriteCSV
from h2o_nodes import node_runner

pytestmark = pytest.mark.h2o

NA_FILE = 'n,sex,note\n1,male,"x"\nNA,NA,""\n3,female,\nN/A,"NA",NaN\n5,-,null\n7,male,y\n'
MODES = ("PERMISSIVE", "FAILFAST")  # H2O's parser, and the sklearn engine's reader then an upload


@pytest.fixture
def run(h2o_engine):
    with node_runner() as runner:
        yield runner


@pytest.mark.parametrize("mode", MODES)
def test_na_values_are_missing_values(run, tmp_path: Path, mode: str):
    path = tmp_path / "d.csv"
    path.write_text(NA_FILE)
    frame = run(ReadCSV, path=str(path), mode=mode)
    assert frame.types["n"] in ("int", "real") and frame.types["sex"] == "enum"
    assert sorted(frame["sex"].levels()[0]) == ["-", "female", "male"]
    back = to_pandas(frame)
    assert back["n"].tolist()[::2] == [1, 3, 5] and back["n"].isna().tolist() == [False, True] * 2 + [False] * 2
    assert back["note"].isna().tolist() == [False, True, True, True, True, False]
    kept = to_pandas(run(ReadCSV, path=str(path), mode=mode, na_values=[]))
    assert kept["sex"].tolist()[:2] == ["male", "NA"]
    if mode == "FAILFAST":  # H2O's parser guesses n numeric, making NA and N/A missing whatever na_values says
        assert kept["n"].tolist()[1] == "NA"


@pytest.mark.parametrize(("mode", "rows"), [("PERMISSIVE", 150_000), ("FAILFAST", 300_000)])
def test_a_quoted_value_spanning_lines_reads_in_a_file_larger_than_a_parse_chunk(run, tmp_path: Path, mode: str,
                                                                                   rows: int):
    """H2O's parser, and its upload of a frame as CSV, cut a row at a quoted line break past their first chunk
    (sizes at which they did)."""
    path = tmp_path / "d.csv"
    path.write_text("a,b\n" + "".join(f'{i},"line {i}\nnext {i}"\n' for i in range(rows)))
    frame = run(ReadCSV, path=str(path), mode=mode)
    assert frame.nrow == rows and frame["a"].nacnt()[0] == 0
    assert to_pandas(frame[rows - 1, :])["b"].tolist() == [f"line {rows - 1}\nnext {rows - 1}"]


@pytest.mark.parametrize("mode", MODES)
def test_u_fffd_in_valid_text_is_read_and_written_as_that_character(run, tmp_path: Path, mode: str):
    """H2O makes U+FFFD in a categorical column ``<0xEFBFBD>``, and its guess made the row's text columns
    missing; WriteCSV wrote ``<0xEFBFBD>``."""
    path = tmp_path / "d.csv"
    path.write_text("phone,place,city\n2095257564,37\ufffd36'N,Modesto\n", encoding="utf-8")
    frame = run(ReadCSV, path=str(path), mode=mode, dtypes={"phone": "string"})
    target = tmp_path / "out" / "written.csv"
    run(WriteCSV, {"data": frame}, path=str(target))
    assert "37\ufffd36'N" in target.read_text(encoding="utf-8") and "<0x" not in target.read_text(encoding="utf-8")
    assert to_pandas(frame).values.tolist() == [["2095257564", "37\ufffd36'N", "Modesto"]]
    assert pd.read_csv(target, dtype=str).values.tolist() == [["2095257564", "37\ufffd36'N", "Modesto"]]


def test_bytes_that_are_not_utf8_are_refused_with_their_line(run, tmp_path: Path):
    """H2O's parser read them as categories such as caf<0xE9>."""
    path = tmp_path / "d.csv"
    path.write_bytes("name,v\nplain,1\ncafé,2\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"d.csv:3 is not valid utf-8 text; set encoding: to the file's encoding"):
        run(ReadCSV, path=str(path), mode="PERMISSIVE")
    assert to_pandas(run(ReadCSV, path=str(path), mode="PERMISSIVE", encoding="latin-1"))["name"].tolist() == [
        "plain", "café"]
