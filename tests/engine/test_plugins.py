"""A third party's node, installed as a distribution with an `emberflow.nodes` entry point, runs in a workflow
exactly as the built-in nodes do (they are registered the same way)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import textwrap
from pathlib import Path

PLUGIN = '''
from emberflow.engine.api import FRAME, Node, Param


class AddRatio(Node):
    """Add a column holding one column divided by another."""

    kind = "transform"
    inputs = {"data": FRAME}
    outputs = {"data": FRAME}
    params = (Param("numerator", "string"), Param("denominator", "string"), Param("column", "string", "ratio"))

    def run_sklearn(self, ctx, inputs, params):
        frame = inputs["data"].copy()
        frame[params["column"]] = frame[params["numerator"]] / frame[params["denominator"]]
        return frame
'''

WORKFLOW = """
name: with-plugin
steps:
  - {id: read, node: ReadCSV, params: {path: in.csv}}
  - {id: ratio, node: AddRatio, inputs: {data: read}, params: {numerator: a, denominator: b, column: a_per_b}}
  - {id: write, node: WriteCSV, inputs: {data: ratio}, params: {path: out.csv}}
"""


def install_plugin(site: Path) -> None:
    """Lay the plugin out as an installed distribution: a module plus its .dist-info with entry points."""
    (site / "ratio_plugin.py").write_text(textwrap.dedent(PLUGIN))
    info = site / "ratio_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ratio-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[emberflow.nodes]\nAddRatio = ratio_plugin:AddRatio\n")


def emberflow(*args: str, cwd: Path, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "emberflow.engine.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_plugin_node_is_listed_validated_and_run(tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    install_plugin(site)
    (tmp_path / "in.csv").write_text("a,b\n1,2\n9,3\n")
    (tmp_path / "wf.yaml").write_text(WORKFLOW)

    listed = emberflow("nodes", "list", cwd=tmp_path, site=site)
    assert "AddRatio" in listed.stdout and "ReadCSV" in listed.stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text(WORKFLOW.replace("column: a_per_b", "colum: a_per_b"))
    refused = emberflow("validate", str(bad), cwd=tmp_path, site=site)
    assert refused.returncode == 2 and "unknown parameter 'colum' for AddRatio" in refused.stderr

    ran = emberflow("run", "wf.yaml", "--store", "store", cwd=tmp_path, site=site)
    assert ran.returncode == 0, ran.stderr
    with open(tmp_path / "out.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["a_per_b"]) for r in rows] == [0.5, 3.0]


def test_without_the_plugin_the_node_is_unknown(tmp_path: Path):
    (tmp_path / "wf.yaml").write_text(WORKFLOW)
    result = emberflow("validate", "wf.yaml", cwd=tmp_path, site=tmp_path)
    assert result.returncode == 2 and "unknown node 'AddRatio'" in result.stderr


def test_a_broken_plugin_is_named_in_the_error(tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    install_plugin(site)
    (site / "ratio_plugin.py").write_text("raise ImportError('missing dependency frobnicate')\n")
    (tmp_path / "wf.yaml").write_text(WORKFLOW)
    result = emberflow("validate", "wf.yaml", cwd=tmp_path, site=site)
    assert result.returncode == 1
    assert "node plugin 'AddRatio'" in result.stderr and "frobnicate" in result.stderr
    assert "Traceback" not in result.stderr
