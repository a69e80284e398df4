"""The data-preparation nodes on Spark: every case gives the rows pandas gives on the same input, the types are
Spark's, a value that does not convert is named with its row across partitions, and a workflow of them reads,
prepares and writes a file as the sklearn engine does."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.errors import DataError
from nodes.prep_cases import (
    CASES,
    FRAMES,
    WORKFLOW,
    assert_same_rows,
    people,
    rows,
    run_case,
    run_node,
    write_inputs,
)

pytestmark = pytest.mark.spark


@pytest.fixture
def engines(spark):
    opened = Sessions()
    yield opened
    opened.stop_all()


@pytest.mark.parametrize("node", sorted(CASES))
def test_every_case_gives_the_rows_pandas_gives(node: str, engines: Sessions):
    for case in CASES[node]:
        assert_same_rows(run_case(case, "sklearn", engines), run_case(case, "spark", engines), case)


def spark_types(frame) -> dict[str, str]:
    return {f.name: f.dataType.simpleString() for f in frame.schema.fields}


def test_the_types_are_spark_types(engines: Sessions):
    cast = run_node("CastColumns", "spark", {"data": FRAMES["texts"]()}, CASES["CastColumns"][0].params, engines)
    assert spark_types(cast) == {"count": "bigint", "amount": "double", "flag": "boolean", "day": "date",
                                 "stamp": "timestamp_ntz"}
    filled = run_node("FillMissing", "spark", {"data": FRAMES["typed"]()}, {"values": {"whole": 2.5}}, engines)
    assert spark_types(filled)["whole"] == "double"
    frame = engines.get("spark").createDataFrame([(1,), (None,)], "n int")
    widened = run_node("FillMissing", "spark", {"data": frame}, {"values": {"n": 2.5}}, engines)
    kept = run_node("FillMissing", "spark", {"data": frame}, {"values": {"n": 2.0}}, engines)
    assert (spark_types(widened), spark_types(kept)) == ({"n": "double"}, {"n": "int"})
    assert [r[0] for r in widened.collect()] == [1.0, 2.5] and [r[0] for r in kept.collect()] == [1, 2]


def test_a_value_that_does_not_convert_is_named_with_its_row_across_partitions(engines: Sessions, spark,
                                                                              tmp_path: Path):
    values = [str(i) for i in range(1, 61)]
    values[36], values[50] = "x", "2.5"  # rows 37 and 51 of the file
    path = tmp_path / "counts.csv"
    path.write_text("count,day\n" + "".join(f"{v},2024-01-01\n" for v in values))
    spark.conf.set("spark.sql.files.maxPartitionBytes", "100")
    try:
        frame = spark.read.csv(str(path), header=True)
        assert frame.rdd.getNumPartitions() > 3
        with pytest.raises(DataError) as caught:
            run_node("CastColumns", "spark", {"data": frame}, {"types": {"day": "date", "count": "integer"}},
                     engines)
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert str(caught.value) == ("CastColumns: row 37, column 'count': 'x' is not an integer (2 values of the column "
                                 "do not convert); fix the data, or set invalid: null to make such values missing")
    with pytest.raises(DataError, match=r"row 2, column 'day': '2023-02-29' is not a date \(YYYY-MM-DD\) \(3 values"):
        run_node("CastColumns", "spark", {"data": FRAMES["bad_texts"]()}, {"types": {
            "count": "integer", "day": "date", "flag": "boolean"}}, engines)


def test_column_names_with_dots_spaces_and_backticks_are_names(engines: Sessions):
    frame = pd.DataFrame({"a.b": [1.0, None, 3.0], "c d": ["x", "y", None], "e`f": ["1", "2", "z"]})
    steps = [("DropMissing", {"columns": ["a.b", "c d"], "how": "all"}),
             ("FillMissing", {"values": {"a.b": 0, "c d": "?"}}),
             ("CastColumns", {"types": {"e`f": "integer"}, "invalid": "null"}),
             ("Filter", {"conditions": [{"column": "c d", "op": "!=", "value": "y"}]}),
             ("RenameColumns", {"mapping": {"a.b": "x.y"}}),
             ("SelectColumns", {"columns": ["e`f", "a.b"]}),
             ("Join", {"keys": ["c d"], "how": "left"})]
    for node, params in steps:
        inputs = {"left": frame, "right": frame[["c d"]].assign(**{"g.h": [1, 2, 3]})} if node == "Join" else {
            "data": frame}
        on_spark = run_node(node, "spark", inputs, params, engines).toPandas()
        expected = run_node(node, "sklearn", inputs, params, engines)
        assert rows(on_spark, node != "Join") == rows(expected, node != "Join"), node


def test_unknown_columns_are_one_error_before_any_job(engines: Sessions):
    with pytest.raises(DataError, match=r"Filter: no columns 'Age', 'citi' in the data \(did you mean 'age' for 'Age', "
                                        r"'city' for 'citi'\?\); columns: id, age, name, city, member, score"):
        run_node("Filter", "spark", {"data": people()}, {"conditions": [
            {"column": "Age", "op": ">", "value": 1}, {"column": "citi", "op": "is_null"}]}, engines)


def test_sample_keeps_about_the_share_in_order_and_the_same_rows_for_a_seed(engines: Sessions):
    frame = pd.DataFrame({"id": range(400)})
    first = run_case_ids(run_node("Sample", "spark", {"data": frame}, {"fraction": 0.25, "seed": 5}, engines))
    again = run_case_ids(run_node("Sample", "spark", {"data": frame}, {"fraction": 0.25, "seed": 5}, engines))
    other = run_case_ids(run_node("Sample", "spark", {"data": frame}, {"fraction": 0.25, "seed": 6}, engines))
    assert first == again and first != other and first == sorted(first)
    assert 60 <= len(first) <= 140 and set(first) <= set(range(400))


def run_case_ids(frame) -> list[int]:
    return [row["id"] for row in frame.collect()]


def test_a_workflow_on_spark_writes_the_rows_the_sklearn_engine_writes(run_spark_text, tmp_path: Path):
    write_inputs(tmp_path)
    written = {}
    for engine in ("sklearn", "spark"):
        text = WORKFLOW.replace("name: prepare", f"name: prepare\nengine: {engine}").replace(
            "{rows: 2}", "{rows: 10}").replace("out.csv", f"out-{engine}.csv")
        result = run_spark_text(text)
        assert result.ok, result.error
        assert result.record["engines"] == ([engine] if engine == "spark" else [])
        written[engine] = pd.read_csv(tmp_path / f"out-{engine}.csv")
    assert len(written["spark"]) == 3
    assert rows(written["spark"], ordered=False) == rows(written["sklearn"], ordered=False)
