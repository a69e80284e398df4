"""Every error emberflow raises on purpose derives from EmberflowError.

The CLI turns a ``UserError`` into one line on stderr and exit code 2, a ``StepFailed`` into exit code 1, and
shows a traceback only with ``--debug``.
"""

from __future__ import annotations


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
