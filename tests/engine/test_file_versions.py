"""The version gate on a plain path with no manifest beside it: the scikit-learn version that a pickle, joblib or
skops file records is read from its bytes, without unpickling it, and judged as a manifest's is (a minor
difference warns, strict_versions: true refuses); a file that does not tell is said so, and strict refuses it."""

from __future__ import annotations

import os
import pickle
import re
from importlib import metadata
from pathlib import Path

import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.errors import VersionMismatch
from emberflow.engine.formats import Untold
from emberflow.engine.formats.pickled import CHUNK, _first_version, sklearn_version
from emberflow.engine.models import load_from_path

SKLEARN = metadata.version("scikit-learn")
WRITERS = ["pickle-2", "pickle-5", "joblib", "joblib-zlib", "joblib-gzip", "joblib-bz2", "joblib-xz",
           "joblib-lzma"]


def estimator():
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    X = np.arange(40, dtype=float).reshape(20, 2)
    return LogisticRegression().fit(X, (X[:, 0] > 15).astype(int))


def write(path: Path, writer: str, obj) -> Path:
    import joblib

    kind, _, how = writer.partition("-")
    if kind == "pickle":
        path.write_bytes(pickle.dumps(obj, protocol=int(how)))
    else:
        joblib.dump(obj, path, compress=(how, 3) if how else 0)
    return path


def pickled_as(version: str, monkeypatch: pytest.MonkeyPatch):
    """An estimator whose pickled state says scikit-learn ``version`` wrote it."""
    from sklearn.base import BaseEstimator
    from sklearn.linear_model import LogisticRegression

    monkeypatch.setattr(LogisticRegression, "__getstate__",
                        lambda self: {**BaseEstimator.__getstate__(self), "_sklearn_version": version})
    return estimator()


@pytest.mark.parametrize("writer", WRITERS)
def test_the_version_is_read_from_every_pickle_and_joblib_file_without_unpickling(tmp_path: Path, writer: str,
                                                                                  monkeypatch):
    with monkeypatch.context() as patch:
        obj = pickled_as("1.0.2", patch)
        path = write(tmp_path / "m.sav", writer, obj)
    from sklearn.linear_model import LogisticRegression

    unpickled: list[dict] = []
    monkeypatch.setattr(LogisticRegression, "__setstate__", lambda self, state: unpickled.append(state))
    assert sklearn_version(path) == "1.0.2" and unpickled == []
    pickle.loads(pickle.dumps(obj))  # the spy is real: unpickling the estimator calls it
    assert len(unpickled) == 1


@pytest.mark.parametrize("writer", ["pickle-5", "joblib-gzip"])
def test_another_minor_version_warns_before_loading_and_strict_refuses(tmp_path: Path, writer: str, monkeypatch,
                                                                       loads: list[str]):
    with monkeypatch.context() as patch:
        path = write(tmp_path / "m.sav", writer, pickled_as("1.0.2", patch))
    said = f"model saved with scikit-learn 1.0.2, running scikit-learn {SKLEARN}"
    with pytest.raises(VersionMismatch) as refused:
        load_from_path(path, Sessions(), trust=True, strict_versions=True, features=["a", "b"])
    assert str(refused.value) == (f"{said}; strict_versions is on, so it is not loaded (install "
                                  "scikit-learn==1.0.2 or set strict_versions: false)")
    assert loads == []
    warnings: list[tuple[str, list[str]]] = []
    load_from_path(path, Sessions(), trust=True, features=["a", "b"],
                   warn=lambda message: warnings.append((message, list(loads))))
    assert warnings == [(f"{said}; it may not load or may behave differently", [])]  # said before loading


def test_the_running_version_passes_even_strict(tmp_path: Path, loads: list[str]):
    path = write(tmp_path / "finalized_model.sav", "pickle-5", estimator())
    warnings: list[str] = []
    load_from_path(path, Sessions(), trust=True, strict_versions=True, features=["a", "b"], warn=warnings.append)
    assert warnings == [] and loads == ["joblib"]


def test_a_file_that_does_not_tell_warns_and_strict_refuses_without_running_it(tmp_path: Path, loads: list[str]):
    """A pickle with no estimator state (here one whose loading runs a command): the gate cannot tell, says so,
    and under strict_versions refuses it; reading it ran nothing."""
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(VersionMismatch) as refused:
        load_from_path(path, Sessions(), trust=True, strict_versions=True)
    assert str(refused.value) == (
        f"cannot tell which scikit-learn version wrote {path} (its pickle holds no _sklearn_version, the version "
        "scikit-learn 0.18 and later record in each estimator); strict_versions is on, so it is not loaded (leave "
        "strict_versions unset to load it with this warning)")
    assert loads == [] and not marker.exists()


def test_a_file_that_does_not_tell_warns_naming_it(tmp_path: Path):
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps({"coef": [1.0, 2.0]}))
    warnings: list[str] = []
    with pytest.raises(Exception):  # noqa: B017 (not a model: refused after the gate, which is what is checked)
        load_from_path(path, Sessions(), trust=True, warn=warnings.append)
    assert warnings == [f"cannot tell which scikit-learn version wrote {path} (its pickle holds no _sklearn_version, "
                        f"the version scikit-learn 0.18 and later record in each estimator); running scikit-learn "
                        f"{SKLEARN}, it may not load or may behave differently"]


@pytest.mark.parametrize("head, why", [
    (b"\x04\x22\x4d\x18rest", "it is lz4-compressed, which emberflow does not read without loading it"),
    (b"\x78garbage", "it cannot be read as zlib: Error -3 while decompressing data: incorrect header check"),
    (b"", "it cannot be read as a pickle: cannot mmap an empty file"),
])
def test_what_cannot_be_read_says_why(tmp_path: Path, head: bytes, why: str):
    path = tmp_path / "m.joblib"
    path.write_bytes(head)
    found = sklearn_version(path)
    assert isinstance(found, Untold) and found.why == why


def test_a_key_and_version_split_between_chunks_are_found(tmp_path: Path):
    stream = pickle.dumps(estimator(), protocol=5)
    at = stream.index(b"_sklearn_version")
    for cut in range(at - 3, at + 30):
        assert _first_version(iter([stream[:cut], stream[cut:]])) == SKLEARN, cut
    assert _first_version(iter([stream[i:i + 5] for i in range(0, len(stream), 5)])) == SKLEARN
    padded = b"\0" * (CHUNK - at + 7) + stream  # a stream longer than a chunk, the key at a chunk's end
    assert _first_version(iter([padded[:CHUNK], padded[CHUNK:]])) == SKLEARN


def test_a_skops_file_tells_its_scikit_learn_and_skops_versions(tmp_path: Path, monkeypatch):
    import skops.io as sio
    from emberflow.engine.formats import get_format

    with monkeypatch.context() as patch:
        sio.dump(pickled_as("1.0.2", patch), tmp_path / "m.skops")
    assert get_format("skops").written_by(tmp_path / "m.skops") == {"scikit-learn": "1.0.2",
                                                                    "skops": metadata.version("skops")}
    with pytest.raises(VersionMismatch, match="model saved with scikit-learn 1.0.2"):
        load_from_path(tmp_path / "m.skops", Sessions(), strict_versions=True, features=["a", "b"])


@pytest.mark.parametrize("name, content, why", [
    ("model.h2o", b"not an H2O binary", "it does not start as an H2O binary model does (bytes 1C ED)"),
    ("model.zip", b"", "its model.ini cannot be read: File is not a zip file"),
])
def test_an_h2o_file_that_does_not_tell_its_version_warns_and_strict_refuses(tmp_path: Path, name: str,
                                                                            content: bytes, why: str):
    """Read without H2O (none is started: the model reaches the cluster only when a step needs it)."""
    path = tmp_path / name
    path.write_bytes(content)
    said = f"cannot tell which h2o version wrote {path} ({why})"
    with pytest.raises(VersionMismatch, match=re.escape(f"{said}; strict_versions is on")):
        load_from_path(path, Sessions(), strict_versions=True)
    warnings: list[str] = []
    load_from_path(path, Sessions(), warn=warnings.append)
    assert warnings == [f"{said}; running h2o {metadata.version('h2o')}, it may not load or may behave differently"]


@pytest.mark.parametrize("written, said", [
    ({"sparkVersion": "3.5.1"}, "model saved with pyspark 3.5.1, running pyspark {running}: Spark ML models do not "
                                "cross major versions"),
    ({}, "cannot tell which pyspark version wrote {path} (its metadata names no sparkVersion); strict_versions is on"),
])
def test_a_spark_directory_is_judged_by_its_metadata_before_spark_starts(tmp_path: Path, written: dict, said: str):
    """A Spark ML directory written elsewhere (no manifest): refused from its metadata alone, no JVM started."""
    import json

    path = tmp_path / "spark-model"
    (path / "metadata").mkdir(parents=True)
    metadata_line = {"class": "org.apache.spark.ml.PipelineModel", "uid": "PipelineModel_1", **written}
    (path / "metadata" / "part-00000").write_text(json.dumps(metadata_line) + "\n")
    sessions = Sessions()
    with pytest.raises(VersionMismatch, match=re.escape(said.format(running=metadata.version("pyspark"), path=path))):
        load_from_path(path, sessions, strict_versions=None if written else True)
    assert sessions.started() == []
