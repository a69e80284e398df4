"""Projection pushdown: which columns later steps read of each frame, and ReadCSV converting only those on the
sklearn engine (with the same results, the same errors, and every column when frames are shown)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from emberflow.engine.column_needs import column_needs
from emberflow.engine.runner import Reporter, run_workflow
from emberflow.engine.store import ModelStore
from emberflow.engine.workflow import parse_workflow

HEADER = ["id", "age", "city", "score", "note", "label"]


def needs_of(steps: str, engine: str = "sklearn") -> dict:
    workflow = parse_workflow(f"name: t\nengine: {engine}\nsteps:\n{steps}")
    return column_needs(workflow)


READ = "  - {id: read, node: ReadCSV, params: {path: data.csv}}\n"


@pytest.mark.parametrize(("steps", "expected"), [
    ("  - {id: keep, node: Filter, inputs: {data: read}, params: {conditions: [{column: age, op: '>', value: 1}]}}\n"
     "  - {id: pick, node: SelectColumns, inputs: {data: keep}, params: {columns: [city, score]}}\n"
     "  - {id: cast, node: CastColumns, inputs: {data: pick}, params: {types: {score: float}}}\n"
     "  - {id: sql, node: SQL, inputs: {input: cast}, params: {query: SELECT 1 FROM input}}\n",
     {"age", "city", "score"}),
    ("  - {id: pick, node: SelectColumns, inputs: {data: read}, params: {columns: [city]}}\n"
     "  - {id: other, node: SelectColumns, inputs: {data: read}, params: {columns: [age]}}\n",
     {"age", "city"}),
    ("  - {id: ren, node: RenameColumns, inputs: {data: read}, params: {mapping: {city: town}}}\n"
     "  - {id: pick, node: SelectColumns, inputs: {data: ren}, params: {columns: [town, age]}}\n",
     {"age", "city", "town"}),
    ("  - {id: split, node: SplitData, inputs: {data: read}, params: {stratify: label}}\n"
     "  - {id: a, node: SelectColumns, inputs: {data: split.train}, params: {columns: [age]}}\n"
     "  - {id: b, node: SelectColumns, inputs: {data: split.test}, params: {columns: [score]}}\n",
     {"age", "score", "label"}),
    ("  - {id: drop, node: DropMissing, inputs: {data: read}, params: {columns: [note]}}\n"
     "  - {id: fill, node: FillMissing, inputs: {data: drop}, params: {values: {age: 0}}}\n"
     "  - {id: lim, node: Limit, inputs: {data: fill}, params: {rows: 3}}\n"
     "  - {id: pick, node: SelectColumns, inputs: {data: lim}, params: {drop: [id]}}\n"
     "  - {id: two, node: SelectColumns, inputs: {data: pick}, params: {columns: [city]}}\n",
     {"age", "city", "id", "note"}),
])
def test_read_needs_the_columns_later_steps_name(steps: str, expected: set[str]):
    assert needs_of(READ + steps)["read"] == {"data": frozenset(expected)}


@pytest.mark.parametrize("steps", [
    "  - {id: write, node: WriteCSV, inputs: {data: read}, params: {path: out.csv}}\n",
    "  - {id: sql, node: SQL, inputs: {input: read}, params: {query: SELECT age FROM input}}\n",
    "  - {id: keep, node: Filter, inputs: {data: read}, params: {where: age > 1}}\n"
    "  - {id: pick, node: SelectColumns, inputs: {data: keep}, params: {columns: [city]}}\n",
    "  - {id: drop, node: DropMissing, inputs: {data: read}}\n"
    "  - {id: pick, node: SelectColumns, inputs: {data: drop}, params: {columns: [city]}}\n",
    "  - {id: fill, node: FillMissing, inputs: {data: read}, params: {strategy: mean}}\n"
    "  - {id: pick, node: SelectColumns, inputs: {data: fill}, params: {columns: [city]}}\n",
    "  - {id: pick, node: SelectColumns, inputs: {data: read}, params: {columns: [city]}}\n"
    "  - {id: all, node: Limit, inputs: {data: read}, params: {rows: 1}}\n",
    "  - {id: r2, node: ReadCSV, params: {path: other.csv}}\n"
    "  - {id: join, node: Join, inputs: {left: read, right: r2}, params: {keys: [id]}}\n"
    "  - {id: pick, node: SelectColumns, inputs: {data: join}, params: {columns: [city]}}\n",
    "  - {id: drop, node: SelectColumns, inputs: {data: read}, params: {drop: [age]}}\n"
    "  - {id: pick, node: SelectColumns, inputs: {data: drop}, params: {columns: [age, city]}}\n",
], ids=["write", "sql", "where", "drop-any", "fill-strategy", "one-reader-reads-all", "join", "reads-a-dropped-one"])
def test_read_needs_every_column_when_a_later_step_may_read_any(steps: str):
    assert needs_of(READ + steps)["read"] == {"data": None}


def test_a_random_split_off_the_sklearn_engine_reads_every_column():
    """H2O and Spark pick rows by how the frame is cut up, which its width may change."""
    steps = ("  - {id: part, node: Sample, inputs: {data: read}, params: {fraction: 0.5}}\n"
             "  - {id: pick, node: SelectColumns, inputs: {data: part}, params: {columns: [city]}}\n")
    assert needs_of(READ + steps, "sklearn")["read"] == {"data": frozenset({"city"})}
    assert needs_of(READ + steps, "spark")["read"] == {"data": None}


def write_data(path: Path, rows: int = 40, header: list[str] = HEADER, bom: bool = False) -> Path:
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i in range(rows):
            writer.writerow([i, 20 + i % 30, ["Oslo", "Lima", "Pune"][i % 3], i / 7, "" if i % 5 else "n/a", i % 2])
    return path


class FrameSpy(Reporter):
    """Keeps the column names of every frame a step produced."""

    def __init__(self, shows_frames: bool = False):
        super().__init__(None)
        self.shows_frames = shows_frames
        self.columns: dict[str, list[str]] = {}

    def step_outputs(self, step, produced, state) -> None:
        for value in produced.values():
            self.columns[step.id] = list(getattr(value, "column_names", None) or value.columns)


PIPELINE = """name: prune
steps:
  - {{id: read, node: ReadCSV, params: {{path: {data}{read_extra}}}}}
  - {{id: keep, node: Filter, inputs: {{data: read}}, params: {{conditions: [{{column: age, op: '>=', value: 30}}]}}}}
  - {{id: pick, node: SelectColumns, inputs: {{data: keep}}, params: {{columns: [{columns}]}}}}
  - {{id: sql, node: SQL, inputs: {{input: pick}}, params: {{query: "SELECT city, COUNT(*) AS n, SUM(score) AS s FROM
      input GROUP BY city ORDER BY city"}}}}
  - {{id: write, node: WriteCSV, inputs: {{data: sql}}, params: {{path: {out}}}}}
"""


def run_pipeline(tmp_path: Path, data: Path, out: str, *, columns: str = "city, score", read_extra: str = "",
                 shows_frames: bool = False):
    text = PIPELINE.format(data=data, out=tmp_path / out, columns=columns, read_extra=read_extra)
    spy = FrameSpy(shows_frames)
    result = run_workflow(parse_workflow(text), ModelStore(tmp_path / "store"), reporter=spy)
    return result, spy


def test_read_converts_only_what_later_steps_read_and_the_result_is_the_same(tmp_path: Path):
    data = write_data(tmp_path / "data.csv")
    pruned, spy = run_pipeline(tmp_path, data, "pruned.csv")
    whole, all_columns = run_pipeline(tmp_path, data, "whole.csv", shows_frames=True)
    assert pruned.ok and whole.ok
    assert spy.columns["read"] == ["age", "city", "score"]
    assert all_columns.columns["read"] == HEADER
    assert pruned.record["steps"][0]["notes"] == ["3 of 6 columns converted, those later steps use"]
    assert "notes" not in whole.record["steps"][0]
    assert (tmp_path / "pruned.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_a_byte_order_mark_does_not_hide_the_first_column(tmp_path: Path):
    data = write_data(tmp_path / "data.csv", header=["age", *[h for h in HEADER if h != "age"]], bom=True)
    pruned, spy = run_pipeline(tmp_path, data, "pruned.csv")
    assert pruned.ok, pruned.error
    assert spy.columns["read"] == ["age", "city", "score"]


def test_a_column_no_step_has_is_reported_as_without_pruning(tmp_path: Path):
    data = write_data(tmp_path / "data.csv")
    result, _ = run_pipeline(tmp_path, data, "out.csv", columns="city, scor")
    assert not result.ok
    message = str(result.error)
    assert "scor" in message and "did you mean 'score'" in message and "note" in message


def test_a_dtype_column_is_still_read_and_checked(tmp_path: Path):
    data = write_data(tmp_path / "data.csv")
    result, spy = run_pipeline(tmp_path, data, "out.csv", read_extra=", dtypes: {note: float}")
    assert not result.ok
    assert "data.csv: column 'note' (dtype float) has the value 'n/a'; fix the value or change" in str(result.error)
    assert "read" not in spy.columns


def test_duplicate_names_in_the_header_stay_an_error(tmp_path: Path):
    data = write_data(tmp_path / "data.csv", header=["id", "age", "city", "score", "city", "label"])
    result, _ = run_pipeline(tmp_path, data, "out.csv", columns="score")
    assert not result.ok
    assert "duplicate column names ['city']" in str(result.error)


def test_bytes_that_are_not_utf8_stop_the_read_only_in_a_column_it_converts(tmp_path: Path):
    data = write_data(tmp_path / "data.csv")
    text = data.read_bytes().replace(b"n/a", b"n/\xff", 1)
    data.write_bytes(text)
    pruned, _ = run_pipeline(tmp_path, data, "pruned.csv")
    whole, _ = run_pipeline(tmp_path, data, "whole.csv", shows_frames=True)
    assert pruned.ok, pruned.error
    assert not whole.ok and "is not valid utf-8 text (in columns ['note'])" in str(whole.error)


def test_a_dtype_for_a_column_the_file_lacks_lists_every_column_as_without_pruning(tmp_path: Path):
    data = write_data(tmp_path / "data.csv")
    result, _ = run_pipeline(tmp_path, data, "out.csv", read_extra=", dtypes: {scores: float}")
    assert not result.ok
    assert str(result.error).endswith("columns: id, age, city, score, note, label")


def test_a_later_step_asking_for_a_dropped_column_fails_as_without_pruning(tmp_path: Path):
    data = write_data(tmp_path / "data.csv")
    text = (f"name: t\nsteps:\n  - {{id: read, node: ReadCSV, params: {{path: {data}}}}}\n"
            "  - {id: drop, node: SelectColumns, inputs: {data: read}, params: {drop: [age]}}\n"
            "  - {id: pick, node: SelectColumns, inputs: {data: drop}, params: {columns: [age]}}\n")
    result = run_workflow(parse_workflow(text), ModelStore(tmp_path / "store"), reporter=FrameSpy())
    assert result.error.step_id == "pick"
    assert "no column 'age' in the data; columns: id, city, score, note, label" in str(result.error)


def test_an_escaped_header_name_is_split_as_arrow_splits_it(tmp_path: Path):
    """With escape \\, the header x,\\x,c has the name x twice: an error, pruned or not."""
    data = tmp_path / "data.csv"
    data.write_text("x,\\x,c\n1,2,3\n")
    text = (f"name: t\nsteps:\n  - {{id: read, node: ReadCSV, params: {{path: {data}, escape: '\\'}}}}\n"
            "  - {id: pick, node: SelectColumns, inputs: {data: read}, params: {columns: [c]}}\n")
    result = run_workflow(parse_workflow(text), ModelStore(tmp_path / "store"), reporter=FrameSpy())
    assert not result.ok
    assert "duplicate column names ['x']" in str(result.error)


@pytest.mark.parametrize("shows_frames", [False, True])
def test_a_header_name_that_is_not_utf8_stops_the_read_pruned_or_not(tmp_path: Path, shows_frames: bool):
    data = write_data(tmp_path / "data.csv")
    data.write_bytes(data.read_bytes().replace(b"note", b"n\xf6te", 1))
    result, spy = run_pipeline(tmp_path, data, "out.csv", shows_frames=shows_frames)
    assert result.error.step_id == "read"
    assert "data.csv:1 is not valid utf-8 text (in the header); set encoding:" in str(result.error)
