"""Text for the terminal: control characters escaped, table cells shown as written, counts and matrices."""

from __future__ import annotations

import io

import pytest
from emberflow.engine.render import confusion_lines, file_tree, plain_doc, plural, printable, table


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("text, shown", [
    ("plain name, ünïcode, 日本", "plain name, ünïcode, 日本"),
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("a\nb\rc\td\x08", "a\\nb\\rc\\td\\x08"),
    ("\x9b2J\x7f", "\\x9b2J\\x7f"),
    ("abc\u202edcba\u200b\u2028", "abc\\u202edcba\\u200b\\u2028"),
    (42, "42"),
])
def test_printable_escapes_control_and_invisible_characters(text, shown):
    assert printable(text) == shown


@pytest.mark.parametrize("stream", [io.StringIO, Terminal])
def test_table_cells_are_shown_as_written(stream):
    out = stream()
    table(["name", "note"], [["[bold]x[/bold]", "[/]"], ["\x1b[2Jgone", None]], stream=out)
    text = out.getvalue()
    assert "[bold]x[/bold]" in text and "[/]" in text
    assert "\\x1b[2Jgone" in text and "\x1b[2J" not in text


@pytest.mark.parametrize("stream", [io.StringIO, Terminal])
def test_file_tree_names_are_escaped(stream):
    out = stream()
    file_tree({"dir\x1b[31m/model\rx.bin": {"size": 3}}, stream=out)
    assert "dir\\x1b[31m/" in out.getvalue() and "model\\rx.bin" in out.getvalue()
    assert "\x1b[31m" not in out.getvalue().replace("\x1b[1m", "")


def test_plural_and_plain_doc():
    assert [plural(n, "file") for n in (0, 1, 2, 1500)] == ["0 files", "1 file", "2 files", "1,500 files"]
    assert plural(1, "entry", "entries") == "1 entry" and plural(3, "entry", "entries") == "3 entries"
    assert plain_doc("Split into ``train`` and ``test``; ``a=b`` stays") == "Split into `train` and `test`; `a=b` stays"


def test_confusion_lines_align_the_classes():
    assert confusion_lines({"labels": ["no", "yes"], "matrix": [[134, 7], [41, 1039]]}) == [
        "true \\ predicted   no   yes",
        "no                134     7",
        "yes                41  1039",
    ]
    for broken in (None, [], {"labels": [0, 1]}, {"labels": [0, 1], "matrix": [[1, 2]]},
                   {"labels": [0], "matrix": [[1, 2]]}):
        assert confusion_lines(broken) is None
