"""A column a step names that the data lacks is answered with the close one (did you mean), case included."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import run_text


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    rows = [f"{i % 7},{(i * 3) % 5},{i % 2}" for i in range(40)]
    (tmp_path / "data.csv").write_text("f1,f2,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "renamed.csv").write_text("F1,f2,label\n" + "\n".join(rows) + "\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def pipeline(read: str = "", split: str = "", train: str = "label: label", score: str = "",
             score_data: str = "data.csv") -> str:
    return f"""
name: t
steps:
  - {{id: read, node: ReadCSV, params: {{path: data.csv, {read}}}}}
  - {{id: split, node: SplitData, inputs: {{data: read}}, params: {{seed: 1, {split}}}}}
  - {{id: train, node: TrainLR, inputs: {{data: split.train}}, params: {{{train}}}}}
  - {{id: other, node: ReadCSV, params: {{path: {score_data}}}}}
  - {{id: score, node: Score, inputs: {{model: train, data: other}}, params: {{{score}}}}}
"""


@pytest.mark.parametrize("text, step, message", [
    (pipeline(train="label: Label"), "train", "no label column 'Label' in the data (did you mean 'label'?); columns: "),
    (pipeline(train="label: label, features: [F1, f2]"), "train",
     "feature columns ['F1'] are not in the data (did you mean 'f1' for 'F1'?); columns: "),
    (pipeline(score="label: LABEL"), "score", "Score: no label column 'LABEL' in the data (did you mean 'label'?)"),
    (pipeline(score_data="renamed.csv"), "score",
     "the data lacks the model's feature columns ['f1'] (did you mean 'F1' for 'f1'?); columns: F1, f2, label"),
    (pipeline(split="stratify: Label"), "split", "SplitData: no column 'Label' to stratify by (did you mean 'label'?)"),
    (pipeline(read="dtypes: {F2: float}"), "read",
     "ReadCSV: dtypes name columns ['F2'] that data.csv does not have (did you mean 'f2' for 'F2'?)"),
])
def test_a_missing_column_names_the_close_one(folder: Path, text: str, step: str, message: str):
    result = run_text(text, folder / "store")
    assert not result.ok and result.exit_code == 2
    assert result.record["error"]["step"] == step
    assert message in str(result.error)
