"""Model names and aliases as the store accepts them, checked without loading the store (validation uses it)."""

from __future__ import annotations

import re

from .errors import UserError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_name(name: object, what: str = "model name") -> str:
    """A model name or alias: letters, digits and ``._-``, not starting with a dot, at most 128 characters."""
    if not isinstance(name, str) or not NAME.match(name) or name in {".", ".."}:
        raise UserError(
            f"invalid {what} {name!r}: use letters, digits, '.', '_' and '-', starting with a letter or digit, "
            "at most 128 characters"
        )
    return name
