"""Spark's failures as emberflow's one-line errors.

Spark reports a bad row or a missing file as a Java exception whose text is a long stack trace with the cause
buried at the end; and since Spark reads lazily, a malformed CSV row surfaces in whichever step first runs a job.
``spark_errors`` turns what Spark raises inside a step into a ``DataError`` saying what was wrong and how to fix
it, or, for anything else, an ``EmberflowError`` holding the root cause's message (``--debug`` shows the rest).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from .errors import DataError, EmberflowError
from .spark_compat import USER_RAISED

# "SomeException: message" lines of a Java stack trace, "Caused by: ..." ones included.
JAVA_CAUSE = re.compile(r"^(?:Caused by: |: )?[\w.$]+(?:Exception|Error): (.+)$")
ERROR_CLASS = re.compile(r"\[([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)*)\]\s*")
SQLSTATE = re.compile(r"\s*SQLSTATE: \w+\.?;?\s*$")
MALFORMED = ("MALFORMED_CSV_RECORD", "MALFORMED_RECORD_IN_PARSING")


class SparkFailure(EmberflowError):
    """Spark failed for a reason emberflow does not recognise; the message is Spark's root cause."""


def causes(exc: BaseException) -> list[str]:
    """The messages of the exception and its Java causes, outermost first, without stack frames."""
    text = str(exc).strip()
    lines = text.splitlines()
    found = [lines[0].strip()] if lines and not lines[0].startswith("An error occurred while calling") else []
    for line in lines:
        match = JAVA_CAUSE.match(line.strip())
        if match:
            found.append(match.group(1).strip())
    return [SQLSTATE.sub("", m) for m in found if m] or [type(exc).__name__]


def explain(exc: BaseException) -> EmberflowError:
    """The emberflow error for a Spark exception."""
    messages = causes(exc)
    text = "\n".join(messages)
    cancelled = _watchdog_reason()
    if cancelled and "cancel" in text.lower():
        return SparkFailure(cancelled)
    root = ERROR_CLASS.sub("", messages[-1]).strip()
    unseen = _unseen_path(text)
    if unseen:
        return DataError(unseen)
    if any(f"[{name}" in text for name in MALFORMED):
        return DataError(_malformed(_malformed_record(messages)))
    if f"[{USER_RAISED}]" in text:  # a check a node put into the job (spark_compat.raise_error)
        return DataError(root)
    if "[PATH_NOT_FOUND]" in text:
        return DataError(f"{root}; check the path (or pass --var with the right one)")
    if "[UNRESOLVED_COLUMN" in text:
        return DataError(f"{root.split('. Did you mean')[0]}; columns: {_suggested(messages)}")
    if "Encountered null while assembling" in text or "Encountered NaN while assembling" in text:
        return DataError("feature columns have missing values; fill them with a FillMissing step or drop those rows "
                         "with a DropMissing step before this step")
    if "Labels MUST NOT be Null or NaN" in text:
        return DataError("the label column has missing values; drop those rows first with a DropMissing step")
    return SparkFailure(f"Spark failed: {root}")


@contextlib.contextmanager
def spark_errors() -> Iterator[None]:
    """Run Spark jobs inside; what Spark raises comes out as an emberflow error (its cause chained)."""
    try:
        yield
    except EmberflowError:
        raise
    except Exception as exc:
        if not _from_spark(exc):
            raise
        raise explain(exc) from exc


def _unseen_path(text: str) -> str | None:
    """On a cluster, a file the executors cannot find though the driver found it (a path on the driver's disk
    alone): what it means and what to use instead."""
    if "FILE_NOT_EXIST" not in text and "FileNotFoundException" not in text:
        return None
    master = _cluster_master()
    found = re.search(r"file:/[^\s,;]*[^\s,;.]", text)
    if master is None or found is None:
        return None
    return (f"the Spark cluster ({master}) cannot see {found.group(0)}: its executors read files on the workers' "
            "machines, and this path is on the driver's disk alone; put the file where every worker reaches it "
            "(hdfs://..., s3a://..., or a shared folder as file:///...)")


def _cluster_master() -> str | None:
    from pyspark import SparkContext

    from .engines.spark import is_local

    context = SparkContext._active_spark_context
    master = getattr(context, "master", None) if context is not None else None
    return master if master and not is_local(master) else None


def _watchdog_reason() -> str | None:
    from .engines.spark import cancelled_by_watchdog

    return cancelled_by_watchdog()


def _from_spark(exc: BaseException) -> bool:
    module = type(exc).__module__
    return module.startswith(("py4j", "pyspark"))


def _malformed(record: str | None) -> str:
    """What a malformed row means, and the fix. A row holding a quote may be a piece of a quoted value that spans
    lines, read with multiLine off: then DROPMALFORMED and PERMISSIVE would cut the file's rows, not skip a bad
    one, so they are not offered."""
    where = (f"malformed CSV row{f' {record!r}' if record else ''} (ReadCSV's mode is FAILFAST; Spark reads lazily, "
             "so it shows in the first step that uses the data)")
    if record and '"' in record:
        return (f"{where}; fix the row, or, if it is a piece of a quoted value that spans lines, remove ReadCSV's "
                "multi_line: false (quoted line breaks are then read)")
    return f"{where}; fix the row, or set mode: DROPMALFORMED to skip such rows or PERMISSIVE to keep them"


def _malformed_record(messages: list[str]) -> str | None:
    for message in reversed(messages):
        match = re.search(r"Malformed CSV record: (.*)$", message)
        if match:
            return match.group(1).strip()
    return None


def _suggested(messages: list[str]) -> str:
    match = re.search(r"Did you mean one of the following\? \[(.*?)\]", "\n".join(messages))
    return match.group(1).replace("`", "") if match else "see the data"
