"""Paths on a cluster: WriteCSV writes to a Hadoop URI through Spark's file systems (here file:///, which the
local session's executors share), and a file the executors cannot find is one line saying why and what to use."""

from __future__ import annotations

from pathlib import Path

import pytest
from emberflow.engine import spark_errors
from emberflow.engine.errors import DataError
from emberflow.nodes.write_csv import WriteCSV

pytestmark = pytest.mark.spark


def test_writecsv_writes_a_uri_as_one_file_or_a_folder_of_parts(node, spark, tmp_path: Path):
    frame = spark.createDataFrame([(1, "a"), (2, "b"), (3, "c")], ["n", "s"]).repartition(2)
    target = tmp_path / "out" / "rows.csv"
    node(WriteCSV, {"data": frame}, path=target.as_uri())
    header, *rows = target.read_text().splitlines()
    assert header == "n,s" and sorted(rows) == ["1,a", "2,b", "3,c"]
    assert sorted(p.name for p in target.parent.iterdir() if not p.name.startswith(".")) == ["rows.csv"]
    with pytest.raises(DataError, match="exists and overwrite is false"):
        node(WriteCSV, {"data": frame}, path=target.as_uri(), overwrite=False)

    folder = tmp_path / "parts"
    node(WriteCSV, {"data": frame}, path=folder.as_uri(), parts=True)
    rows = [line for part in sorted(folder.glob("part-*")) for line in part.read_text().splitlines()]
    assert sorted(rows) == ["1,a", "2,b", "3,c", "n,s", "n,s"]


class FakeJavaError(Exception):
    pass


FakeJavaError.__module__ = "py4j.protocol"

EXECUTOR_MISSING = """An error occurred while calling o123.csv.
: org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage 1.0 failed 4 times
Caused by: org.apache.spark.SparkFileNotFoundException: [FAILED_READ_FILE.FILE_NOT_EXIST] Error while reading file \
file:///data/new.csv. File does not exist. SQLSTATE: 42K03
\tat org.apache.spark.sql.errors.QueryExecutionErrors$.fileNotExistError(QueryExecutionErrors.scala:1)
"""


def test_a_file_the_executors_cannot_find_on_a_cluster_is_one_line(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(spark_errors, "_cluster_master", lambda: "spark://10.0.0.1:7077")
    error = spark_errors.explain(FakeJavaError(EXECUTOR_MISSING))
    assert isinstance(error, DataError)
    assert str(error) == ("the Spark cluster (spark://10.0.0.1:7077) cannot see file:///data/new.csv: its executors "
                          "read files on the workers' machines, and this path is on the driver's disk alone; put "
                          "the file where every worker reaches it (hdfs://..., s3a://..., or a shared folder as "
                          "file:///...)")
    monkeypatch.setattr(spark_errors, "_cluster_master", lambda: None)
    assert "cannot see" not in str(spark_errors.explain(FakeJavaError(EXECUTOR_MISSING)))
