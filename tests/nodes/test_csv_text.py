"""scan_text: what a CSV file's bytes say, read in blocks (made tiny here, so that every answer is found across
block boundaries too)."""

from __future__ import annotations

from pathlib import Path

import pytest
from emberflow.nodes import csv_text
from emberflow.nodes.csv_text import first_line_fields, scan_text


@pytest.fixture(params=[3, 1 << 20], ids=["tiny blocks", "one block"])
def block(request, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(csv_text, "BLOCK", request.param)
    return request.param


def write(tmp_path: Path, content: bytes | str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "d.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


@pytest.mark.parametrize("content, spans", [
    ('a,b\n1,"x"\n2,"y, z"\n', False),
    ('a,b\n1,"say ""hi"""\n2,"""q"""\n', False),
    ('a,b\n1,"one\ntwo"\n', True),
    ('a,b\r\n1,"one\r\ntwo"\r\n', True),
    ('a,b\n1,x"y"z\n2,5\'10""\n', False),  # quotes inside unquoted fields, an even number per line
    ("a,b\n1,2\n" * 50 + 'a,"\n"\n', True),
])
def test_a_line_break_inside_quotes_is_found(tmp_path: Path, block: int, content: str, spans: bool):
    assert scan_text(write(tmp_path, content)).spans_lines is spans


def test_an_escaped_quote_does_not_end_a_quoted_value(tmp_path: Path, block: int):
    assert scan_text(write(tmp_path, 'a,b\n1,"say \\"\nhi"\n'), escape="\\").spans_lines is True
    assert scan_text(write(tmp_path, 'a,b\n1,"x\\""\n2,y\n'), escape="\\").spans_lines is False


@pytest.mark.parametrize("content, line", [
    ("a,b\nx,é\ny,ü\n".encode(), None),
    ("a,b\nx,1\ncafé,2\n".encode("latin-1"), 3),
    (b"a,b\nx,1\n\xe2\x82", 3),  # the file ends inside a character
])
def test_the_line_of_the_first_invalid_byte(tmp_path: Path, block: int, content: bytes, line):
    assert scan_text(write(tmp_path, content), validate=True).invalid_line == line


def test_valid_text_holding_u_fffd_is_told_from_invalid_bytes(tmp_path: Path, block: int):
    real = scan_text(write(tmp_path, "a\n37\ufffd36\n"), validate=True, replacement=True)
    assert real.invalid_line is None and real.replacement is True
    broken = scan_text(write(tmp_path, b"a\n37\xb036\n"), validate=True, replacement=True)
    assert broken.invalid_line == 2 and broken.replacement is False


def test_markers_are_found_across_blocks(tmp_path: Path, block: int):
    path = write(tmp_path, "a,sex\n1,male\n2,NA\n3,female\n")
    assert scan_text(path, markers=["", "NA", "N/A", "null"]).markers == {"NA"}
    assert scan_text(path, markers=["NaN"]).markers == set()


def test_a_utf16_file_is_not_looked_at_for_quotes_or_markers(tmp_path: Path, block: int):
    facts = scan_text(write(tmp_path, 'a,b\n1,"x\ny"\n', "utf-16"), encoding="utf-16", markers=["NA"], validate=True)
    assert facts.spans_lines is None and facts.markers == {"NA"} and facts.invalid_line is None


def test_the_first_record_honours_quotes(tmp_path: Path):
    path = write(tmp_path, '"a,b",c,"d ""e"""\n1,2,3\n')
    assert first_line_fields(path, ",", '"', "utf-8") == ["a,b", "c", 'd "e"']


def test_a_file_without_quotes_is_answered_without_reading_its_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """No quote character in the file (found in the mapped file): no quoted line break, and its blocks are not read;
    with one, they are."""
    def read_blocks(*args):
        raise AssertionError("blocks read")

    monkeypatch.setattr(csv_text, "_quoted_break", read_blocks)
    assert scan_text(write(tmp_path, "a,b\n1,2\n3,4\n")).spans_lines is False
    with pytest.raises(AssertionError, match="blocks read"):
        scan_text(write(tmp_path, 'a,b\n1,"2"\n'))
