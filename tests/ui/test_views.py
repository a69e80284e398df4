"""What the pages compute without the web framework: file trees, searches, previews, workflow catalogs."""

from __future__ import annotations

from pathlib import Path

from emberflow.engine.ui.views import TreeRow, matches, text_preview, tree_rows
from emberflow.engine.ui.workflows import workflow_catalog


def test_tree_rows_put_folders_first_with_their_total_size():
    files = {"b.txt": {"size": 1}, "model/stages/x/data.parquet": {"size": 100},
             "model/metadata/part-0": {"size": 10}, "model/metadata/_SUCCESS": {"size": 0}, "a.json": {"size": 5}}
    assert tree_rows(files) == [
        TreeRow(0, "model/", "", 110, True),
        TreeRow(1, "metadata/", "", 10, True),
        TreeRow(2, "_SUCCESS", "model/metadata/_SUCCESS", 0, False),
        TreeRow(2, "part-0", "model/metadata/part-0", 10, False),
        TreeRow(1, "stages/", "", 100, True),
        TreeRow(2, "x/", "", 100, True),
        TreeRow(3, "data.parquet", "model/stages/x/data.parquet", 100, False),
        TreeRow(0, "a.json", "a.json", 5, False),
        TreeRow(0, "b.txt", "b.txt", 1, False),
    ]


def test_search_matches_every_word_in_name_format_engine_or_alias():
    model = {"name": "churn-lr", "format": "spark-ml", "engine": "spark", "aliases": {"prod": 3}}
    assert matches(model, "churn") and matches(model, "SPARK prod") and matches(model, "lr spark-ml")
    assert not matches(model, "churn h2o") and not matches(model, "staging")


def test_previews_show_text_and_refuse_binary(tmp_path: Path):
    (tmp_path / "t.json").write_text('{"a": 1}')
    (tmp_path / "b.bin").write_bytes(b"PK\x03\x04\x00\x01")
    (tmp_path / "big.txt").write_text("x" * 300_000)
    assert text_preview(tmp_path / "t.json") == '{"a": 1}'
    assert text_preview(tmp_path / "b.bin") is None
    assert text_preview(tmp_path / "big.txt").endswith("(cut at 256 KB)")


def test_workflow_catalog_keys_folders_and_files_without_clashes(tmp_path: Path):
    first, second = tmp_path / "one" / "flows", tmp_path / "two" / "flows"
    for folder in (first, second, first / "sub"):
        folder.mkdir(parents=True)
    (first / "a.yaml").write_text("x")
    (first / "sub" / "b.yml").write_text("x")
    (first / "notes.txt").write_text("x")
    (second / "a.yaml").write_text("x")
    single = tmp_path / "c.yaml"
    single.write_text("x")
    catalog = workflow_catalog([first, second, single, tmp_path / "missing"])
    assert catalog == {"flows/a.yaml": first / "a.yaml", "flows/sub/b.yml": first / "sub" / "b.yml",
                       "flows/a.yaml~2": second / "a.yaml", "c.yaml": single}
