"""Promise 6: every malformed CSV, run through a workflow by the CLI, gives one line saying what is wrong and
where (the file, and its line where there is one; the column for data problems), exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

BAD = Path(__file__).resolve().parent.parent / "fixtures" / "bad_csv"
WORKFLOW = """\
name: bad-csv
vars: {data: x.csv}
steps:
  - {id: read, node: ReadCSV, params: {path: "${data}"}}
  - {id: train, node: TrainLR, inputs: {data: read}, params: {label: label}}
  - {id: save, node: SaveModel, inputs: {model: train}, params: {name: never-saved}}
"""
# file: (the step that refuses it, a fragment of the message, the line it names or None)
EXPECTED = {
    "binary.csv": ("read", "a NUL byte: this is binary data, not CSV text", 3),
    "blank_lines.csv": ("read", "holds only blank lines", None),
    "duplicate_header.csv": ("read", "has duplicate column names ['a']", None),
    "empty.csv": ("read", "is empty", None),
    "gzip.csv": ("read", "is gzip-compressed", None),
    "header_only.csv": ("train", "the data has no rows to train on", None),
    "infinity.csv": ("train", "features ['b'] have infinite values", None),
    "latin1.csv": ("read", "is not valid utf-8 text (in columns ['label']); set encoding:", 4),
    "missing_label.csv": ("train", "no label column 'label' in the data; columns: a, b, class", None),
    "nul_bytes.csv": ("read", "a NUL byte", 2),
    "one_class.csv": ("train", "the label 'label' has only one class (1)", None),
    "only_label.csv": ("train", "no feature columns: the data holds only the label", None),
    "ragged_long.csv": ("read", "expected 3 fields, got 4", 4),
    "ragged_short.csv": ("read", "expected 3 fields, got 2", 3),
    "unterminated_quote.csv": ("read", "malformed row at", 3),
    "utf16.csv": ("read", "is UTF-16 text", None),
    "wrong_separator.csv": ("train", "is the file's separator ';'?", None),
}
FILES = sorted(p.name for p in BAD.glob("*.csv"))


def test_the_corpus_is_large_and_every_file_has_an_expectation():
    assert len(FILES) >= 15
    assert sorted(EXPECTED) == FILES


def run_on(cli, project: Path, data: Path):
    (project / "wf.yaml").write_text(WORKFLOW)
    return cli("run", "wf.yaml", "--store", project / "store", "--var", f"data={data}", "--quiet")


def check_one_line(result, step: str, fragment: str, where: str) -> str:
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(f"error: step '{step}': "), lines[0]
    assert fragment in lines[0], lines[0]
    assert where in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("name", FILES)
def test_a_malformed_csv_gives_one_located_line_and_exit_code_2(name: str, cli, project: Path):
    step, fragment, line = EXPECTED[name]
    path = BAD / name
    result = run_on(cli, project, path)
    check_one_line(result, step, fragment, f"{path}:{line}" if line else (str(path) if step == "read" else ""))
    assert not (project / "store" / "never-saved").exists()


@pytest.mark.parametrize("case", ["huge_field", "missing", "folder"])
def test_generated_bad_inputs(case: str, cli, project: Path, tmp_path: Path):
    path = tmp_path / f"{case}.csv"
    if case == "huge_field":
        path.write_text("a,b,label\n1,2,0\n3,\"" + "x" * 3_000_000 + "\",1\n")
        fragment = "has a row longer than the reader's 1 MB block"
    elif case == "folder":
        path.mkdir()
        fragment = "is a folder; expected a CSV file"
    else:
        fragment = "no such file"
    check_one_line(run_on(cli, project, path), "read", fragment, str(path))


@pytest.mark.parametrize("content", [b"\xef\xbb\xbfa,b,label\n1,2,0\n3,4,1\n5,6,0\n4,3,1\n",
                                     b"a,b,label\r\n1,2,0\r\n3,4,1\r\n5,6,0\r\n4,3,1\r\n"],
                         ids=["utf8_bom", "crlf"])
def test_a_byte_order_mark_and_crlf_line_ends_read_cleanly(content: bytes, cli, project: Path, tmp_path: Path):
    path = tmp_path / "ok.csv"
    path.write_bytes(content)
    result = run_on(cli, project, path)
    assert result.code == 0, result.err
    from emberflow.engine.store import ModelStore

    manifest = ModelStore(project / "store").manifest(ModelStore(project / "store").resolve("never-saved"))
    assert [f["name"] for f in manifest["features"]] == ["a", "b"] and manifest["label"] == "label"


MESSY = BAD.parent / "messy_csv"


@pytest.mark.parametrize("name", sorted(p.name for p in MESSY.glob("*.csv")))
def test_messy_but_valid_data_trains(name: str, cli, project: Path):
    """Text and boolean features, gaps in features and rows without a label were refused once; the trainers
    now prepare such columns themselves and leave the unlabelled rows out (saying so)."""
    result = run_on(cli, project, MESSY / name)
    assert result.code == 0, result.err
    assert (project / "store" / "never-saved" / "1" / "manifest.json").exists()
    assert ("left out 1 of" in result.err) == (name == "label_missing_values.csv"), result.err
