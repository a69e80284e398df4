"""Model names and aliases as the store accepts them, checked without loading the store (validation uses it)."""

from __future__ import annotations

import re

from .errors import UserError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # matched whole: fullmatch, so no trailing newline
VERSION = re.compile(r"[1-9][0-9]{0,17}")  # canonical decimal: no sign, no leading zero, ASCII digits only


def check_name(name: object, what: str = "model name") -> str:
    """A model name or alias: letters, digits and ``._-``, not starting with a dot, at most 128 characters."""
    if not isinstance(name, str) or not NAME.fullmatch(name) or name in {".", ".."}:
        raise UserError(
            f"invalid {what} {name!r}: use letters, digits, '.', '_' and '-', starting with a letter or digit, "
            "at most 128 characters"
        )
    return name


def parse_version(text: object) -> int | None:
    """The version number that a version folder's name or the ``3`` of ``name@3`` stands for, or None when it
    is not one: only canonical decimal names count (``1``, ``2``, ``10``), not ``003``, ``0``, ``+3``, ``3 ``,
    ``1_0`` nor digits other than ASCII's (``²``), which ``str.isdigit`` and ``int`` would let through."""
    if isinstance(text, str) and VERSION.fullmatch(text):
        return int(text)
    return None
