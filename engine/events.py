"""``emberflow run --events FILE``: the run's progress as JSON lines, for the web editor (which runs workflows in
a separate process and follows this file), one line per event:

- ``{"type": "step", "step": ID, "status": "running"}`` when a step starts;
- ``{"type": "step", "step": ID, "status": "done", "seconds", "rows", "metrics", "outputs"}`` when it ends,
  ``outputs`` holding for each frame port ``{"kind": "frame", "rows", "preview": "preview/STEP/PORT.json"}`` (the
  first ``PREVIEW_ROWS`` rows, written next to FILE) and for a saved model ``{"kind": "model", "name",
  "version"}``;
- ``{"type": "step", "status": "failed", "error"}``, and ``"skipped"`` for the steps after a failure;
- ``{"type": "run", "run_id", "status": "succeeded" | "failed" | "cancelled", "error"}`` last.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from .runner import Reporter

PREVIEW_ROWS = 50
RUN_STATUS = {"ok": "succeeded", "failed": "failed", "cancelled": "cancelled"}


class EventsReporter(Reporter):
    """A Reporter that also appends each event to ``path`` (flushed line by line, so a reader can follow it)."""

    shows_frames = True

    def __init__(self, path: str | Path, stream: TextIO | None = sys.stderr, warnings: Any = sys.stderr):
        super().__init__(stream, warnings)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed by run_finished
        self.outputs: dict[str, dict[str, Any]] = {}

    def emit(self, event: dict[str, Any]) -> None:
        event.setdefault("time", round(time.time(), 3))
        self.handle.write(json.dumps(event, default=str) + "\n")
        self.handle.flush()

    def step_started(self, number: int, total: int, step) -> None:
        super().step_started(number, total, step)
        self.emit({"type": "step", "step": step.id, "status": "running"})

    def step_outputs(self, step, produced: dict[str, Any], state) -> None:
        outputs: dict[str, Any] = {}
        for port, value in produced.items():
            preview = self._preview(step.id, port, value)
            if preview is not None:
                outputs[port] = preview
        for model in state.models:
            if model.get("step") == step.id:
                outputs["model" if "model" not in outputs else "saved"] = {
                    "kind": "model", "name": model["name"], "version": model["version"]}
        self.outputs[step.id] = outputs

    def _preview(self, step_id: str, port: str, value: Any) -> dict[str, Any] | None:
        """The first rows of a frame as ``{"columns", "rows", "total_rows"}`` in a JSON file; None for anything
        else, or when the preview cannot be made (it never fails the run)."""
        from .batches import FrameBatches
        from .frames import frame_engine, row_count

        engine = frame_engine(value)
        if engine is None or isinstance(value, FrameBatches):
            return None
        try:
            head = _head(value, engine)
            table = json.loads(head.to_json(orient="split", index=False, date_format="iso", default_handler=str))
            file = self.path.parent / "preview" / step_id / f"{port}.json"
            file.parent.mkdir(parents=True, exist_ok=True)
            total = row_count(value)
            file.write_text(json.dumps({"columns": table["columns"], "rows": table["data"], "total_rows": total}))
        except Exception as exc:  # noqa: BLE001 - a preview is a convenience
            self.warning(f"no preview of {step_id}.{port}: {exc}")
            return None
        return {"kind": "frame", "rows": total, "preview": f"preview/{step_id}/{port}.json"}

    def step_finished(self, info: dict[str, Any]) -> None:
        super().step_finished(info)
        self.emit({"type": "step", "step": info["id"], "status": "done", "seconds": info.get("seconds"),
                   "rows": info.get("rows"), "metrics": info.get("metrics"),
                   "outputs": self.outputs.pop(info["id"], {}), "error": None})

    def step_failed(self, info: dict[str, Any]) -> None:
        super().step_failed(info)
        self.emit({"type": "step", "step": info["id"], "status": "failed", "seconds": info.get("seconds"),
                   "rows": None, "error": info.get("error"), "outputs": {}, "metrics": None})

    def run_finished(self, record: dict[str, Any]) -> None:
        for step in record.get("steps", ()):
            if step.get("status") == "skipped":
                self.emit({"type": "step", "step": step["id"], "status": "skipped"})
        error = record.get("error") or {}
        self.emit({"type": "run", "run_id": record.get("run_id"), "status": RUN_STATUS.get(record.get("status"),
                   "failed"), "error": error.get("message")})
        self.handle.close()


def _head(value: Any, engine: str):
    """The first ``PREVIEW_ROWS`` rows as a pandas frame (one small job on Spark, a slice on H2O)."""
    if engine == "spark":
        from .engines.spark import spark_to_pandas

        return spark_to_pandas(value.limit(PREVIEW_ROWS))
    if engine == "h2o":
        from .engines.h2o import frame_to_pandas

        return frame_to_pandas(value[:PREVIEW_ROWS, :])
    from .frames import to_pandas

    return to_pandas(value).head(PREVIEW_ROWS)  # a whole Arrow table: a slice's dtypes can differ from the frame's
