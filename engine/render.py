"""Tables and file trees: rich on a terminal, plain aligned text otherwise (pipes, files, tests)."""

from __future__ import annotations

import sys
from typing import Any


def table(headers: list[str], rows: list[list[Any]], stream=None) -> None:
    stream = stream or sys.stdout
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    if stream.isatty():
        from rich.console import Console
        from rich.table import Table

        rich_table = Table(*headers, header_style="bold")
        for row in cells:
            rich_table.add_row(*row)
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
            node = node.setdefault(part + "/", {})
        node[parts[-1]] = meta.get("size", 0)
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
