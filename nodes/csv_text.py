"""What a CSV file's bytes say before a parser reads them, in one pass over the file.

- whether a quoted value spans lines: Arrow's parallel reader, Spark (without ``multiLine``) and H2O's parser split
  a file at line breaks, and a line break inside quotes then cuts a row in two (Arrow and H2O beyond their first
  block, Spark always);
- where the first byte that is not valid in the file's encoding is: Spark decodes such bytes as U+FFFD, silently;
- whether the text holds U+FFFD itself (valid text may: H2O's categorical columns cannot hold it);
- which of the texts read as missing values occur in the file at all (Spark's own type inference knows one).

A line break is inside quotes when an odd number of quote characters precede it (a doubled quote inside a quoted
value counts twice, an escaped one not at all). A stray quote in an unquoted field can make the answer yes where
no value spans lines: the readers then take the slower way, which reads the file alike.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from pathlib import Path

BLOCK = 8 << 20
REPLACEMENT = "\ufffd"


class TextFacts:
    """The answers of ``scan_text``. ``spans_lines`` is None when the encoding is not one whose quotes and line
    breaks are single ASCII bytes (UTF-16, UTF-32): the file was not looked at for them."""

    __slots__ = ("spans_lines", "invalid_line", "replacement", "markers", "line_break")

    def __init__(self, spans_lines: bool | None, invalid_line: int | None, replacement: bool,
                 markers: frozenset[str], line_break: str | None = None):
        self.spans_lines, self.invalid_line = spans_lines, invalid_line
        self.replacement, self.markers, self.line_break = replacement, markers, line_break

    def __repr__(self) -> str:
        return f"TextFacts({', '.join(f'{name}={getattr(self, name)!r}' for name in self.__slots__)})"


def scan_text(path: Path, quote: str = '"', escape: str | None = None, encoding: str = "utf-8",
              markers: Iterable[str] = (), validate: bool = False, replacement: bool = False) -> TextFacts:
    """Read ``path`` once, in blocks, and answer: does a quoted value span lines; with ``validate``, the line of
    the first byte invalid in ``encoding``; with ``replacement``, does the text hold U+FFFD; which ``markers``
    occur in it (all of them when the encoding is not ASCII-compatible: they were not looked for)."""
    name = codecs.lookup(encoding).name
    single_byte = _ascii_compatible(name) and len(quote.encode(name)) == 1
    needles = {m: m.encode(name) for m in markers if m} if single_byte else {}
    if replacement and single_byte and _encodable(REPLACEMENT, name):
        needles[REPLACEMENT] = REPLACEMENT.encode(name)
    overlap = max(map(len, needles.values()), default=1) - 1
    decoder = codecs.getincrementaldecoder(name)("strict") if validate else None
    found = set() if single_byte else {m for m in markers if m}
    quote_byte, escape_byte = quote.encode(name), escape.encode(name) if escape and single_byte else None
    odd, spans, tail, offset, invalid_at, last = False, False, b"", 0, None, b""
    if single_byte and not needles and decoder is None and not _holds(path, quote_byte):
        return TextFacts(False, None, False, frozenset())  # no quote, so no quoted line break
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK):
            if single_byte and not spans:
                spans, odd = _quoted_break(block, quote_byte, escape_byte, odd, last)
                last = block[-1:]
            if needles:
                window = tail + block
                found.update(m for m, raw in needles.items()  # its first byte first: memchr's speed
                             if m not in found and raw[:1] in window and raw in window)
                tail = window[-overlap:] if overlap else b""
            if decoder is not None and invalid_at is None:
                invalid_at = _first_invalid(decoder, block, offset, ascii_fast=name == "utf-8")
            offset += len(block)
            if (spans or not single_byte) and found >= needles.keys() and (decoder is None or invalid_at is not None):
                break  # nothing left to learn
        else:
            if decoder is not None and invalid_at is None:
                invalid_at = _first_invalid(decoder, b"", offset, ascii_fast=False, final=True)
    invalid_line = None if invalid_at is None else _line_at(path, invalid_at)
    return TextFacts(spans if single_byte else None, invalid_line, REPLACEMENT in found,
                     frozenset(found - {REPLACEMENT}))


def _holds(path: Path, needle: bytes) -> bool:
    """Whether the file holds ``needle``, looked for in the file mapped into memory (one memchr over the page
    cache, without copying blocks into Python: about 0.03 s for 160 MB where reading the blocks takes 0.04-0.05 s).
    True when the file cannot be mapped (empty, or not a regular file): the caller then reads it."""
    import mmap

    try:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return mapped.find(needle) >= 0
    except (OSError, ValueError):
        return True


def _ascii_compatible(name: str) -> bool:
    try:
        return '\n\r,;|\t"\'\\'.encode(name) == b'\n\r,;|\t"\'\\'
    except UnicodeEncodeError:
        return False


def _encodable(text: str, name: str) -> bool:
    try:
        text.encode(name)
    except UnicodeEncodeError:
        return False
    return True


def _quoted_break(block: bytes, quote: bytes, escape: bytes | None, odd: bool, before: bytes) -> tuple[bool, bool]:
    """Whether a line break of ``block`` lies inside quotes, given whether the block starts inside them (and the
    byte ``before`` it, which may escape its first quote); and whether it ends inside them."""
    import numpy as np

    if quote not in block:
        return odd and (b"\n" in block or b"\r" in block), odd
    data = np.frombuffer(block, np.uint8)
    quotes = np.flatnonzero(data == quote[0])
    if escape is not None and escape != quote:
        previous = np.where(quotes > 0, data[quotes - 1], before[0] if before else 0)
        quotes = quotes[previous != escape[0]]
    breaks = data == ord("\n")
    if b"\r" in block:
        breaks |= data == ord("\r")
    inside = np.searchsorted(quotes, np.flatnonzero(breaks)) + int(odd)  # quotes before each line break
    return bool(np.any(inside & 1)), odd ^ bool(len(quotes) & 1)


def _first_invalid(decoder, block: bytes, offset: int, ascii_fast: bool, final: bool = False) -> int | None:
    """The file offset of the first byte the decoder refuses, if ``block`` (at ``offset``) holds one."""
    if ascii_fast and block.isascii() and not decoder.getstate()[0]:
        return None  # ASCII is valid UTF-8, and the decoder is not in the middle of a character
    try:
        decoder.decode(block, final)
    except UnicodeDecodeError as exc:
        return max(offset + exc.start - len(exc.object) + len(block), 0)
    return None


def _line_at(path: Path, offset: int) -> int:
    """The line number of byte ``offset`` of ``path``."""
    lines = 1
    with open(path, "rb") as handle:
        while offset > 0 and (block := handle.read(min(BLOCK, offset))):
            lines += block.count(b"\n")
            offset -= len(block)
    return lines


def line_break(path: Path, encoding: str) -> str | None:
    """The file's one kind of line break (``\r\n``, ``\n`` or ``\r``), or None if it mixes them (or the
    encoding is not ASCII-compatible)."""
    if not _ascii_compatible(codecs.lookup(encoding).name):
        return None
    newlines = returns = pairs = 0
    with open(path, "rb") as handle:
        previous = b""
        while block := handle.read(BLOCK):
            newlines, returns = newlines + block.count(b"\n"), returns + block.count(b"\r")
            pairs += (previous + block).count(b"\r\n") - previous.count(b"\r\n")
            previous = block[-1:]
    if not returns:
        return "\n"
    if not newlines:
        return "\r"
    return "\r\n" if pairs == newlines == returns else None


def first_line_fields(path: Path, separator: str, quote: str, encoding: str, escape: str | None = None) -> list[str]:
    """The fields of the file's first record, quotes (and ``escape``, in quotes or not, as Arrow's reader takes
    it) honoured: a header's names may hold the separator."""
    import csv

    with open(path, encoding=encoding, errors="replace", newline="") as handle:
        return next(csv.reader(handle, delimiter=separator, quotechar=quote, escapechar=escape), [])
