"""Requests that arrive while the model is busy are scored together, in one call of the predictor.

A call of a scikit-learn pipeline on a few rows costs about as much as on one (pandas and the pipeline's checks,
not the arithmetic, take the time), and the interpreter runs one call at a time, so concurrent single-row requests
scored one by one queue behind each other. Here the first request to find the model idle leads: it scores every
request waiting by then (up to ``most_rows`` rows) as one frame, hands each its rows' predictions, and passes
the lead to the first request that arrived meanwhile, so no request waits on more than the batch before its own.

Each prediction depends on its own row alone, so a request's answer is the same whichever requests it is scored
with. A request whose frame lacks a feature column is answered alone (its error names its own columns), and when
a batch fails (one request's text in a numeric column, say), each of its requests is scored alone again, so every
error names the request's own rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..model import Model
    from ..predictor import Prediction

BATCH_ROWS = 1_000  # rows scored together at most; a larger request is scored alone


class Job:
    """One request's rows, and what became of them."""

    def __init__(self, frame):
        self.frame = frame
        self.result: Prediction | None = None
        self.error: BaseException | None = None
        self.leads = False  # this request's thread scores the next batch
        self.woken = threading.Event()  # set when answered, or asked to lead


class Batcher:
    """``predict`` (a frame's rows to a Prediction) for concurrent callers, their rows scored together."""

    def __init__(self, model: Model, predict: Callable[[Any], Prediction], most_rows: int = BATCH_ROWS):
        self.model, self.predict, self.most_rows = model, predict, most_rows
        self.lock = threading.Lock()
        self.waiting: list[Job] = []
        self.busy = False

    def __call__(self, frame) -> Prediction:
        if len(frame) > self.most_rows:
            return self.predict(frame)
        job = Job(frame)
        with self.lock:
            self.waiting.append(job)
            job.leads, self.busy = not self.busy, True
        if not job.leads:
            job.woken.wait()
        if job.leads:
            self.lead()
        if job.error is not None:
            raise job.error
        return job.result

    def lead(self) -> None:
        """Score the waiting requests (this one first among them), then pass the lead on or leave the model idle."""
        with self.lock:
            batch, rows = [], 0
            while self.waiting and (not batch or rows + len(self.waiting[0].frame) <= self.most_rows):
                rows += len(self.waiting[0].frame)
                batch.append(self.waiting.pop(0))
        try:
            score_together(self.model, self.predict, batch)
        finally:
            with self.lock:
                if self.waiting:
                    self.waiting[0].leads = True
                    self.waiting[0].woken.set()
                else:
                    self.busy = False
            for job in batch:
                job.leads = False
                job.woken.set()


def score_together(model: Model, predict: Callable[[Any], Prediction], batch: list[Job]) -> None:
    """Each job's result or error: scored in one call when they can be, else one by one."""
    from ..predictor import check_features

    together = []
    for job in batch:
        try:
            check_features(model, job.frame.columns)
            together.append(job)
        except Exception as exc:
            job.error = exc
    if len(together) > 1:
        try:
            return split(predict(joined(model, together)), together)
        except Exception:  # told apart below: each request's error must name its own rows
            pass
    for job in together:
        try:
            job.result = predict(job.frame)
        except Exception as exc:
            job.error = exc


def joined(model: Model, jobs: list[Job]):
    """The jobs' feature columns, their rows one after the other."""
    import pandas as pd

    return pd.concat([job.frame[model.features] for job in jobs], ignore_index=True)


def split(prediction: Prediction, jobs: list[Job]) -> None:
    from ..predictor import Prediction

    start = 0
    for job in jobs:
        end = start + len(job.frame)
        proba = None if prediction.proba is None else prediction.proba[start:end]
        job.result = Prediction(prediction.task, prediction.values[start:end], proba, prediction.classes)
        start = end
