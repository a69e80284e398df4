"""SQL: a query over the step's input frames, each a table named by its input port; and the SQL engines' side of
Filter's ``where`` (one condition in SQL).

The sklearn engine runs SQL in DuckDB, in the process, over the pandas frames as they are: DuckDB scans NumPy
and Arrow-backed columns in place. Its access to files, URLs and extensions is off, so a query reads the step's
frames and nothing else. Spark runs Spark SQL over temporary views named by the ports. H2O has no SQL: its frames
go through pandas and DuckDB, and the step's progress line says so.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from emberflow.engine.api import FRAME, DataError, Node, Param, ParamProblem, did_you_mean, is_arrow
from emberflow.nodes.frame_columns import names

if TYPE_CHECKING:
    from emberflow.engine.api import StepContext

QUERY_WORDS = ("select", "with", "from", "values", "table")
# What may stand before a query's first word: blanks, comments and opening parentheses.
LEADING = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*", re.DOTALL)
H2O_NOTE = "H2O has no SQL: the query ran in DuckDB, over the frames in pandas"
JAVA_CALLS = re.compile(r"'(?:`?\w+`?\.)*`?((?:try_)?(?:reflect|java_method))`?\(", re.IGNORECASE)
SHOWN_COLUMNS = 20  # columns listed per table in an error


class SQL(Node):
    """Run a SQL ``query`` over the step's input frames, each a table named by its input port.

    The port ``input`` is required; a step may give more frames under port names of its own (letters, digits and
    _), such as ``inputs: {input: clean, cities: lookup}`` for ``SELECT ... FROM input JOIN cities USING (city)``.
    The query is one statement that reads (SELECT, WITH, FROM, VALUES or TABLE): nothing is created, changed or
    set, and the step's frames are all it reads.

    On the sklearn engine the query runs in DuckDB, in the process, over the pandas frames or Arrow tables as they
    are (scanned in place, not copied). The result comes back through Arrow, with the types ReadCSV gives;
    DuckDB's exact decimals (``1.5``, ``SUM`` of integers) become integers or floats. DuckDB cannot reach files,
    URLs or extensions here: ``read_csv('...')`` is refused.

    On Spark the query runs in Spark SQL over temporary views of the frames, named by their ports and dropped
    once the query is planned; the result is a Spark frame, as lazy as any. Spark's SQL on files (a file's path
    as a table name) is off for the query, and its ``reflect`` and ``java_method`` (calls of Java methods) are
    refused.

    H2O has no SQL: on H2O the frames come to pandas, the query runs in DuckDB as on the sklearn engine, and the
    result goes back to H2O; the step's progress line and the run record say so.

    The rows come in the order the query gives (ORDER BY for a fixed one), and two result columns may not have one
    name. Standard SQL (SELECT, WHERE, GROUP BY, JOIN, CASE, CAST, COALESCE ...) runs alike on DuckDB and Spark;
    names that need quotes are quoted "so" in DuckDB and `so` in Spark, where "so" is text.
    """

    kind = "transform"
    inputs = {"input": FRAME}
    extra_inputs = FRAME
    outputs = {"data": FRAME}
    takes_arrow = True
    params = (
        Param("query", "string", doc="the SQL query; its tables are the step's input ports (input, and others)"),
    )

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        check_query(params["query"])

    def run_sklearn(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> Any:
        return duckdb_query(inputs, params["query"])

    def run_spark(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> Any:
        return spark_query(ctx.session(), inputs, params["query"])

    def run_h2o(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> Any:
        from emberflow.engine.api import to_engine, to_pandas

        result = duckdb_query({port: to_pandas(frame) for port, frame in inputs.items()}, params["query"])
        ctx.note(H2O_NOTE)
        return to_engine(result, "h2o", ctx.sessions)


def check_query(query: str) -> None:
    """At validation: a query that reads, located at ``query`` otherwise."""
    if not query.strip():
        raise ParamProblem("parameter 'query' of SQL is empty; write a query such as SELECT * FROM input", "query")
    first = re.match(r"\w*", query[LEADING.match(query).end():]).group(0)
    if first.lower() not in QUERY_WORDS:
        raise ParamProblem(f"parameter 'query' of SQL must be a query that reads, starting with SELECT, WITH, FROM, "
                           f"VALUES or TABLE; got {first or query.strip()[:20]!r} (a SQL step creates, changes and "
                           "sets nothing)", "query")


def tables_text(frames: dict[str, Any], engine: str) -> str:
    """The tables a query may use, with their columns, for an error message."""
    described = []
    for port, frame in frames.items():
        columns = names(frame, engine)
        more = f", ... ({len(columns)} columns)" if len(columns) > SHOWN_COLUMNS else ""
        described.append(f"{port} ({', '.join(columns[:SHOWN_COLUMNS])}{more})")
    return "; tables: " + ", ".join(described)


def check_result_names(names: list[str], node: str) -> None:
    for name in names:
        if names.count(name) > 1:
            raise DataError(f"{node}: the result has more than one column named '{name}'; name them apart with AS")


# ----- DuckDB (the sklearn and H2O engines) -----

def duckdb_connection() -> Any:
    """An in-memory DuckDB that reaches no file, URL or extension, and whose settings a query cannot change."""
    import duckdb

    return duckdb.connect(":memory:", config={"enable_external_access": False, "autoinstall_known_extensions": False,
                                              "autoload_known_extensions": False, "lock_configuration": True})


def duckdb_query(frames: dict[str, Any], query: str) -> Any:
    """``query`` over the pandas frames or Arrow tables ``frames``, each registered (not copied) as a table named
    by its port; the result is an Arrow table (which becomes pandas before a node that does not take Arrow)."""
    import duckdb

    check_ports(frames)
    connection = duckdb_connection()
    try:
        for port, frame in frames.items():
            connection.register(port, as_duckdb_sees_pandas(frame) if is_arrow(frame) else frame)
        statements = connection.extract_statements(query)
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise DataError(f"SQL: the query must be one statement that reads (SELECT ...), got {len(statements)} "
                            f"statement(s) of kind {', '.join(s.type.name for s in statements)}")
        table = connection.sql(query).to_arrow_table()
    except duckdb.Error as exc:
        raise DataError(f"SQL: {duckdb_message(exc, frames)}{tables_text(frames, 'sklearn')}") from exc
    finally:
        connection.close()
    check_result_names(table.column_names, "SQL")
    return plain_table(table)


def as_duckdb_sees_pandas(table: Any) -> Any:
    """An Arrow table as DuckDB sees the pandas frame it converts to, so that a query gives the same result from
    either: an integer column with missing values is float64 in pandas, and DuckDB reads pandas' NaN as NULL.
    A table with columns of other types than numbers, booleans without missing values and text becomes pandas."""
    from emberflow.engine.api import to_pandas
    from emberflow.nodes.arrow_csv import as_from_pandas

    seen = as_from_pandas(table, keeps=duckdb_reads_alike)
    return to_pandas(table) if seen is None else seen


def duckdb_reads_alike(column) -> bool:
    import pyarrow as pa

    kind = column.type
    return (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_string(kind) or
            pa.types.is_large_string(kind) or pa.types.is_boolean(kind) and not column.null_count)


def check_ports(frames: dict[str, Any]) -> None:
    """SQL names are not case-sensitive: two ports that differ only in case would be one table."""
    seen: dict[str, str] = {}
    for port in frames:
        if port.lower() in seen:
            raise DataError(f"SQL: input ports '{seen[port.lower()]}' and '{port}' name one table (SQL names ignore "
                            "case); rename one of them")
        seen[port.lower()] = port


def duckdb_message(exc: Exception, frames: dict[str, Any]) -> str:
    """DuckDB's message on one line: its kind and text, where in the query (from its LINE n: excerpt)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text, place = [], ""
    for line in lines:
        found = re.match(r"LINE (\d+):", line)
        if found:
            place = f" (query line {found.group(1)})"
        elif not set(line) <= {"^"}:
            text.append(line.rstrip("!"))
    missing = re.search(r"Table with name (\S+) does not exist", " ".join(text))
    if missing:  # DuckDB's own hint may name its catalog's tables (pg_class ...): the ports are the tables
        text = [line for line in text if not line.startswith("Did you mean")]
        place += did_you_mean(missing.group(1), list(frames))
    return "; ".join(text) + place


def plain_table(table: Any) -> Any:
    """An Arrow result whose exact decimals have become int64 (scale 0, when the values fit) or float64, which the
    other nodes and scikit-learn take; it becomes pandas as ReadCSV's tables do."""
    import pyarrow as pa

    columns = [plain_decimal(column) if pa.types.is_decimal(column.type) else column for column in table.columns]
    return pa.table(columns, names=table.column_names)


def plain_decimal(column: Any) -> Any:
    import pyarrow as pa

    if column.type.scale == 0:
        try:
            return column.cast(pa.int64())
        except pa.ArrowInvalid:  # out of int64's range
            pass
    return column.cast(pa.float64())


def duckdb_where(frame: Any, where: str) -> Any:
    """The rows of the pandas ``frame`` for which the SQL condition ``where`` is true, in their order, with their
    dtypes: DuckDB finds the rows' positions (the condition parsed as one expression), pandas takes them."""
    import duckdb
    import numpy as np

    position = unused_name([str(c) for c in frame.columns], "__emberflow_row")
    numbered = frame.assign(**{position: np.arange(len(frame), dtype=np.int64)})  # the columns are not copied
    connection = duckdb_connection()
    try:
        relation = connection.from_df(numbered).set_alias("input")
        condition = duckdb.SQLExpression(where)
        kept = relation.filter(condition)
        kind = str(relation.project(condition).types[0])
        if kind != "BOOLEAN":
            raise DataError(f"Filter: where {where!r} is a {kind} value, not true or false; write a condition "
                            "such as age >= 21")
        rows = kept.project(duckdb.ColumnExpression(position)).fetchnumpy()[position]
    except duckdb.Error as exc:
        raise DataError(f"Filter: where {where!r}: {duckdb_message(exc, {'input': frame})}"
                        f"{tables_text({'input': frame}, 'sklearn')}") from exc
    finally:
        connection.close()
    return frame.iloc[np.sort(np.asarray(rows))]


def unused_name(columns: list[str], base: str) -> str:
    name, number = base, 0
    while name in columns:
        number += 1
        name = f"{base}{number}"
    return name


# ----- Spark -----

def spark_query(session: Any, frames: dict[str, Any], query: str) -> Any:
    """``query`` in Spark SQL over temporary views of ``frames`` named by their ports. The text is parsed as a
    query first, so no statement that changes anything runs; SQL on files is off while it is analysed, and the
    views are dropped after (the result's plan holds the frames themselves)."""
    from pyspark.errors import AnalysisException

    check_ports(frames)
    on_files = session.conf.get("spark.sql.runSQLOnFiles", "true")
    session.conf.set("spark.sql.runSQLOnFiles", "false")
    try:
        for port, frame in frames.items():
            frame.createOrReplaceTempView(port)
        plan = session._jsparkSession.sessionState().sqlParser().parseQuery(query)
        check_no_reflection(plan.toString())
        result = session.sql(query)
    except AnalysisException as exc:  # parse errors included
        raise DataError(f"SQL: {spark_message(exc, frames)}{tables_text(frames, 'spark')}") from exc
    finally:
        for port in frames:
            session.catalog.dropTempView(port)
        session.conf.set("spark.sql.runSQLOnFiles", on_files)
    check_result_names(result.columns, "SQL")
    return result


def check_no_reflection(plan: str, node: str = "SQL") -> None:
    """Spark's reflect and java_method call any static Java method (System.exit among them): refused, as a query
    has no need of them. ``plan`` is the parsed plan's text, where a function not yet resolved is 'name(...)."""
    found = JAVA_CALLS.search(plan)
    if found:
        raise DataError(f"{node}: {found.group(1)} calls Java methods and is refused in a query; use SQL functions")


def spark_message(exc: Exception, frames: dict[str, Any]) -> str:
    """Spark's analysis or parse error on one line: its text without the error class, SQLSTATE or plan."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = re.sub(r"^\[[A-Z0-9_.]+\]\s*", "", text)
    text = re.sub(r"\s*SQLSTATE: \w+;?", "", text).strip().rstrip(";.")
    missing = re.search(r"The table or view `?([^`\s]+)`? cannot be found", text)
    if missing:
        text = f"the table or view '{missing.group(1)}' cannot be found{did_you_mean(missing.group(1), list(frames))}"
    return text


def spark_where(frame: Any, where: str) -> Any:
    """Filter's ``where`` on Spark: the condition parsed as one expression (reflection refused), then
    ``frame.filter``."""
    from pyspark.errors import AnalysisException

    try:
        parser = frame.sparkSession._jsparkSession.sessionState().sqlParser()
        check_no_reflection(parser.parseExpression(where).toString(), f"Filter: where {where!r}")
        return frame.filter(where)
    except AnalysisException as exc:
        raise DataError(f"Filter: where {where!r}: {spark_message(exc, {'input': frame})}"
                        f"{tables_text({'input': frame}, 'spark')}") from exc
