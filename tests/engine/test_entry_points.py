"""The light entry-point reader finds what importlib.metadata finds, without importing it."""

from __future__ import annotations

import importlib.metadata
import re
import sys
import zipfile
from pathlib import Path

import pytest
from emberflow.engine.entry_points import entry_points


def described(points) -> list[tuple[str, str, str | None]]:
    """Name, value and distribution (normalized: the reader names it after its folder, as pip writes it)."""
    def dist(p) -> str | None:
        name = p.dist_name if hasattr(p, "dist_name") else (p.dist.name if p.dist else None)
        return re.sub(r"[-_.]+", "_", name).lower() if name else None

    return [(p.name, p.value, dist(p)) for p in points]


@pytest.mark.parametrize("group", ["emberflow.nodes", "console_scripts", "emberflow.formats"])
def test_same_entry_points_as_importlib_metadata(group: str):
    expected = described(importlib.metadata.entry_points(group=group))
    got = described(entry_points(group))
    assert sorted(got) == sorted(expected)
    if group == "emberflow.nodes":
        assert {"ReadCSV", "Score", "WriteCSV"} <= {name for name, _, _ in got}


def dist(folder: Path, name: str, text: str) -> None:
    info = folder / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(text)


def test_the_first_distribution_of_a_name_on_the_path_wins(tmp_path: Path, monkeypatch):
    dist(tmp_path / "a", "demo_plugin", "# a comment\n[emberflow.test]\n one = demo_a:thing \n[other]\nx = y:z\n")
    dist(tmp_path / "b", "Demo.Plugin", "[emberflow.test]\ntwo = demo_b:thing\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path / "a"), str(tmp_path / "b"), *sys.path])
    expected = described(importlib.metadata.entry_points(group="emberflow.test"))
    assert described(entry_points("emberflow.test")) == expected == [("one", "demo_a:thing", "demo_plugin")]


def test_a_zip_on_the_path_is_read_through_importlib_metadata(tmp_path: Path, monkeypatch):
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("zipped-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\nVersion: 1.0\n")
        bundle.writestr("zipped-1.0.dist-info/entry_points.txt", "[emberflow.test]\nzipped = json:dumps\n")
    monkeypatch.setattr(sys, "path", [str(archive), *sys.path])
    (point,) = entry_points("emberflow.test")
    assert (point.name, point.dist_name) == ("zipped", "zipped")
    assert point.load() is __import__("json").dumps


def test_load_follows_attributes_and_ignores_extras():
    from emberflow.engine.entry_points import EntryPoint

    assert EntryPoint("p", "os.path:join", "g", None).load() is __import__("os").path.join
    assert EntryPoint("p", "collections:OrderedDict.fromkeys [extra]", "g", None).load() == \
        __import__("collections").OrderedDict.fromkeys
