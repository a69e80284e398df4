"""Which scikit-learn version pickled a model, read from a pickle or joblib file without unpickling it.

scikit-learn's estimators add ``_sklearn_version`` to the state they pickle (``BaseEstimator.__getstate__``). In
the stream the key is a string opcode, followed (after a memo opcode, maybe a frame opcode) by the version, another
string opcode. The file is read in chunks, the key is found by its bytes, and the opcodes from there on are decoded
by ``pickletools.genops``, which decodes them without building or calling anything. The stream is not walked from
its start because a joblib file writes its arrays' raw bytes between the opcodes; and a joblib file may be
compressed as a whole: zlib, gzip, bz2, xz and lzma are decompressed here as they are read, lz4 is not.
"""

from __future__ import annotations

import io
import lzma
import mmap
import re
import zlib
from collections.abc import Iterator
from itertools import chain
from pathlib import Path

from . import Untold

KEY = b"_sklearn_version"
# The string opcodes that can hold the key, as they are written before it: SHORT_BINUNICODE (protocols 4 and 5),
# BINUNICODE (1 to 3), SHORT_BINSTRING (2, from Python 2) and UNICODE (0, text: the key then a newline).
KEY_OPCODES = (b"\x8c" + bytes([len(KEY)]), b"X" + len(KEY).to_bytes(4, "little"), b"U" + bytes([len(KEY)]), b"V")
SKIPPED = frozenset({"MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT", "FRAME"})  # between the key and its value
VERSION = re.compile(r"\d+\.\d+[\w.+-]*")
CHUNK = 1 << 20
WINDOW = 256  # the bytes decoded from a key on: the key, a memo and a frame opcode, the version
# joblib's compressed files, by the bytes they start with.
COMPRESSED = {b"\x78": "zlib", b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ": "xz", b"\x5d\x00\x00": "lzma",
              b"\x04\x22\x4d\x18": "lz4", b"ZF": "zlib (joblib before 0.10)"}
READABLE = ("zlib", "gzip", "bz2", "xz", "lzma")


def sklearn_version(path: Path) -> str | Untold:
    """The scikit-learn version in the first estimator state of the pickle or joblib file ``path``, or why
    there is none to tell."""
    compression = None
    try:
        with open(path, "rb") as handle:
            compression = _compression(handle.read(8))
            if compression is not None and compression not in READABLE:
                return Untold(f"it is {compression}-compressed, which emberflow does not read without loading it")
            if compression is None:  # searched in place: the page cache's bytes are not copied
                with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                    found, _searched = _search(mapped, 0, len(mapped))
            else:
                handle.seek(0)
                found = _first_version(_chunks(handle, compression))
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:  # damaged, or unreadable
        return Untold(f"it cannot be read as {compression or 'a pickle'}: {exc}")
    return found if found is not None else Untold("its pickle holds no _sklearn_version, the version scikit-learn "
                                                  "0.18 and later record in each estimator")


def _compression(head: bytes) -> str | None:
    if head[:1] == b"\x80":  # a pickle's PROTO opcode
        return None
    return next((name for magic, name in COMPRESSED.items() if head.startswith(magic)), None)


def _chunks(handle, compression: str | None) -> Iterator[bytes]:
    """The file's bytes, decompressed, a chunk at a time."""
    import bz2
    import gzip

    if compression == "zlib":
        inflate = zlib.decompressobj()
        while chunk := handle.read(CHUNK):
            yield inflate.decompress(chunk)
        yield inflate.flush()
        return
    opener = {"gzip": gzip.GzipFile, "bz2": bz2.BZ2File, "xz": lzma.LZMAFile, "lzma": lzma.LZMAFile}.get(compression)
    stream = opener(fileobj=handle) if opener is gzip.GzipFile else opener(handle) if opener else handle
    while chunk := stream.read(CHUNK):
        yield chunk


def _first_version(chunks: Iterator[bytes]) -> str | None:
    """``_search`` over a stream: a key is decoded once ``WINDOW`` bytes follow it (or the stream has ended), and
    the last bytes of a chunk are kept for the next, so a key or version split between two chunks is found."""
    buffer, searched = b"", 0
    for chunk in chain(chunks, [None]):
        buffer += chunk or b""
        limit = len(buffer) if chunk is None else len(buffer) - WINDOW - len(KEY)
        found, searched = _search(buffer, searched, limit)
        if found is not None:
            return found
        drop = max(0, searched - 8)  # the bytes before the next key to decode: its opcode
        buffer, searched = buffer[drop:], searched - drop
    return None


def _search(data, start: int, limit: int) -> tuple[str | None, int]:
    """The version after the first key from ``start`` on (and before ``limit``) that decodes as a key and a
    version; and where the search stopped."""
    while start < limit and (at := data.find(KEY, start, limit + len(KEY) - 1)) >= 0:
        version = _version_at(data, at)
        if version is not None:
            return version, at
        start = at + 1
    return None, max(start, limit)


def _version_at(buffer: bytes, at: int) -> str | None:
    """The version string the opcodes starting with the key at ``at`` give it, if they are a key and a string."""
    import pickletools

    for opcode in KEY_OPCODES:
        start = at - len(opcode)
        if start < 0 or buffer[start:at] != opcode:
            continue
        ops = pickletools.genops(io.BytesIO(buffer[start:at + len(KEY) + WINDOW]))
        try:
            if next(ops)[1] != KEY.decode():
                continue
            value = next(arg for op, arg, _pos in ops if op.name not in SKIPPED)
        except (ValueError, StopIteration, UnicodeDecodeError):  # not opcodes after all, or cut off
            continue
        if isinstance(value, str) and VERSION.fullmatch(value):
            return value
    return None
