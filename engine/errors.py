"""Every error emberflow raises on purpose derives from EmberflowError.

The CLI turns a ``UserError`` into one line on stderr and exit code 2, a ``StepFailed`` into exit code 1, and
shows a traceback only with ``--debug``.
"""

from __future__ import annotations

import errno


class EmberflowError(Exception):
    """Root of emberflow's errors."""

    exit_code = 1


class UserError(EmberflowError):
    """Bad input from the user: a workflow, a parameter, a file, a model reference. Exit code 2."""

    exit_code = 2


class WorkflowError(UserError):
    """A workflow file is invalid. ``location`` is ``file:line:col`` when known."""

    def __init__(self, message: str, location: str | None = None):
        self.location = location
        self.message = message
        super().__init__(f"{location}: {message}" if location else message)


class DataError(UserError):
    """Input data (a CSV file, a frame) is not what a step expects."""


class ModelNotFound(UserError):
    """No model, version or alias of that name in the store."""


class IntegrityError(EmberflowError):
    """A stored model's files do not match its manifest: refused before anything is deserialized."""

    exit_code = 2


class VersionMismatch(UserError):
    """A model was saved with library versions that the running ones cannot load (under strict checks)."""


class EngineUnavailable(UserError):
    """An engine's library is not installed, or its cluster cannot be reached."""


class StepFailed(EmberflowError):
    """A step raised while running; the run record names the step and the cause."""

    def __init__(self, step_id: str, cause: BaseException):
        self.step_id = step_id
        self.cause = cause
        super().__init__(f"step '{step_id}' failed: {cause}")


class RunCancelled(EmberflowError):
    """The run was stopped from outside (SIGTERM, the editor's Cancel): its record says ``cancelled``."""

    exit_code = 130


class WriteFailed(UserError):
    """A file could not be written because of where it goes, not because of a bug: the disk is full, a quota
    is reached, the file system is read-only, or the folder is not writable. Exit code 2."""


# errno -> (what happened, what to do about it)
_WRITE_PROBLEMS = {
    errno.ENOSPC: ("no space left on device", "free space and retry"),
    errno.EDQUOT: ("disk quota exceeded", "free space (or raise the quota) and retry"),
    errno.EROFS: ("read-only file system", "write to a writable folder instead"),
    errno.EACCES: ("permission denied", "check the folder's permissions"),
    errno.EPERM: ("operation not permitted", "check the folder's permissions"),
}


def write_failure(exc: BaseException, path: object = None) -> WriteFailed | None:
    """The one-line ``WriteFailed`` for ``exc`` raised while writing ``path`` when the place is at fault (full,
    over quota, read-only, not writable); None for any other failure, which is left to show as what it is."""
    if not isinstance(exc, OSError) or exc.errno not in _WRITE_PROBLEMS:
        return None
    what, advice = _WRITE_PROBLEMS[exc.errno]
    where = path if path is not None else exc.filename
    return WriteFailed(f"{what} while writing {where}; {advice}" if where is not None else f"{what}; {advice}")
