"""What emberflow uses of pyspark 4's API that pyspark 3.5 (the client of many production clusters) lacks, done
the 3.5 way there. Imported only where pyspark is."""

from __future__ import annotations

from typing import Any

USER_RAISED = "USER_RAISED_EXCEPTION"  # the error class of Spark 4's raise_error


def try_cast(column: Any, spark_type: str) -> Any:
    """``column`` as ``spark_type``, null where a value does not convert, whatever the session's ANSI mode (with
    ANSI on, the default in Spark 4, a plain cast fails the job instead).

    pyspark 4's ``Column.try_cast``. pyspark 3.5's Column has none, though Spark 3.5's SQL has ``try_cast``: there
    the expression it stands for, a Cast in TRY mode, is made on the JVM around the column's own expression."""
    if hasattr(type(column), "try_cast"):  # not the instance: 3.5's Column makes any attribute a field access
        return column.try_cast(spark_type)
    from pyspark import SparkContext
    from pyspark.sql import Column

    jvm = SparkContext._jvm
    expressions = jvm.org.apache.spark.sql.catalyst.expressions
    data_type = jvm.org.apache.spark.sql.types.DataType.fromDDL(spark_type)
    cast = expressions.Cast(column._jc.expr(), data_type, jvm.scala.Option.empty(), expressions.EvalMode.TRY())
    return Column(jvm.org.apache.spark.sql.Column(cast))


def raise_error(message: Any) -> Any:
    """``functions.raise_error(message)`` (a text or a column): a check put into a job, which ``spark_errors``
    turns into a one-line DataError holding the message.

    Spark 4 raises it with the error class USER_RAISED_EXCEPTION, by which ``spark_errors`` knows it; Spark 3.5 as
    a bare java.lang.RuntimeException, so there the message carries that class's tag in Spark's form."""
    from pyspark import __version__
    from pyspark.sql import Column
    from pyspark.sql import functions as F

    text = message if isinstance(message, Column) else F.lit(message)
    if int(__version__.split(".")[0]) >= 4:
        return F.raise_error(text)
    return F.raise_error(F.concat(F.lit(f"[{USER_RAISED}] "), text))
