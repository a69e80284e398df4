"""The light entry-point reader finds what importlib.metadata finds, without importing it."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
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


def test_every_installed_distribution_has_the_version_importlib_metadata_gives():
    from emberflow.engine.entry_points import distribution_version

    names = {d.metadata["Name"] for d in importlib.metadata.distributions()}
    assert {"scikit-learn", "numpy", "emberflow"} <= names
    for name in names:
        assert distribution_version(name) == importlib.metadata.version(name), name
    assert distribution_version("scikit_learn") == importlib.metadata.version("scikit-learn")
    assert distribution_version("no-such-distribution-here") is None


def test_the_version_is_the_header_of_the_first_distribution_on_the_path(tmp_path: Path, monkeypatch):
    from emberflow.engine.entry_points import distribution_version

    first = tmp_path / "a" / "demo_dist-2.0.dist-info"
    first.mkdir(parents=True)
    (first / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-dist\nSummary: a summary folded\n"
                                    "  Version: 9 (a folded line, not a header)\nVersion: 2.0\n\nVersion: 3 (body)\n")
    dist(tmp_path / "b", "Demo.Dist", "")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "old_egg-0.5-py3.11.egg-info").write_text("Metadata-Version: 1.0\nName: old-egg\nVersion: 0.5\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path / p) for p in "abc"] + sys.path)
    for name, version in (("demo-dist", "2.0"), ("old_egg", "0.5")):
        assert distribution_version(name) == importlib.metadata.version(name) == version


def test_recording_library_versions_does_not_parse_metadata_with_the_email_package():
    """A saved version's manifest lists its libraries' versions: read from the distributions' headers, not through
    importlib.metadata (which parses every METADATA file with the email package, 1.5-3 ms per library)."""
    probe = ("import sys\nfrom emberflow.engine.formats import installed_versions\n"
             "found = installed_versions(('scikit-learn', 'numpy', 'scipy'))\n"
             "print(found['scikit-learn'], 'email.parser' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [importlib.metadata.version("scikit-learn"), "False"]
