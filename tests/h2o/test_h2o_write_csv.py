"""WriteCSV on H2O: H2O's own export (the instance runs on this machine) writes a file that reads back equal to
the one written through pandas; where it cannot (a hidden folder, time columns, names it does not escape, an
unusual separator) the rows go through pandas, and either way the file appears whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.csv as pcsv
import pytest

pytestmark = pytest.mark.h2o

ROWS = [  # n: integers with a gap, k: integers, x: decimals, w: whole decimals, c: text with quotes and commas
    "n,k,x,w,c,flag",
    "1,1,0.1,1.0,a,True",
    "2,2,3.0,2.0,\"b,c\",False",
    ",3,,3.0,,True",
    "-5,4,1e-20,,\"q\"\"uote\",",
    "1000000000000,5,-2.5e300,5.0,é,False",
    "7,6,123456789.123,6.0,\" sp\",True",
]


@pytest.fixture
def mixed_frame(h2o, tmp_path: Path):
    """An H2OFrame of numbers, categorical and text columns with missing values, infinities included."""
    source = tmp_path / "mixed.csv"
    source.write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    frame = h2o.import_file(str(source), col_types={"n": "int", "k": "int", "x": "real", "w": "real",
                                                    "c": "enum", "flag": "enum"})
    frame["text"] = frame["c"].ascharacter()
    frame["ratio"] = frame["x"] / (frame["k"] - 1)  # Inf in the first row
    assert frame.types["text"] == "string" and frame.types["c"] == "enum"
    return frame


def params_for(path: Path, separator: str = ",", header: bool = True) -> dict:
    return {"path": str(path), "header": header, "separator": separator, "overwrite": True, "parts": False}


def pandas_path(frame, path: Path, separator: str, header: bool) -> None:
    """What WriteCSV wrote on H2O before H2O's export was used (and still writes where it is not)."""
    from emberflow.engine.frames import to_pandas
    from emberflow.nodes.arrow_csv import write_frames

    with open(path, "wb") as handle:
        write_frames([to_pandas(frame)], handle, header, separator)


def read_back(path: Path, separator: str, header: bool) -> list[pd.DataFrame]:
    """The file as pandas reads it and as Arrow reads it with ReadCSV's options."""
    by_pandas = pd.read_csv(path, sep=separator, header=0 if header else None)
    options = pcsv.ReadOptions(autogenerate_column_names=not header)
    by_arrow = pcsv.read_csv(path, read_options=options, parse_options=pcsv.ParseOptions(delimiter=separator),
                             convert_options=pcsv.ConvertOptions(strings_can_be_null=True)).to_pandas()
    return [by_pandas, by_arrow]


@pytest.mark.parametrize(("separator", "header"), [(",", True), (";", False), ("\t", True), ("|", True)])
def test_h2o_export_reads_back_equal_to_the_pandas_path(mixed_frame, tmp_path: Path, separator: str, header: bool):
    from emberflow.nodes.h2o_csv import export_h2o_csv

    folder = tmp_path / "out"
    folder.mkdir()
    exported = folder / "exported.csv"
    assert export_h2o_csv(mixed_frame, exported, params_for(exported, separator, header))
    assert sorted(p.name for p in folder.iterdir()) == ["exported.csv"], "a temporary file was left"
    through_pandas = tmp_path / "pandas.csv"
    pandas_path(mixed_frame, through_pandas, separator, header)
    assert exported.read_bytes() != through_pandas.read_bytes()  # another writer wrote it
    for ours, theirs in zip(read_back(exported, separator, header), read_back(through_pandas, separator, header),
                            strict=True):
        pd.testing.assert_frame_equal(ours, theirs)
    first = read_back(exported, separator, header)[0]
    assert len(first) == len(ROWS) - 1 and first.iloc[0, -1] == float("inf")


def test_a_header_name_holding_the_separator_is_quoted(h2o, mixed_frame, tmp_path: Path):
    from emberflow.nodes.h2o_csv import export_h2o_csv

    renamed = mixed_frame.set_names([f"col,{i}" if i < 2 else name for i, name in enumerate(mixed_frame.columns)])
    target = tmp_path / "named.csv"
    assert export_h2o_csv(renamed, target, params_for(target))
    assert list(pd.read_csv(target).columns) == renamed.columns


def workflow_writing(source: Path, targets: list[Path]) -> str:
    steps = [f"  - {{id: read, node: ReadCSV, params: {{path: '{source}', mode: PERMISSIVE}}}}"]
    steps += [f"  - {{id: write{i}, node: WriteCSV, inputs: {{data: read}}, params: {{path: '{t}'}}}}"
              for i, t in enumerate(targets)]
    return "name: write\nengine: h2o\nsteps:\n" + "\n".join(steps) + "\n"


def test_a_hidden_folder_is_written_through_pandas_and_reads_back_equal(h2o_engine, tmp_path: Path):
    """H2O refuses hidden paths: WriteCSV writes them through pandas, and both files read back alike."""
    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import parse_workflow

    source = tmp_path / "mixed.csv"
    source.write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    visible, hidden = tmp_path / "visible" / "out.csv", tmp_path / ".hidden" / "out.csv"
    hidden.parent.mkdir()
    hidden.write_text("an older file\n")
    result = run_workflow(parse_workflow(workflow_writing(source, [visible, hidden]), "write.yaml"),
                          ModelStore(tmp_path / "models"), reporter=Reporter(None))
    assert result.ok, result.record.get("error")
    assert [p.name for p in hidden.parent.iterdir()] == ["out.csv"]
    assert [p.name for p in visible.parent.iterdir()] == ["out.csv"]
    assert "1.0E-20" in visible.read_text() and "1e-20" in hidden.read_text()  # Java's number text, and Python's
    pd.testing.assert_frame_equal(pd.read_csv(visible), pd.read_csv(hidden))


def test_what_h2o_cannot_write_alike_is_left_to_pandas(h2o, mixed_frame, tmp_path: Path):
    from emberflow.nodes.h2o_csv import export_h2o_csv

    hidden = tmp_path / ".cache" / "out.csv"
    hidden.parent.mkdir()
    dated = mixed_frame.cbind(h2o.H2OFrame({"day": ["2020-01-01", "2021-06-30", "", "1999-12-31", "2000-01-01",
                                                    "2001-01-01"]}, column_types=["time"]))
    quoted = mixed_frame.set_names(['say "hi"', *mixed_frame.columns[1:]])
    cases = [(mixed_frame, hidden, ","), (mixed_frame, tmp_path / ".out.csv", ","), (dated, tmp_path / "a.csv", ","),
             (quoted, tmp_path / "b.csv", ","), (mixed_frame, tmp_path / "c.csv", ":")]
    assert dated.types["day"] == "time"
    for frame, target, separator in cases:
        assert not export_h2o_csv(frame, target, params_for(target, separator)), (target, separator)
        assert not target.exists()
    assert list(hidden.parent.iterdir()) == []
