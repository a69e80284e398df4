"""Spark ML models in and out of the store through a staging location that the cluster can reach.

Spark's ``MLWriter`` and ``MLReader`` run jobs on the executors: on a cluster, a model saved "into the store"
lands on the workers' disks, and a model in the store cannot be read by them. pyspark has no supported way to
write or read a model on the driver alone, so on a master other than ``local`` the model goes through the
``staging`` setting (``spark: staging:``, ``--spark-staging``, or the Spark setting ``spark.emberflow.staging``):
a folder every executor and the driver reach (``hdfs://...``, ``s3a://...``, ``file:///shared/...``).

- Saving: Spark writes into a new folder of a unique name under the staging location; the driver copies it into
  the store's temporary version folder with Hadoop's FileSystem API (on the driver's JVM), and deletes the staged
  folder. The store computes the SHA-256 of what landed in it; a failure anywhere leaves no version.
- Loading: the store's files are checked against the manifest first (by the loader); the driver then copies them
  into a new folder of a unique name under the staging location, checks the SHA-256 of every staged file against
  the manifest again (computed by the JVM as it reads the staged copy), and only then lets Spark read it. The
  staged folder is deleted when the run ends (some stages, such as an Imputer's surrogates, are read lazily at
  scoring time), or when the driver's JVM exits.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .engines.spark import is_local
from .errors import EmberflowError, IntegrityError, UserError

STAGING_KEY = "spark.emberflow.staging"
STAGED_PREFIX = "emberflow-"
CHUNK = 1 << 16


def staging_root(session: Any, action: str) -> str | None:
    """The staging location for ``action`` (saving, loading) a Spark model: the setting when given; None on a
    local master without one (Spark's files are the driver's); an error on another master without one."""
    root = session.conf.get(STAGING_KEY, None) or None
    master = session.sparkContext.master
    if root is None:
        if is_local(master):
            return None
        raise UserError(
            f"{action} a Spark model on master {master} needs a staging location: Spark's executors write and read "
            "model files on their own machines, which may not see the model store. Set spark: staging: in the "
            "workflow (or --spark-staging) to a folder that every worker and this machine can reach, such as "
            "hdfs://namenode/tmp/emberflow, s3a://bucket/tmp/emberflow or file:///shared/tmp/emberflow")
    if "://" not in root and not root.startswith(("/", "file:/")):
        raise UserError(f"the Spark staging location {root!r} is a relative path; give a URI such as "
                        "hdfs://namenode/tmp/emberflow or an absolute path such as file:///shared/tmp/emberflow")
    return root.rstrip("/")


class Hadoop:
    """Hadoop's FileSystem API on the driver's JVM, through pyspark's gateway."""

    def __init__(self, session: Any):
        self.jvm = session.sparkContext._jvm
        self.conf = session.sparkContext._jsc.hadoopConfiguration()
        self.local = self.jvm.org.apache.hadoop.fs.FileSystem.getLocal(self.conf)

    def path(self, location: str | Path) -> Any:
        text = location.resolve().as_uri() if isinstance(location, Path) else location
        return self.jvm.org.apache.hadoop.fs.Path(text)

    def filesystem(self, location: str) -> Any:
        return self.path(location).getFileSystem(self.conf)

    def copy(self, source_fs: Any, source: Any, target_fs: Any, target: Any) -> None:
        """A folder copied (recursively) to ``target``, which must not exist yet."""
        if not self.jvm.org.apache.hadoop.fs.FileUtil.copy(source_fs, source, target_fs, target, False, False,
                                                           self.conf):
            raise IntegrityError(f"copying {source} to {target} failed")

    def sha256(self, fs: Any, path: Any) -> str:
        """The SHA-256 of a file, computed in the JVM as it reads it (its bytes do not cross to Python)."""
        digest = self.jvm.java.security.MessageDigest.getInstance("SHA-256")
        stream = self.jvm.java.security.DigestInputStream(fs.open(path), digest)
        self.jvm.org.apache.hadoop.io.IOUtils.copyBytes(stream, self.jvm.java.io.OutputStream.nullOutputStream(),
                                                        CHUNK, True)
        return bytes(digest.digest()).hex()

    def files(self, fs: Any, folder: Any) -> list[str]:
        """The files under ``folder`` as relative POSIX paths (a checksummed file system hides its .crc files)."""
        base = fs.makeQualified(folder).toUri().getPath().rstrip("/") + "/"
        found, listing = [], fs.listFiles(folder, True)
        while listing.hasNext():
            found.append(listing.next().getPath().toUri().getPath()[len(base):])
        return sorted(found)

    def delete(self, location: str) -> None:
        fs = self.filesystem(location)
        fs.delete(self.path(location), True)


def new_staged_folder(root: str, kind: str) -> str:
    return f"{root}/{STAGED_PREFIX}{kind}-{uuid.uuid4().hex}"


def save_staged(session: Any, root: str, writer: Any, target: Path) -> None:
    """``writer`` (a model's ``MLWriter``) saves into a new staged folder, copied from there to ``target`` (a
    new local folder); the staged folder is deleted whatever happens."""
    hadoop = Hadoop(session)
    staged = new_staged_folder(root, "save")
    try:
        with staging_errors("saving the Spark model through", root):
            writer.save(staged)
            hadoop.copy(hadoop.filesystem(staged), hadoop.path(staged), hadoop.local, hadoop.path(target))
    finally:
        _delete_quietly(hadoop, staged)


def stage_for_loading(session: Any, root: str, source: Path, listed: dict[str, Any] | None, prefix: str,
                      on_stop) -> str:
    """The URI of a staged copy of the local model folder ``source``, checked against ``listed`` (the
    manifest's files, whose paths start with ``prefix``) when there is one. ``on_stop`` registers the copy's
    deletion at the run's end; the JVM also deletes it when it exits."""
    hadoop = Hadoop(session)
    staged = new_staged_folder(root, "load")
    try:
        with staging_errors("copying the Spark model to", root):
            fs = hadoop.filesystem(staged)
            hadoop.copy(hadoop.local, hadoop.path(source), fs, hadoop.path(staged))
            fs.deleteOnExit(hadoop.path(staged))
        if listed is not None:
            check_staged(hadoop, fs, staged, listed, prefix)
    except BaseException:
        _delete_quietly(hadoop, staged)
        raise
    on_stop(lambda: _delete_quietly(hadoop, staged))
    return staged


@contextlib.contextmanager
def staging_errors(doing: str, root: str) -> Iterator[None]:
    """What Spark or Hadoop raises while using the staging location, as one line naming it."""
    from .spark_errors import causes

    try:
        yield
    except EmberflowError:
        raise
    except Exception as exc:
        if not type(exc).__module__.startswith(("py4j", "pyspark")):
            raise
        raise UserError(f"{doing} the staging location {root} failed: {causes(exc)[-1]}; check that this machine "
                        "and every worker can write there (spark: staging, or --spark-staging)") from exc


def check_staged(hadoop: Hadoop, fs: Any, staged: str, listed: dict[str, Any], prefix: str) -> None:
    """The staged copy holds exactly the manifest's files (.crc checksums aside, which a file system may add or
    hide), each with the manifest's SHA-256."""
    expected = {rel[len(prefix):]: entry for rel, entry in listed.items()
                if rel.startswith(prefix) and not _is_crc(rel)}
    present = {rel for rel in hadoop.files(fs, hadoop.path(staged)) if not _is_crc(rel)}
    problems = [f"{rel} missing" for rel in sorted(set(expected) - present)]
    problems += [f"{rel} not in the manifest" for rel in sorted(present - set(expected))]
    for rel in sorted(present & set(expected)):
        if hadoop.sha256(fs, hadoop.path(f"{staged}/{rel}")) != expected[rel].get("sha256"):
            problems.append(f"{rel} differs")
    if problems:
        raise IntegrityError(f"the staged copy of the model at {staged} does not match its manifest "
                             f"({'; '.join(problems)}), refusing to load it; is something else writing there?")


def _is_crc(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return name.startswith(".") and name.endswith(".crc")


def _delete_quietly(hadoop: Hadoop, location: str) -> None:
    """Cleanup must not hide the outcome: what stays is deleted when the JVM exits, or by hand (README)."""
    with contextlib.suppress(Exception):
        hadoop.delete(location)
