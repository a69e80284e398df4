"""The pyspark 4 API that emberflow uses, done the pyspark 3.5 way there (make test runs this with both)."""

from __future__ import annotations

import pytest
from emberflow.engine.errors import DataError
from emberflow.engine.spark_compat import raise_error, try_cast
from emberflow.engine.spark_errors import spark_errors

pytestmark = pytest.mark.spark

TEXTS = ["12", " 7 ", "x", "9" * 30, "2024-02-30", "2024-02-03", None]


@pytest.fixture(params=["true", "false"], ids=["ansi", "legacy"])
def ansi(spark, request):
    """The session's ANSI mode, set for the test (a plain cast fails the job with ANSI on, else it may wrap)."""
    before = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", request.param)
    yield request.param
    spark.conf.set("spark.sql.ansi.enabled", before)


def test_try_cast_is_null_where_a_text_does_not_convert(spark, ansi):
    from pyspark.sql import functions as F

    frame = spark.createDataFrame([(text,) for text in TEXTS], "t string")
    text = F.trim(F.col("t"))
    rows = frame.select(try_cast(text, "bigint").alias("whole"), try_cast(text, "double").alias("number"),
                        try_cast(text, "date").alias("day")).collect()
    assert [row.whole for row in rows] == [12, 7, None, None, None, None, None]
    assert [row.number for row in rows][:4] == [12.0, 7.0, None, float("9" * 30)]
    assert [str(row.day) if row.day else None for row in rows] == [None] * 5 + ["2024-02-03", None]


def test_try_cast_of_numbers_out_of_range_is_null_not_wrapped(spark, ansi):
    from pyspark.sql import functions as F

    frame = spark.createDataFrame([(3.0,), (1e30,), (-1e30,), (3e9,)], "x double")
    column = F.col("x")
    rows = frame.select(try_cast(column, "bigint").alias("whole"), try_cast(column, "int").alias("int")).collect()
    assert [row.whole for row in rows] == [3, None, None, 3_000_000_000]
    assert [row.int for row in rows] == [3, None, None, None]


def test_a_check_raised_in_a_job_is_one_data_error_holding_its_message(spark):
    from pyspark.sql import functions as F

    frame = spark.createDataFrame([("fine",), ("odd",)], "t string")
    refused = raise_error(F.concat(F.lit("Node: the value '"), F.col("t"), F.lit("' does not fit")))
    checked = frame.select(F.when(F.col("t") == "odd", refused).otherwise(F.col("t")).alias("t"))
    with pytest.raises(DataError) as caught, spark_errors():
        checked.collect()
    assert str(caught.value) == "Node: the value 'odd' does not fit"
