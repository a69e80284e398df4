"""WriteCSV: a frame to a CSV file, written atomically."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from emberflow.engine.api import FRAME, DataError, Node, Param, ParamProblem, StepContext


class WriteCSV(Node):
    """Write a frame to a CSV file.

    The file is written beside its target under a temporary name and renamed into place, so readers never see
    half a file and a failed write leaves the previous file as it was.
    """

    kind = "dataset-save"
    inputs = {"data": FRAME}
    params = (
        Param("path", "string", doc="the CSV file to write (its folder is created)"),
        Param("header", "boolean", True, "write the column names first"),
        Param("separator", "string", ",", "the field separator", aliases=("sep", "delimiter")),
        Param("overwrite", "boolean", True, "replace an existing file"),
    )

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        if len(params["separator"]) != 1:
            raise ParamProblem(f"parameter 'separator' of WriteCSV must be one character, got "
                               f"{params['separator']!r}", "separator")

    def run_sklearn(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> None:
        target = prepare_target(params)
        write_atomic(target, lambda tmp: inputs["data"].to_csv(
            tmp, index=False, header=params["header"], sep=params["separator"]))


def prepare_target(params: dict[str, Any]) -> Path:
    target = Path(params["path"])
    if target.is_dir():
        raise DataError(f"WriteCSV: {target} is a folder; give a file path such as {target / 'out.csv'}")
    if target.exists() and not params["overwrite"]:
        raise DataError(f"WriteCSV: {target} exists and overwrite is false; choose another path")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def write_atomic(target: Path, write) -> None:
    """Call ``write(tmp_path)`` then rename the finished file over ``target``; remove it on failure."""
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
