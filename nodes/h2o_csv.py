"""WriteCSV on H2O: the H2O JVM writes the file itself (``h2o.export_file``) when it runs on this machine.

Bringing the rows to pandas (H2O writes them as CSV text, sends it over HTTP, pandas parses it, Arrow writes it
again) takes about twice as long as H2O writing the file where it stands. H2O's export writes the very text it
sends to pandas, except for the header's quotes, so the file reads back equal to the one the pandas path writes;
only the text differs: H2O quotes every text and categorical value and writes numbers as Java does (``1.0E-20``,
``Infinity``, ``True``), where Arrow writes ``1e-20``, ``inf``, ``true``.

H2O's export is used only where it writes the same data:
- H2O runs on this machine, started by this process (the instance emberflow launched, or one a notebook
  started with ``h2o.init``): a cluster joined by url would write on its own machine, as its own user;
- no folder of the path, and not the file, is hidden: H2O refuses to write there ("access denied");
- the separator is one of ``, ; | tab`` (never part of a number H2O writes);
- no column name holds a quote or a line break (H2O does not escape them in the header);
- every column is a number, categorical or text column (time and uuid columns are left to the pandas path).

Everything else, and an export that H2O refuses, goes through pandas, as on the sklearn engine. H2O writes
under a temporary name beside the target that is not hidden, which is then renamed over the target: readers
never see half a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emberflow.nodes.write_csv import write_atomic

SEPARATORS = (",", ";", "|", "\t")
COLUMN_TYPES = ("int", "real", "enum", "string")
UNQUOTABLE = ('"', "\n", "\r")


def export_h2o_csv(frame: Any, target: Path, params: dict[str, Any]) -> bool:
    """Write ``frame`` to ``target`` with H2O's export when it writes what the pandas path would; False (and
    nothing written) when it cannot."""
    import h2o

    target = target.resolve()
    if not exportable(frame, target, params):
        return False
    separator = params["separator"]
    quote_header = any(separator in name for name in frame.columns)  # as pandas: quoted only where needed

    def export(tmp: Path) -> None:
        h2o.export_file(frame, str(tmp), force=False, sep=separator, header=params["header"],
                        quote_header=quote_header, parts=1)

    try:
        write_atomic(target, export, hidden=False)
    except OSError:  # H2O refused the path or failed to write (its errors are OSErrors): the pandas path then
        return False
    return True


def exportable(frame: Any, target: Path, params: dict[str, Any]) -> bool:
    """H2O runs in this machine's JVM that this process started, and can write ``frame`` at ``target`` (an
    absolute path) as the pandas path would."""
    import h2o

    connection = h2o.connection()
    if not isinstance(frame, h2o.H2OFrame) or connection is None or connection.local_server is None:
        return False
    if any(part.startswith(".") for part in target.parts):
        return False
    if params["separator"] not in SEPARATORS or frame.ncol == 0:
        return False
    names = [str(name) for name in frame.columns]
    if any(mark in name for name in names for mark in UNQUOTABLE):
        return False
    return all(kind in COLUMN_TYPES for kind in frame.types.values())
