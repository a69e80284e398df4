"""Where a run started from the editor may read and write: its steps' file parameters (ReadCSV's and WriteCSV's
``path``, LoadModel's and SaveModel's ``path``, a plugin's ``*_path``, ``*_file``, ``*_dir``) and the Spark
staging folder must lie inside the workflows folders, the store or the folders given with ``emberflow ui
--allow`` (by default the folder the UI was started in). A path is taken as the run takes it: relative to that
folder, symbolic links followed. Remote locations (``hdfs://``, ``s3a://``) are the cluster's to check; SQL
cannot reach files at all (DuckDB without external access, Spark without SQL on files)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..params import Param
from ..workflow import Workflow

PATH_SUFFIXES = ("_path", "_file", "_dir", "_folder")


def is_path_param(param: Param) -> bool:
    return bool(param.input_file) or param.name == "path" or param.name.endswith(PATH_SUFFIXES)


def local_path(value: str) -> str | None:
    """The local file path ``value`` names, or None for a remote location."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        return value
    return rest if scheme.lower() == "file" else None


def inside(value: str, roots: list[Path], base: Path) -> bool:
    path = local_path(value)
    if path is None:
        return True
    real = Path(os.path.realpath(base / path))
    return any(real.is_relative_to(root) for root in roots)


def outside_paths(workflow: Workflow, roots: list[Path], base: Path) -> list[tuple[str | None, str, tuple, str]]:
    """``(step, field, path in the file, message)`` for each file a run of ``workflow`` would reach outside
    ``roots`` (real paths), relative paths taken from ``base``."""
    found: list[tuple[str | None, str, tuple, str]] = []
    where = ", ".join(str(r) for r in roots)
    for step in workflow.steps:
        for param in step.node_class.params:
            value: Any = step.params.get(param.name)
            if is_path_param(param) and isinstance(value, str) and value and not inside(value, roots, base):
                found.append((step.id, param.name, ("steps", step.index, "params", param.name),
                              f"{step.node}'s {param.name} {value} is outside the folders runs from the editor may "
                              f"use ({where}); move the file there, or start emberflow ui with --allow FOLDER"))
    staging = workflow.spark.get("staging")
    if isinstance(staging, str) and staging and not inside(staging, roots, base):
        found.append((None, "spark", ("spark", "staging"), f"spark staging {staging} is outside the folders runs "
                      f"from the editor may use ({where})"))
    return found
