"""ReadCSV: a CSV file into a frame."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from emberflow.engine.api import FRAME, DataError, Node, Param, ParamProblem, did_you_mean_each, looked_for
from emberflow.nodes.csv_text import TextFacts, first_line_fields, scan_text
from emberflow.nodes.frame_columns import names as column_names

if TYPE_CHECKING:
    from emberflow.engine.api import FrameBatches, StepContext

MODES = ("FAILFAST", "DROPMALFORMED", "PERMISSIVE")
DTYPES = ("int", "float", "string", "bool")
NA_VALUES = ["", "NA", "N/A", "null", "NaN"]
HEADER_BYTES = 64 * 1024  # the most output_columns reads of a file to find its header


class ReadCSV(Node):
    """Read a CSV file into a frame.

    ``mode`` says what to do with a malformed row (one with too many or too few fields, or a value that does not
    fit its column's dtype), with Spark's names: FAILFAST stops with an error naming the line, DROPMALFORMED
    skips the row, PERMISSIVE keeps it with missing values where it has no fields.

    ``na_values`` are the texts read as missing values, in every column, quoted or not, the same on every engine;
    an empty field without quotes is missing whatever the list says (``""`` is empty text unless the list holds
    ``""``, as it does by default). A quoted value may span lines on every engine: the file is looked at first,
    and the engines' line-parallel readers take their slower way only when a value does.

    On the sklearn engine only the columns later steps use are converted (when every step between says which it
    reads: SQL, Join and WriteCSV read them all), and the columns with a dtype: every row is still split into its
    fields, so a malformed row is found as before, but a value in a column no step uses is not looked at, as on
    Spark. A run that shows its frames (the editor's) reads every column.

    On H2O, PERMISSIVE reads with H2O's own parallel parser (which keeps malformed rows with missing values);
    FAILFAST and DROPMALFORMED read as on the sklearn engine and upload the rows to H2O, so that bad rows are
    treated alike on every engine. Text columns become H2O categorical (enum) columns.
    """

    kind = "dataset"
    outputs = {"data": FRAME}
    params = (
        Param("path", "string", doc="the CSV file to read (a relative path starts from the current folder)",
              input_file=True),
        Param("header", "boolean", True, "the first line holds the column names"),
        Param("separator", "string", ",", "the field separator", aliases=("sep", "delimiter")),
        Param("columns", "array", None, "column names (replacing the header's, or naming a headerless file)",
              items="string"),
        Param("dtypes", "object", None, f"column: type, types being {', '.join(DTYPES)}"),
        Param("mode", "string", "FAILFAST", "what to do with a malformed row", choices=MODES),
        Param("na_values", "array", NA_VALUES, "texts read as missing values, quoted or not (an empty field "
              "without quotes is always missing)", items="string"),
        Param("encoding", "string", "utf-8", "the file's text encoding"),
        Param("quote", "string", '"', "the quote character"),
        Param("escape", "string", None, "the escape character inside quoted values"),
        Param("batch_rows", "integer", None, "read about this many rows at a time: the rows flow in batches through "
              "Score to WriteCSV, so a file larger than memory can be scored", minimum=1, engines=("sklearn",)),
        Param("infer_schema", "boolean", True, "Spark: infer the types of the columns without a dtype (one "
              "extra pass over the file); false reads them as strings", aliases=("inferSchema",),
              engines=("spark",)),
        Param("multi_line", "boolean", None, "Spark: read quoted values that span lines (Spark's multiLine, one "
              "task per file); by default on when the file holds one, and for a URL", aliases=("multiLine",),
              engines=("spark",)),
    )

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        for key in ("separator", "quote", "escape"):
            if params.get(key) is not None and len(params[key]) != 1:
                raise ParamProblem(f"parameter '{key}' of ReadCSV must be one character, got {params[key]!r}", key)
        if params.get("batch_rows") and params.get("mode") == "PERMISSIVE":
            raise ParamProblem("batch_rows reads with mode FAILFAST or DROPMALFORMED, not PERMISSIVE", "batch_rows")
        for column, dtype in (params.get("dtypes") or {}).items():
            if dtype not in DTYPES:
                raise ParamProblem(f"dtype {dtype!r} of column '{column}' is not one of: {', '.join(DTYPES)}",
                                   "dtypes")

    @classmethod
    def output_columns(cls, params: dict[str, Any], inputs: dict[str, list[str] | None]) -> dict[str, list[str]]:
        """The ``columns`` given, else the header's names: the file's first 64 KiB at most are read."""
        if params.get("columns"):
            return {"data": [str(c) for c in params["columns"]]}
        path = params.get("path")
        if not params.get("header", True) or not isinstance(path, str) or "://" in path or not Path(path).is_file():
            return {}
        import csv

        with open(path, encoding=params.get("encoding") or "utf-8", errors="replace", newline="") as handle:
            start = handle.read(HEADER_BYTES)
        if "\n" not in start and len(start) >= HEADER_BYTES:
            return {}  # a header longer than that: not worth guessing
        fields = next(csv.reader(start.splitlines(), delimiter=params.get("separator") or ",",
                                 quotechar=params.get("quote") or '"'), [])
        return {"data": fields} if fields else {}

    def run_sklearn(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]):
        path = check_file(params["path"], params["encoding"])
        if params["mode"] == "PERMISSIVE":
            return read_permissive(path, params)
        spans_lines = scan_text(path, params["quote"], params["escape"], params["encoding"]).spans_lines is not False
        only = columns_to_read(path, params, ctx.columns_needed() if ctx is not None else None)  # None: direct call
        if params.get("batch_rows"):
            return read_arrow_batches(path, params, spans_lines, only)
        frame = read_arrow(path, params, spans_lines, only)
        if only and len(column_names(frame, "sklearn")) == len(only):
            ctx.note(f"{len(only)} of {len(frame_columns(path, params))} columns converted, those later steps use")
        return frame

    def run_spark(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]):
        """``spark.read.csv``: lazy, so a FAILFAST error shows in the first step that uses the rows (see
        ``spark_csv``)."""
        from emberflow.engine.api import spark_errors
        from emberflow.nodes.spark_csv import read_spark, spark_location

        location, facts = spark_location(params, check_file)
        with spark_errors():
            return read_spark(ctx.session(), location, facts, params)

    def run_h2o(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]):
        """H2O's parser cuts a row at a quoted line break past its first block and cannot hold U+FFFD in a
        categorical column: a file holding either reads as on the sklearn engine, then goes to H2O as Parquet."""
        from emberflow.engine.api import to_engine

        h2o = ctx.session()
        if params["mode"] == "PERMISSIVE" and h2o_can_parse(params):
            file = check_file(params["path"])
            facts = scan_text(file, params["quote"], params["escape"], params["encoding"], params["na_values"],
                              validate=True, replacement=True)
            refuse_invalid_text(file, facts, params["encoding"])  # H2O's parser would read it as <0x..> text
            if facts.spans_lines is False and not facts.replacement:
                return read_h2o(h2o, file, params, facts.markers)
        return to_engine(self.run_sklearn(ctx, inputs, params), "h2o", ctx.sessions)


def check_file(path: str, encoding: str = "utf-8") -> Path:
    file = Path(path)
    if not file.exists():
        raise DataError(f"ReadCSV: no such file {path} ({looked_for(path)}); check the path (or pass --var with "
                        "the right one)")
    if file.is_dir():
        raise DataError(f"ReadCSV: {path} is a folder; expected a CSV file")
    if file.stat().st_size == 0:
        raise DataError(f"ReadCSV: {path} is empty; expected a CSV file with a header and rows")
    _refuse_non_text(file, encoding)
    return file


def refuse_invalid_text(file: Path, facts: TextFacts, encoding: str) -> None:
    if facts.invalid_line is not None:
        raise DataError(not_text(file, encoding))


def not_text(path: Path, encoding: str, where: str = "") -> str:
    """The error for bytes that are not valid ``encoding`` text: the line of the first, and advice that works.
    latin-1 reads any bytes, so it is the example encoding, unless the lines before hold text that reads as UTF-8,
    which latin-1 would garble (a UTF-8 file with a damaged byte): then the bytes are to be fixed."""
    line, utf8_before = _first_undecodable_line(path, encoding)
    at = f"{path}:{line}" if line else str(path)
    if utf8_before and encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        advice = ("the lines before it hold UTF-8 text, which latin-1 would garble: fix or remove the bytes on "
                  "that line")
    else:
        advice = "set encoding: to the file's encoding, such as latin-1"
    return f"ReadCSV: {at} is not valid {encoding} text{where}; {advice}"


def _refuse_non_text(file: Path, encoding: str) -> None:
    """Refuse what is plainly not CSV text in ``encoding`` before a parser makes a confusing error of it."""
    with open(file, "rb") as handle:
        head = handle.read(65536)
    if not head.strip() and file.stat().st_size == len(head):
        raise DataError(f"ReadCSV: {file} holds only blank lines; expected a header and rows")
    if any(width in encoding for width in ("16", "32")):
        return
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(f"ReadCSV: {file} is UTF-16 text (it starts with a UTF-16 byte order mark), not "
                        f"{encoding}; set encoding: utf-16")
    if head.startswith(b"\x1f\x8b"):
        raise DataError(f"ReadCSV: {file} is gzip-compressed; decompress it first")
    if b"\x00" in head:
        line = head[:head.index(b"\x00")].count(b"\n") + 1
        raise DataError(f"ReadCSV: {file}:{line}: a NUL byte: this is binary data, not CSV text")


def _arrow_type(dtype: str):
    import pyarrow as pa

    return {"int": pa.int64(), "float": pa.float64(), "string": pa.string(), "bool": pa.bool_()}[dtype]


def columns_to_read(path: Path, params: dict[str, Any], needed: frozenset[str] | None) -> list[str] | None:
    """The columns of the file that later steps read (``needed``) or that have a dtype, in the file's order; None
    for every column. Arrow still splits every row into its fields, so a malformed row is found as before, but
    converts only these: a value in another column is never looked at (as Spark's CSV reader does)."""
    if needed is None or not (params["header"] or params["columns"]):
        return None
    header = frame_columns(path, params)
    wanted = needed | set(params["dtypes"] or ())
    if len(set(header)) != len(header) or not wanted <= set(header) or any("\ufffd" in name for name in header):
        return None  # reading every column reports the duplicate, the missing column (listing them all) or the
        # name that is not valid text (read with replacement characters), as before
    only = [name for name in header if name in wanted]
    return only if only and len(only) < len(header) else None


def _arrow_options(params: dict[str, Any], bad_rows: list[str], spans_lines: bool, only: list[str] | None = None):
    """Arrow's read, parse and convert options for ``params``; malformed rows are noted in ``bad_rows``. Only when
    a quoted value ``spans_lines`` does Arrow look for quotes before splitting the file into blocks (slower).
    ``only``: the columns to convert (see ``columns_to_read``), else every one.

    The texts of ``na_values`` are Arrow's null values, with the empty field, which is missing in any column. When
    ``""`` is not listed, a quoted value is never null (so that ``""`` stays empty text), and ``_arrow_table``
    turns the quoted texts of ``na_values`` in text columns into nulls."""
    import pyarrow.csv as pcsv

    def on_invalid(row) -> str:
        if params["mode"] == "DROPMALFORMED":
            return "skip"
        bad_rows.append(f"expected {row.expected_columns} fields, got {row.actual_columns}: {row.text[:80]!r}")
        return "error"

    names = params["columns"]
    read = pcsv.ReadOptions(encoding=params["encoding"], column_names=names or None,
                            autogenerate_column_names=not params["header"] and not names,
                            skip_rows=1 if params["header"] and names else 0)
    parse = pcsv.ParseOptions(delimiter=params["separator"], quote_char=params["quote"],
                              escape_char=params["escape"] or False, invalid_row_handler=on_invalid,
                              newlines_in_values=spans_lines)
    lenient = params["mode"] == "DROPMALFORMED"  # typed columns are read as text, then bad values dropped
    types = {arrow_name(column, params): _arrow_type("string" if lenient else dtype)
             for column, dtype in (params["dtypes"] or {}).items()}
    na_values = params["na_values"]
    convert = pcsv.ConvertOptions(column_types=types, null_values=sorted({"", *na_values}), strings_can_be_null=True,
                                  quoted_strings_can_be_null="" in na_values, include_columns=only or ())
    return read, parse, convert


def read_arrow(path: Path, params: dict[str, Any], spans_lines: bool = True, only: list[str] | None = None):
    """FAILFAST and DROPMALFORMED through Arrow's multi-threaded CSV reader: the Arrow table (which the runner
    turns into pandas before a node that does not take Arrow), or, for DROPMALFORMED with dtypes, pandas.
    ``only``: the columns to convert, else every one."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    bad_rows: list[str] = []
    read, parse, convert = _arrow_options(params, bad_rows, spans_lines, only)
    try:
        table = pcsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    except pa.ArrowKeyError:
        if not only:
            raise
        return read_arrow(path, params, spans_lines)  # Arrow read the header otherwise: read every column
    except (pa.ArrowInvalid, UnicodeDecodeError, LookupError) as exc:
        raise DataError(_explain(path, params, exc, bad_rows)) from None
    table = _arrow_table(path, table, params)
    return _pandas_frame(table, params) if params["mode"] == "DROPMALFORMED" and params["dtypes"] else table


def _arrow_frame(path: Path, table, params: dict[str, Any]):
    """An Arrow table read from ``path`` as a pandas frame (a batch of ``batch_rows``)."""
    return _pandas_frame(_arrow_table(path, table, params), params)


def _pandas_frame(table, params: dict[str, Any]):
    frame = table.to_pandas()
    dtypes = params["dtypes"] or {}
    return _drop_unconvertible(frame, dtypes) if params["mode"] == "DROPMALFORMED" and dtypes else frame


def _arrow_table(path: Path, table, params: dict[str, Any]):
    """An Arrow table read from ``path`` with ReadCSV's column names, checked, and quoted ``na_values`` null."""
    import pyarrow as pa

    if not params["header"] and not params["columns"]:
        table = table.rename_columns([f"_c{i}" for i in range(table.num_columns)])
    try:
        names = table.column_names
    except UnicodeDecodeError:  # Arrow keeps a header's bytes as they are; Python cannot decode them
        raise DataError(not_text(path, params["encoding"], " (in the header)")) from None
    undecodable = [f.name for f in table.schema if pa.types.is_binary(f.type)]
    if undecodable:
        raise DataError(not_text(path, params["encoding"], f" (in columns {undecodable})"))
    check_read_columns(path, names, params)
    return _quoted_na_to_null(table, params["na_values"])


def _quoted_na_to_null(table, na_values: list[str]):
    """``table`` with the texts of ``na_values`` made null in its text columns, where Arrow left them because they
    were quoted (when ``""`` is not one of them: see ``_arrow_options``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    markers = [value for value in na_values if value]
    if "" in na_values or not markers:
        return table
    columns = [pc.if_else(pc.is_in(column, value_set=pa.array(markers)), pa.scalar(None, column.type), column)
               if pa.types.is_string(column.type) or pa.types.is_large_string(column.type) else column
               for column in table.columns]
    return pa.table(columns, names=table.column_names)


def _first_undecodable_line(path: Path, encoding: str) -> tuple[int | None, bool]:
    """The line of the first byte that ``encoding`` cannot decode, reading line by line (None if there is none,
    or for an encoding of 2 or 4 bytes a character, whose lines do not end in a newline byte), and whether a
    line before it held non-ASCII text that reads as UTF-8."""
    if any(width in encoding for width in ("16", "32")):
        return None, False
    utf8_before = False
    try:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, 1):
                try:
                    raw.decode(encoding)
                except UnicodeDecodeError:
                    return number, utf8_before
                utf8_before = utf8_before or (not raw.isascii() and _reads_as_utf8(raw))
    except (OSError, LookupError):
        return None, False
    return None, False


def _reads_as_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def read_arrow_batches(path: Path, params: dict[str, Any], spans_lines: bool = True,
                       only: list[str] | None = None) -> FrameBatches:
    """``batch_rows``: the file through Arrow's streaming reader, ``batch_rows`` rows (or the rest) at a time,
    read when a later step consumes the batches. The header is checked now; column types are inferred from the
    file's first block, as when the whole file is read (a later value that does not fit asks for a dtype)."""
    import pyarrow as pa
    from emberflow.engine.api import FrameBatches

    try:
        next(iter(_arrow_batches(path, params, 1, spans_lines, only)), None)
    except pa.ArrowKeyError:
        if not only:
            raise
        only = None  # Arrow read the header otherwise than columns_to_read: read every column
    return FrameBatches(lambda: _arrow_batches(path, params, params["batch_rows"], spans_lines, only),
                        f"batches of {path}")


def _arrow_batches(path: Path, params: dict[str, Any], rows: int, spans_lines: bool, only: list[str] | None = None):
    """Frames of ``rows`` rows. Arrow reads small blocks (its default size) ahead in parallel, and they are
    gathered into batches here: larger blocks would make its read-ahead hold many times a batch in memory."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    bad_rows: list[str] = []
    read, parse, convert = _arrow_options(params, bad_rows, spans_lines, only)
    pending, have = [], 0
    try:
        with pcsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert) as reader:
            for block in reader:
                pending.append(block)
                have += block.num_rows
                if have >= rows:
                    yield _arrow_frame(path, pa.Table.from_batches(pending), params)
                    pending, have = [], 0
        if have:
            yield _arrow_frame(path, pa.Table.from_batches(pending), params)
    except pa.ArrowKeyError:
        raise  # a column of ``only`` that Arrow does not find: read_arrow_batches then reads every column
    except (pa.ArrowInvalid, UnicodeDecodeError, LookupError) as exc:
        raise DataError(_explain(path, params, exc, bad_rows)) from None


def _drop_unconvertible(frame, dtypes: dict[str, str]):
    """DROPMALFORMED with dtypes: drop the rows whose value does not convert to its column's type."""
    import pandas as pd

    keep = pd.Series(True, index=frame.index)
    converted = {}
    for column, dtype in dtypes.items():
        raw = frame[column]
        if dtype in ("int", "float"):
            value = pd.to_numeric(raw, errors="coerce")
            if dtype == "int":
                value = value.where(value.isna() | (value == value.round()))
        elif dtype == "bool":
            value = raw.str.lower().map({"true": True, "false": False})
        else:
            continue
        keep &= raw.isna() | value.notna()
        converted[column] = value
    frame = frame.loc[keep].reset_index(drop=True)
    for column, value in converted.items():
        value = value.loc[keep].reset_index(drop=True)
        frame[column] = value.astype("Int64" if dtypes[column] == "int" else
                                     "boolean" if dtypes[column] == "bool" else "float64")
    return frame


def _explain(path: Path, params: dict[str, Any], exc: Exception, bad_rows: list[str]) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if bad_rows:
        line = _line_of(path, bad_rows[0], params)
        where = f"{path}:{line}" if line else str(path)
        return (f"ReadCSV: malformed row at {where}, {bad_rows[0]}; fix the row, or set mode: DROPMALFORMED "
                "to skip such rows or PERMISSIVE to keep them")
    if isinstance(exc, UnicodeDecodeError) or "invalid UTF8" in text or "decode" in text.lower():
        return not_text(path, params["encoding"])
    if isinstance(exc, LookupError):
        return f"ReadCSV: unknown encoding {params['encoding']!r}; use a Python codec name such as utf-8 or latin-1"
    if "Empty CSV file" in text:
        return f"ReadCSV: {path} holds no rows; expected a header and at least one row"
    if "straddles two block boundaries" in text:
        return (f"ReadCSV: {path} has a row longer than the reader's 1 MB block (a huge field, or a quote that is "
                "never closed?); check the file's quotes")
    if "conversion error" in text:
        return f"ReadCSV: {path}: {_conversion_problem(path, params, text)}; fix the value or change the column's dtype"
    return f"ReadCSV: cannot parse {path}: {text}"


def _conversion_problem(path: Path, params: dict[str, Any], text: str) -> str:
    """Arrow's "In CSV column #4: CSV conversion error to double: invalid value 'x'" in Spark's words: the column
    by its name (Arrow counts the file's columns from 0) and dtype, and the value."""
    import re

    found = re.search(r"column #(\d+): CSV conversion error to \w+: invalid value (.*)$", text)
    if not found:
        return text.replace("In CSV column", "in column")
    index, value = int(found.group(1)), found.group(2)
    names = frame_columns(path, params) if params["header"] or params["columns"] else []
    name = names[index] if index < len(names) else f"_c{index}"
    dtype = (params["dtypes"] or {}).get(name)
    return f"column '{name}'{f' (dtype {dtype})' if dtype else ''} has the value {value}"


def _line_of(path: Path, message: str, params: dict[str, Any]) -> int | None:
    """The line number of a malformed row, found by its text (Arrow reports the text, not the line)."""
    start = message.find(": '")
    if start < 0:
        return None
    snippet = message[start + 3: -1].split("\\n")[0]  # a quoted field can span lines: match the first
    try:
        with open(path, encoding=params["encoding"], errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                if line.rstrip("\r\n").startswith(snippet):
                    return number
    except (OSError, LookupError):
        return None
    return None


def check_read_columns(path: Path, names: list[str], params: dict[str, Any]) -> None:
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise DataError(f"ReadCSV: {path} has duplicate column names {dupes}; rename them or give columns:")
    missing = [c for c in (params["dtypes"] or {}) if c not in names]
    if missing:
        raise DataError(f"ReadCSV: dtypes name columns {missing} that {path} does not have"
                        f"{did_you_mean_each(missing, names)}; columns: "
                        f"{', '.join(names)}")


def read_permissive(path: Path, params: dict[str, Any]):
    """PERMISSIVE: keep every row; extra fields are dropped, missing ones and unparsable values become null."""
    import pandas as pd

    names = params["columns"]
    dtypes = params["dtypes"] or {}
    try:
        frame = pd.read_csv(
            path, sep=params["separator"], header=0 if params["header"] else None,
            names=names, encoding=params["encoding"], quotechar=params["quote"], escapechar=params["escape"],
            engine="python", on_bad_lines=lambda fields: fields[: len(frame_columns(path, params))],
            keep_default_na=False, na_values=sorted({"", *params["na_values"]}),
            dtype={column: str for column, dtype in dtypes.items() if dtype == "string"} or None,
        )
    except UnicodeDecodeError:
        raise DataError(not_text(path, params["encoding"])) from None
    except (LookupError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"ReadCSV: cannot parse {path} even in PERMISSIVE mode: {str(exc).splitlines()[0]}") from None
    if not params["header"] and not names:
        frame.columns = [f"_c{i}" for i in range(frame.shape[1])]
    check_read_columns(path, [str(c) for c in frame.columns], params)
    for column, dtype in dtypes.items():
        if dtype in ("int", "float"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
        elif dtype == "string":
            frame[column] = frame[column].astype("string")
    return frame


def frame_columns(path: Path, params: dict[str, Any]) -> list[str]:
    """The columns' names as Arrow's reader gives them: ``columns``, else the header's (a UTF-8 byte order mark
    left out)."""
    if params["columns"]:
        return params["columns"]
    header = first_line_fields(path, params["separator"], params["quote"], params["encoding"], params["escape"])
    return [header[0].removeprefix("\ufeff"), *header[1:]] if header else header


H2O_TYPES = {"int": "int", "float": "real", "string": "enum", "bool": "enum"}


def h2o_can_parse(params: dict[str, Any]) -> bool:
    """H2O's parser reads UTF-8 and quotes with ' or \" only."""
    import codecs

    try:
        utf8 = codecs.lookup(params["encoding"]).name == "utf-8"
    except LookupError:
        return False
    return utf8 and params["quote"] in ("'", '"')


def read_h2o(h2o, file: Path, params: dict[str, Any], markers: frozenset[str] = frozenset()):
    """H2O's own parser: ``import_file`` when H2O runs on this machine (it reads the file itself, in parallel),
    else ``upload_file`` (also for a path with a hidden folder in it, which H2O refuses to import). The texts of
    ``na_values`` are its ``na_strings``; ``markers`` are those the file holds (see ``h2o_numbers_again``)."""
    hidden = any(part.startswith(".") for part in file.resolve().parts)
    reader = h2o.import_file if h2o.connection().local_server is not None and not hidden else h2o.upload_file
    types = {h2o_name(c, params): H2O_TYPES[t] for c, t in (params["dtypes"] or {}).items()}
    try:
        frame = reader(str(file.resolve()), header=1 if params["header"] else -1, sep=params["separator"],
                       col_names=params["columns"], col_types=types or None, quotechar=params["quote"],
                       escapechar=params["escape"], na_strings=list(params["na_values"]) or None)
    except Exception as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"ReadCSV: H2O cannot parse {file}: {text}") from None
    if not params["header"] and not params["columns"]:
        frame.set_names([f"_c{i}" for i in range(frame.ncol)])
    check_read_columns(file, list(frame.columns), params)
    if markers:
        h2o_numbers_again(frame, params["dtypes"] or {})
    return frame


def h2o_numbers_again(frame, dtypes: dict[str, str]) -> None:
    """H2O guesses a column's type before it leaves out ``na_strings``: a column of numbers holding ``NA`` is
    guessed text. Such columns (without a dtype) whose every value left is a number become numbers again."""
    for name, kind in frame.types.items():
        if name in dtypes or kind not in ("enum", "string"):
            continue
        if kind == "enum":
            if not all(_is_number(level) for level in frame[name].levels()[0]):
                continue
            text = frame[name].ascharacter()
        else:
            text = frame[name]
        numbers = text.asnumeric()
        if numbers.nacnt()[0] == frame[name].nacnt()[0]:
            frame[name] = numbers


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def arrow_name(column: str, params: dict[str, Any]) -> str:
    """The name Arrow's reader gives a column: f0, f1 ... in a headerless file read without names (emberflow then
    renames them _c0, _c1 ...), so that a dtype for _c1 applies to f1."""
    if params["header"] or params["columns"] or not column.startswith("_c") or not column[2:].isdigit():
        return column
    return f"f{int(column[2:])}"


def h2o_name(column: str, params: dict[str, Any]) -> str:
    """The name H2O's parser gives a column: C1, C2 ... in a headerless file read without names (emberflow
    then renames them _c0, _c1 ... as on the other engines)."""
    if params["header"] or params["columns"] or not column.startswith("_c") or not column[2:].isdigit():
        return column
    return f"C{int(column[2:]) + 1}"
