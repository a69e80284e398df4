"""Spark's Java failures as one-line errors (the texts are those Spark 4 raises; no JVM is started here)."""

from __future__ import annotations

import pytest
from emberflow.engine.errors import DataError
from emberflow.engine.spark_errors import explain


def spark_failure(record: str) -> Exception:
    return Exception(
        "An error occurred while calling o86.collectToPython.\n"
        ": org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage 3.0 failed 1 times\n"
        "\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(DAGScheduler.scala:2935)\n"
        "Caused by: org.apache.spark.SparkException: [MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION] Malformed "
        f"records are detected in record parsing: [{record},null].\n"
        f"Caused by: org.apache.spark.SparkRuntimeException: [MALFORMED_CSV_RECORD] Malformed CSV record: {record}  "
        "SQLSTATE: KD000\n"
        "\tat org.apache.spark.sql.errors.QueryExecutionErrors$.malformedCSVRecordError(QueryExecutionErrors.scala)")


def test_a_ragged_row_is_named_and_the_modes_are_offered():
    error = explain(spark_failure("4,5"))
    assert isinstance(error, DataError) and "\n" not in str(error)
    assert str(error).startswith("malformed CSV row '4,5' (ReadCSV's mode is FAILFAST")
    assert str(error).endswith("fix the row, or set mode: DROPMALFORMED to skip such rows or PERMISSIVE to keep them")


@pytest.mark.parametrize("record", ['"Once upon', '""ha""'])
def test_a_row_with_quotes_is_not_offered_a_mode_that_would_cut_a_value_spanning_lines(record: str):
    """Read without multiLine, a quoted value that spans lines is malformed rows; DROPMALFORMED and PERMISSIVE
    then exit 0 with its pieces dropped or kept as rows."""
    message = str(explain(spark_failure(record)))
    assert f"malformed CSV row {record!r}" in message and "\n" not in message
    assert "DROPMALFORMED" not in message and "PERMISSIVE" not in message
    assert message.endswith("fix the row, or, if it is a piece of a quoted value that spans lines, remove ReadCSV's "
                            "multi_line: false (quoted line breaks are then read)")
