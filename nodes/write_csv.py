"""WriteCSV: a frame to a CSV file, written atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emberflow.engine.api import FRAME, DataError, Node, Param, ParamProblem
from emberflow.nodes.arrow_csv import write_frames

if TYPE_CHECKING:
    from emberflow.engine.api import StepContext


class WriteCSV(Node):
    """Write a frame to a CSV file.

    The file is written beside its target under a temporary name and renamed into place, so readers never see
    half a file and a failed write leaves the previous file as it was.

    On Spark it is one CSV file too (the rows gathered into one partition), or, with ``parts: true``, Spark's
    folder of part files (written in parallel), likewise written under a temporary name and renamed into place.

    On H2O, when H2O runs on this machine (started by this process), H2O writes the file itself, under a
    temporary name beside the target that is not hidden (H2O refuses hidden paths); the file reads back equal,
    with every text value quoted and numbers as Java writes them. Otherwise (a cluster joined by url, a path with
    a hidden folder, an unusual separator, time columns: see ``h2o_csv``) the rows come through pandas and the
    file is written as on the sklearn engine.

    On the sklearn engine the rows go through Arrow's CSV writer (pandas' for columns Arrow should not write,
    such as dates); batches (ReadCSV's ``batch_rows``) are written one after the other as they come. An Arrow
    table (from ReadCSV or SQL) is written as it is, the same bytes as from its pandas frame.
    """

    kind = "dataset-save"
    inputs = {"data": FRAME}
    takes_batches = True
    takes_arrow = True
    params = (
        Param("path", "string", doc="the CSV file to write (its folder is created)"),
        Param("header", "boolean", True, "write the column names first"),
        Param("separator", "string", ",", "the field separator", aliases=("sep", "delimiter")),
        Param("overwrite", "boolean", True, "replace an existing file"),
        Param("parts", "boolean", False, "Spark: write a folder of part files (one per partition) at path",
              engines=("spark",)),
    )

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        if len(params["separator"]) != 1:
            raise ParamProblem(f"parameter 'separator' of WriteCSV must be one character, got "
                               f"{params['separator']!r}", "separator")

    def run_sklearn(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> None:
        from emberflow.engine.api import FrameBatches

        target = prepare_target(params)
        data = inputs["data"]
        frames = data if isinstance(data, FrameBatches) else [data]

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as handle:
                write_frames(frames, handle, params["header"], params["separator"])

        write_atomic(target, write)

    def run_spark(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> None:
        from emberflow.engine.api import spark_errors

        frame = inputs["data"]
        if "://" in params["path"]:  # hdfs://, s3a://, file:///...: Spark's file systems, not this machine's
            with spark_errors():
                write_spark_uri(ctx.session(), frame, params)
            return
        target = Path(params["path"])
        if params["parts"]:
            if target.exists() and not params["overwrite"]:
                raise DataError(f"WriteCSV: {target} exists and overwrite is false; choose another path")
            if target.is_file():
                raise DataError(f"WriteCSV: {target} is a file; parts: true writes a folder of part files")
            target.parent.mkdir(parents=True, exist_ok=True)
            with spark_errors():
                write_folder_atomic(target, lambda folder: write_spark_csv(frame, folder, params))
            return
        target = prepare_target(params)
        with spark_errors():
            write_atomic(target, lambda tmp: write_single_csv(frame, tmp, params))

    def run_h2o(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> None:
        from emberflow.engine.api import to_pandas
        from emberflow.nodes.h2o_csv import export_h2o_csv

        if not export_h2o_csv(inputs["data"], prepare_target(params), params):
            self.run_sklearn(ctx, {"data": to_pandas(inputs["data"])}, params)


def prepare_target(params: dict[str, Any]) -> Path:
    target = Path(params["path"])
    if target.is_dir():
        raise DataError(f"WriteCSV: {target} is a folder; give a file path such as {target / 'out.csv'}")
    if target.exists() and not params["overwrite"]:
        raise DataError(f"WriteCSV: {target} exists and overwrite is false; choose another path")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def write_atomic(target: Path, write, hidden: bool = True) -> None:
    """Call ``write(tmp_path)`` then rename the finished file over ``target``; remove it on failure. The temporary
    name is hidden unless ``hidden`` is false (for a writer that refuses hidden files, such as H2O)."""
    tmp = target.with_name(f"{'.' if hidden else ''}{target.name}.{os.urandom(16).hex()}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_spark_csv(frame, folder: Path, params: dict[str, Any]) -> None:
    """Spark's CSV writer into ``folder``; quotes inside values are doubled (RFC 4180), as pandas writes them."""
    frame.write.options(header=params["header"], sep=params["separator"], quote='"', escape='"').mode(
        "errorifexists").csv(folder.resolve().as_uri())


def write_single_csv(frame, target: Path, params: dict[str, Any]) -> None:
    """One CSV file from a Spark frame: written as a single partition beside the target, then moved to it."""
    import shutil  # here, not at the top: validating a workflow need not load it

    folder = target.with_name(target.name + ".parts")
    try:
        write_spark_csv(frame.coalesce(1), folder, params)
        parts = sorted(folder.glob("part-*"))
        if not parts and not is_local_master(frame):
            raise DataError(f"WriteCSV: the Spark cluster cannot write {target} for this machine: its executors "
                            "write on the workers' machines, where this path is not this machine's folder; write "
                            "to a location every worker and this machine reach (hdfs://..., s3a://..., or a shared "
                            "folder as file:///...)")
        if len(parts) != 1:
            raise DataError(f"WriteCSV: Spark wrote {len(parts)} part files where one was expected, in a folder "
                            "the driver cannot see? With a cluster, write to a shared path with parts: true")
        os.replace(parts[0], target)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_folder_atomic(target: Path, write) -> None:
    """Call ``write(tmp_folder)`` then put the finished folder at ``target`` (replacing one that is there)."""
    import shutil

    tmp = target.with_name(f".{target.name}.{os.urandom(16).hex()}.tmp")
    old = target.with_name(f".{target.name}.{os.urandom(16).hex()}.old")
    try:
        write(tmp)
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def is_local_master(frame) -> bool:
    master = frame.sparkSession.sparkContext.master
    return master == "local" or master.startswith("local[")


def write_spark_uri(spark, frame, params: dict[str, Any]) -> None:
    """WriteCSV to a Hadoop URI, through Spark's writer and Hadoop's FileSystem API on the driver: a folder of
    part files (``parts: true``), or one file: a single partition written into a folder beside the target, its
    part file renamed to the target, the folder deleted."""
    uri = params["path"]
    jvm, conf = spark.sparkContext._jvm, spark.sparkContext._jsc.hadoopConfiguration()
    target = jvm.org.apache.hadoop.fs.Path(uri)
    fs = target.getFileSystem(conf)
    if fs.exists(target) and not params["overwrite"]:
        raise DataError(f"WriteCSV: {uri} exists and overwrite is false; choose another path")
    if params["parts"]:
        frame.write.options(header=params["header"], sep=params["separator"], quote='"', escape='"').mode(
            "overwrite").csv(uri)
        return
    folder = jvm.org.apache.hadoop.fs.Path(f"{uri}.{os.urandom(16).hex()}.parts")
    try:
        frame.coalesce(1).write.options(header=params["header"], sep=params["separator"], quote='"',
                                        escape='"').mode("errorifexists").csv(folder.toString())
        parts = [s.getPath() for s in fs.listStatus(folder) if s.getPath().getName().startswith("part-")]
        if len(parts) != 1:
            raise DataError(f"WriteCSV: Spark wrote {len(parts)} part files where one was expected at {folder}")
        if fs.exists(target):
            fs.delete(target, True)
        if not fs.rename(parts[0], target):
            raise DataError(f"WriteCSV: could not move {parts[0]} to {uri}")
    finally:
        fs.delete(folder, True)
