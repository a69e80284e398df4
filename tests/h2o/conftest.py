"""One H2O instance for every H2O test of the session, started by emberflow's own engine (1 GB heap, 2 threads)
by the first test that asks for it. Workflows run in-process join it and leave it running; subprocess runs
start their own JVM, so few tests use them.

At the end of the session the instance is shut down, and the finalizer checks what the suite leaves behind:
no H2O JVM started by the tests still running, no temporary folder of emberflow's H2O code left in the temp
directory.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest
from h2o_helpers import h2o_processes, leftover_temp

SETTINGS = {"max_mem_size": "1G", "nthreads": 2}


@pytest.fixture(scope="session")
def h2o_engine(tmp_path_factory: pytest.TempPathFactory):
    """emberflow's H2O engine, started once; yields the Engine (``.launched`` is the running instance)."""
    from emberflow.engine.engines.h2o import Engine

    basetemp = tmp_path_factory.getbasetemp()
    temp_root = Path(tempfile.gettempdir())
    engine = Engine(dict(SETTINGS))
    engine.start()
    instance = engine.launched
    assert instance is not None and instance.server.is_running()
    yield engine
    engine.stop()
    assert not instance.server.is_running(), "the session's H2O JVM is still running after stop"
    assert not instance.temp.exists(), f"the session's H2O folder {instance.temp} was not removed"
    deadline = time.monotonic() + 10
    while h2o_processes([str(basetemp), str(instance.temp)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert h2o_processes([str(basetemp), str(instance.temp)]) == [], "H2O JVMs started by the tests still run"
    assert leftover_temp(temp_root, os.getpid()) == [], "temporary files of the H2O tests were left behind"


@pytest.fixture
def h2o(h2o_engine):
    """The h2o module, connected to the session's instance."""
    import h2o as client

    return client


@pytest.fixture
def h2o_project(h2o_engine, project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The ``project`` folder (examples copied, cwd there, store ./models) with the session's H2O running and
    no signing key (tests edit manifests)."""
    monkeypatch.delenv("EMBERFLOW_SIGNING_KEY", raising=False)
    return project
