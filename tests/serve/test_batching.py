"""Requests waiting while the model is busy are scored in one call, and each is answered as if scored alone."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from emberflow.engine.errors import DataError
from emberflow.engine.predictor import predict
from emberflow.engine.serving.batching import Batcher

from .conftest import new_rows


def run_while_busy(batcher: Batcher, gate: threading.Event, frames: list) -> list:
    """The first frame scored while the model is held busy by ``gate``; the others sent meanwhile, then the model
    let go. Returns each frame's result or error."""
    results: list = [None] * len(frames)

    def ask(index: int) -> None:
        try:
            results[index] = batcher(frames[index])
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(frames))]
    threads[0].start()
    while not batcher.busy:
        time.sleep(0.001)
    for thread in threads[1:]:
        thread.start()
    deadline = time.monotonic() + 10
    while len(batcher.waiting) < len(frames) - 1 and time.monotonic() < deadline:
        time.sleep(0.001)
    gate.set()
    for thread in threads:
        thread.join(timeout=30)
    return results


def held(model, calls: list[int], gate: threading.Event):
    def predict_holding_the_first_call(frame):
        calls.append(len(frame))
        if len(calls) == 1:
            gate.wait(10)
        return predict(model, frame)

    return predict_holding_the_first_call


def test_waiting_requests_are_scored_together_and_answered_as_alone(lr_holder):
    model = lr_holder.current.model
    rows = new_rows()
    frames = [rows.iloc[[i]] for i in range(5)] + [rows.iloc[10:14], rows.iloc[[40]]]  # 40: an unseen island
    calls: list[int] = []
    gate = threading.Event()
    results = run_while_busy(Batcher(model, held(model, calls, gate)), gate, frames)
    assert calls == [1, 9]  # the first alone, the six that waited (9 rows) in one call
    for frame, result in zip(frames, results, strict=True):
        alone = predict(model, frame)
        assert list(result.values) == list(alone.values) and result.classes == alone.classes
        np.testing.assert_allclose(result.proba, alone.proba, rtol=1e-12)


def test_each_failing_request_gets_its_own_error(lr_holder):
    model = lr_holder.current.model
    rows = new_rows()
    wrong_type = rows.iloc[[3, 4]].assign(bill_depth_mm=[17.0, "deep"])
    frames = [rows.iloc[[0]], rows.iloc[[1]], wrong_type, rows.iloc[[5]].drop(columns=["island"]), rows.iloc[[6]]]
    calls: list[int] = []
    gate = threading.Event()
    results = run_while_busy(Batcher(model, held(model, calls, gate)), gate, frames)
    assert isinstance(results[2], DataError) and "holds 'deep' in row 2 of the scored data" in str(results[2])
    assert isinstance(results[3], DataError) and "lacks the model's feature columns ['island']" in str(results[3])
    for index in (0, 1, 4):
        assert list(results[index].values) == list(predict(model, frames[index]).values)
    assert calls == [1, 4, 1, 2, 1]  # the batch of three requests failed, so each was scored alone


def test_a_large_request_is_scored_alone_and_the_lead_passes_on(lr_holder):
    model = lr_holder.current.model
    calls: list[int] = []
    batcher = Batcher(model, lambda frame: calls.append(len(frame)) or predict(model, frame), most_rows=3)
    rows = new_rows()
    assert len(batcher(rows.iloc[:5]).values) == 5 and calls == [5]
    results: list = []
    threads = [threading.Thread(target=lambda i=i: results.append(batcher(rows.iloc[[i]]))) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 40 and not batcher.busy and batcher.waiting == []
    assert max(calls[1:]) <= 3 and sum(calls[1:]) == 40


def test_a_broken_predictor_leaves_the_model_idle(lr_holder):
    def broken(frame):
        raise RuntimeError("a bug")

    batcher = Batcher(lr_holder.current.model, broken)
    with pytest.raises(RuntimeError, match="a bug"):
        batcher(new_rows().iloc[[0]])
    assert not batcher.busy
