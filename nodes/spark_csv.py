"""ReadCSV on Spark: ``spark.read.csv``, with what Spark's reader lacks done around it, so that the rows are the
ones the sklearn engine reads.

- **na_values.** Spark's ``nullValue`` is one text. The empty field is Spark's (an unquoted one is always null; a
  quoted ``""`` is empty text, through ``emptyValue``, unless ``""`` is listed), and the other texts are mapped to
  null after reading. A column holding them is one Spark's inference took for text: Spark infers its type again,
  in one job over those columns' values with the texts left out; when the file holds none of them (the driver
  looked, see ``csv_text``), the first inference stands and no job is added.
- **dtypes** columns are read as text and converted here, as each mode says: FAILFAST stops at a value that does
  not convert, naming the column and the value; DROPMALFORMED drops its row; PERMISSIVE makes it null.
- **multiLine** (one task per file, as Spark cannot split a file whose values span lines) is on when the file
  holds a quoted line break, or is a URL the driver cannot look at; ``multi_line`` says otherwise.
- **Invalid bytes.** Spark decodes bytes that are not valid in the file's encoding as U+FFFD, silently. A local
  file is decoded strictly on the driver first (the same pass that looks for the above), so the error names its
  line and a valid file holding U+FFFD itself reads as it is. A URL's text columns raise, when read, on U+FFFD,
  which there may be either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emberflow.engine.api import DataError, did_you_mean_each, spark_raise_error, spark_try_cast
from emberflow.nodes.csv_text import TextFacts, first_line_fields, line_break, scan_text

# What Spark reads a quoted "" as, when "" is not a missing value, until it is made "" again: a noncharacter,
# which text never holds (a NUL would do but for Spark's inference, which takes it for nothing).
EMPTY = "\ufdd0"
QUOTED_EMPTY = '""'  # looked for in the file when "" is not a missing value (a doubled quote inside a value too)
DTYPE_TYPES = {"int": "bigint", "float": "double", "string": "string", "bool": "boolean"}


def spark_location(params: dict[str, Any], check_file) -> tuple[str, TextFacts | None]:
    """The file for Spark, and what its bytes say: a URL (hdfs://, s3a:// ...) as given, unread; a local file
    checked, scanned and made absolute (so that executors in other processes find it)."""
    path = params["path"]
    if "://" in path:
        return path, None
    from emberflow.nodes.read_csv import refuse_invalid_text

    file = check_file(path)
    _check_header(file, params)
    quoted_empty = [] if "" in params["na_values"] else [QUOTED_EMPTY]
    facts = scan_text(file, params["quote"], params["escape"], params["encoding"],
                      params["na_values"] + quoted_empty, validate=True)
    refuse_invalid_text(file, facts, params["encoding"])
    if params["multi_line"] is False and facts.spans_lines:
        raise DataError(f"ReadCSV: {file} has a quoted value that spans lines, which multi_line: false reads as "
                        "broken rows; remove multi_line (or set it true)")
    if params["multi_line"] or facts.spans_lines is not False:
        facts.line_break = line_break(file, params["encoding"])
    return str(file.resolve()), facts


def _check_header(file: Path, params: dict[str, Any]) -> None:
    """What Spark would silently rename (duplicate names) or garble (an unknown encoding) is an error here, as
    on the sklearn engine."""
    import codecs

    from emberflow.nodes.read_csv import check_read_columns

    try:
        codecs.lookup(params["encoding"])
    except LookupError:
        raise DataError(f"ReadCSV: unknown encoding {params['encoding']!r}; use a codec name such as utf-8 or "
                        "latin-1") from None
    if params["header"] and not params["columns"]:
        names = first_line_fields(file, params["separator"], params["quote"], params["encoding"])
        check_read_columns(file, names, {**params, "dtypes": None})


# Python's names of the encodings Spark's CSV reader takes, and Spark's (Java's) names for them.
JAVA_CHARSETS = {"utf-8": "utf-8", "iso8859-1": "iso-8859-1", "ascii": "us-ascii", "utf-16": "utf-16",
                 "utf-16-be": "utf-16be", "utf-16-le": "utf-16le", "utf-32": "utf-32"}


def java_charset(encoding: str) -> str:
    """``encoding`` as Spark names it (latin-1 is iso-8859-1); other names go to Spark as written."""
    import codecs

    try:
        return JAVA_CHARSETS.get(codecs.lookup(encoding).name, encoding)
    except LookupError:
        return encoding


def spark_reader(spark, params: dict[str, Any], facts: TextFacts | None):
    """A DataFrameReader with the step's CSV options; a quote doubled inside a quoted value escapes it, as in
    RFC 4180 and on the sklearn engine, unless ``escape`` says otherwise."""
    multi_line = params["multi_line"]
    if multi_line is None:
        multi_line = facts is None or facts.spans_lines is not False
    reader = spark.read.options(
        header=params["header"], sep=params["separator"], quote=params["quote"],
        escape=params["escape"] or params["quote"], encoding=java_charset(params["encoding"]), mode=params["mode"],
        multiLine=multi_line, nullValue="")
    if multi_line and facts is not None and facts.line_break:
        reader = reader.option("lineSep", facts.line_break)  # else Spark makes a quoted \r\n a \n
    return reader if "" in params["na_values"] else reader.option("emptyValue", EMPTY)


def read_spark(spark, location: str, facts: TextFacts | None, params: dict[str, Any]):
    """The frame: Spark's inferred types (or text) for the columns without a dtype, the texts of ``na_values``
    null, then the dtypes applied."""
    from pyspark.sql import types

    dtypes = params["dtypes"] or {}

    def reader():  # a new one each time: a DataFrameReader's options stick to it
        return spark_reader(spark, params, facts)

    base = reader().options(mode="PERMISSIVE", inferSchema=params["infer_schema"] and not dtypes).csv(location)
    columns = params["columns"] or base.columns
    _check_count(base.columns, columns, location)
    missing = [c for c in dtypes if c not in columns]
    if missing:
        raise DataError(f"ReadCSV: dtypes name columns {missing} that {location} does not have"
                        f"{did_you_mean_each(missing, columns)}; columns: {', '.join(columns)}")
    if dtypes and params["infer_schema"] and any(c not in dtypes for c in columns):
        base = reader().options(mode="PERMISSIVE", inferSchema=True).csv(location)
    native = dict(zip(columns, [field.dataType for field in base.schema.fields], strict=True))
    schema = types.StructType([types.StructField(c, types.StringType() if c in dtypes else native[c])
                               for c in columns])
    frame = reader().schema(schema).csv(location)
    markers = _markers(facts, params["na_values"])
    text = [c for c in columns if c not in dtypes and isinstance(native[c], types.StringType)]
    refined = _refined_types(frame, text, markers) if params["infer_schema"] and text and markers else {}
    typed = {c: DTYPE_TYPES[dtypes[c]] for c in columns if c in dtypes} | refined
    if params["mode"] == "DROPMALFORMED" and dtypes:
        frame = frame.where(_convertible(frame, dtypes, markers))
    refusals = {c: f"ReadCSV: {location}: column '{c}' (dtype {d}) has the value '" for c, d in dtypes.items()
                if d != "string"} if params["mode"] == "FAILFAST" else {}
    frame = frame.select(*[_column(frame[c], typed.get(c), native[c], markers, refusals.get(c)).alias(c)
                           for c in columns])
    return frame if facts is not None else refuse_replaced_text(frame, location, params)


def _markers(facts: TextFacts | None, na_values: list[str]) -> list[str]:
    """The texts to make null that the file may hold (all but "", which Spark's reader makes null itself), and
    EMPTY if a quoted "" may be there to make "" again."""
    found = facts.markers if facts is not None else {*na_values, QUOTED_EMPTY}
    markers = sorted(value for value in na_values if value and value in found)
    return markers + [EMPTY] if "" not in na_values and QUOTED_EMPTY in found else markers


def _missing_marked(text, markers: list[str]):
    """A text column with the texts of ``markers`` null (and Spark's stand-in for a quoted "" made "" again)."""
    from pyspark.sql import functions

    if EMPTY in markers:
        text = functions.when(text == EMPTY, functions.lit("")).otherwise(text)
    others = [marker for marker in markers if marker != EMPTY]
    return functions.when(text.isin(others), functions.lit(None)).otherwise(text) if others else text


def _converted(text, spark_type: str):
    """Text as ``spark_type``; null where it does not convert."""
    from pyspark.sql import functions

    if spark_type == "boolean":
        lower = functions.lower(text)
        return functions.when(lower == "true", True).when(lower == "false", False)
    return spark_try_cast(text, spark_type)


def _column(column, spark_type: str | None, native, markers: list[str], refusal: str | None):
    """One column of the result: read as text and converted to ``spark_type`` (a dtype's or a type inferred
    again), or as Spark read it, its missing-value texts made null. With a ``refusal`` (a dtype, in mode
    FAILFAST), a value that does not convert stops the job with that message, the value and the fix."""
    from pyspark.sql import functions, types

    if spark_type is None:
        if isinstance(native, types.StringType):
            return _missing_marked(column, markers)
        if isinstance(native, (types.DoubleType, types.FloatType)) and "NaN" in markers:
            return functions.when(functions.isnan(column), functions.lit(None)).otherwise(column)
        return column
    text = _missing_marked(column, markers)
    if spark_type == "string":
        return text
    value = _converted(text, spark_type)
    if refusal is None:
        return value
    message = functions.concat(functions.lit(refusal), functions.substring(text, 1, 80),
                               functions.lit("'; fix the value or change the column's dtype"))
    return functions.when(text.isNotNull() & value.isNull(), spark_raise_error(message)).otherwise(value)


def _convertible(frame, dtypes: dict[str, str], markers: list[str]):
    """DROPMALFORMED: whether every dtype column of a row is missing or converts."""
    import functools

    checks = []
    for name, dtype in dtypes.items():
        if dtype != "string":
            text = _missing_marked(frame[name], markers)
            checks.append(text.isNull() | _converted(text, DTYPE_TYPES[dtype]).isNotNull())
    from pyspark.sql import functions

    return functools.reduce(lambda a, b: a & b, checks, functions.lit(True))


def _refined_types(frame, names: list[str], markers: list[str]) -> dict[str, str]:
    """The types Spark's own inference gives text columns once their missing-value texts are left out (those
    that are still text are left out), in one job: the columns' values, the texts made null and line breaks made
    spaces, go as CSV lines through the JVM reader's ``csv(Dataset[String])``, which PySpark does not expose."""
    from pyspark.sql import functions

    others = [marker for marker in markers if marker != EMPTY]
    values = [functions.regexp_replace(functions.when(frame[name].isin(others), functions.lit(None))
                                       .otherwise(frame[name]), "[\r\n]", " ") for name in names]
    # a first field that is never null: to_csv makes a line of one null field null, which the reader cannot take
    lines = frame.select(functions.to_csv(functions.struct(functions.lit("-"), *values)).alias("value"))
    session = frame.sparkSession
    dataset = getattr(lines._jdf, "as")(session._jvm.org.apache.spark.sql.Encoders.STRING())
    inferred = session._jsparkSession.read().option("inferSchema", "true").csv(dataset).schema().fields()[1:]
    found = {name: field.dataType().simpleString() for name, field in zip(names, inferred, strict=True)}
    return {name: kind for name, kind in found.items() if kind != "string"}


def refuse_replaced_text(frame, location: str, params: dict[str, Any]):
    """A URL's ``frame`` whose text columns raise, when a row is read, if they hold U+FFFD: bytes not valid in
    the encoding (which Spark reads as that character), or that character itself, which the driver cannot tell
    apart without reading the file. The check runs inside the jobs that read the rows anyway."""
    from pyspark.sql import functions, types

    def checked(name: str):
        column = frame[name]
        message = (f"ReadCSV: {location} holds U+FFFD in column {name!r}: bytes that are not valid "
                   f"{params['encoding']} text, read as that character, or the character itself; set encoding: to "
                   "the file's encoding, or read a local copy of the file, whose bytes are checked")
        refused = spark_raise_error(message)
        return functions.when(column.contains("\ufffd"), refused).otherwise(column).alias(name)

    return frame.select(*[checked(f.name) if isinstance(f.dataType, types.StringType) else frame[f.name]
                          for f in frame.schema.fields])


def _check_count(have: list[str], names: list[str], location: str) -> None:
    if len(have) != len(names):
        raise DataError(f"ReadCSV: columns names {len(names)} columns, but {location} has {len(have)}; give one "
                        "name per column")
