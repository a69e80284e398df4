"""Text for the terminal: tables and file trees (rich on a terminal, plain aligned text otherwise: pipes, files,
tests), and ``printable`` for text that comes from a workflow file, a CSV file or the store."""

from __future__ import annotations

import re
import sys
from typing import Any

# C0 and C1 control characters (ESC starts ANSI escape sequences; CR and BS overwrite what is shown), DEL, and
# the invisible characters that reorder or hide text (bidirectional overrides, zero-width spaces, line separators).
# Patterns, not compiled ones: ``re`` compiles each on first use (``emberflow validate`` of a valid file never does).
_UNPRINTABLE = "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
_RST_LITERAL = r"``(.+?)``"


def printable(text: Any) -> str:
    """``text`` safe to print on a terminal: control and invisible characters shown escaped, as Python writes them
    (``\\x1b``, ``\\n``, ``\\u202e``), so a name from a file can neither move the cursor, recolour the terminal
    nor break the one-line shape of a message. Use it on any text the command line echoes from a file."""
    text = str(text)
    if text.isascii() and text.isprintable():  # the usual case, answered without the pattern
        return text
    return re.sub(_UNPRINTABLE, lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def plain_doc(text: str) -> str:
    """A docstring for the terminal: reStructuredText's literals between double backticks in single ones, as
    Markdown and most terminal help write them."""
    return re.sub(_RST_LITERAL, r"`\1`", text)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 file``, ``2 files``."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def table(headers: list[str], rows: list[list[Any]], stream=None) -> None:
    """Rows under headers; every cell made ``printable`` (a table often shows names read from files)."""
    stream = stream or sys.stdout
    cells = [[("" if c is None else printable(c)) for c in row] for row in rows]
    if stream.isatty():
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        rich_table = Table(*headers, header_style="bold")
        for row in cells:
            rich_table.add_row(*map(escape, row))  # a cell's [brackets] are text, not rich markup
        Console(file=stream).print(rich_table)
        return
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(), file=stream)
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=stream)


def human_size(size: int) -> str:
    """Bytes as B, KB, MB or GB (powers of 1024), as people read sizes."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(size)


def file_tree(files: dict[str, dict[str, Any]], indent: str = "", stream=None) -> None:
    """Files by relative path, drawn as a tree with sizes."""
    stream = stream or sys.stdout
    tree: dict[str, Any] = {}
    for rel, meta in sorted(files.items()):
        node = tree
        parts = rel.split("/")
        for part in parts[:-1]:
            node = node.setdefault(printable(part) + "/", {})
        node[printable(parts[-1])] = meta.get("size", 0)
    if stream.isatty():
        from rich.console import Console
        from rich.tree import Tree

        top = Tree("files", hide_root=True, guide_style="dim")
        _add_rich(top, tree)
        Console(file=stream).print(top)
        return
    _draw(tree, indent, stream)


def _add_rich(branch, node: dict[str, Any]) -> None:
    from rich.markup import escape

    for name, value in node.items():
        if isinstance(value, dict):
            _add_rich(branch.add(f"[bold]{escape(name)}[/bold]"), value)
        else:
            branch.add(f"{escape(name)}  [dim]({value:,} bytes)[/dim]")


def _draw(node: dict[str, Any], indent: str, stream) -> None:
    items = list(node.items())
    for index, (name, value) in enumerate(items):
        last = index == len(items) - 1
        branch = "└── " if last else "├── "
        if isinstance(value, dict):
            print(f"{indent}{branch}{name}", file=stream)
            _draw(value, indent + ("    " if last else "│   "), stream)
        else:
            print(f"{indent}{branch}{name}  ({value:,} bytes)", file=stream)


def confusion_lines(confusion: Any) -> list[str] | None:
    """A confusion matrix as a Score step records it (``{"labels": [...], "matrix": [[...], ...]}``) as aligned
    lines: the true class down, the predicted class across. None if ``confusion`` is not of that shape."""
    labels = confusion.get("labels") if isinstance(confusion, dict) else None
    matrix = confusion.get("matrix") if isinstance(confusion, dict) else None
    if not isinstance(labels, list) or not isinstance(matrix, list) or len(matrix) != len(labels) or not all(
            isinstance(row, list) and len(row) == len(labels) for row in matrix):
        return None
    rows = [["true \\ predicted", *labels], *([label, *row] for label, row in zip(labels, matrix, strict=True))]
    cells = [[printable(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(labels) + 1)]
    return ["  ".join([row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))])
            for row in cells]
