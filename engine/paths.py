"""What a path in a workflow means on disk, for messages about files that are not there.

A relative path in a workflow (ReadCSV's, WriteCSV's, SaveModel's and LoadModel's ``path``) is relative to the
current working folder, the one emberflow is started in, not to the workflow file's folder.
"""

from __future__ import annotations

import os


def looked_for(path: str | os.PathLike) -> str:
    """``looked for /abs/path``, saying for a relative ``path`` what it is relative to."""
    absolute = os.path.abspath(path)
    if os.path.isabs(path):
        return f"looked for {absolute}"
    return f"looked for {absolute}; relative paths start from the current folder, not the workflow file's"
