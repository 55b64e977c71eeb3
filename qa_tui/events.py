"""The training events file: `events.jsonl` in a run's output directory, one JSON object per line.

`qa-tui train` writes it (flushed line by line); the TUI's training screen and `tail -f` read it. It is the only
thing the TUI knows of training, so this module is shared and imports nothing from the training code.

Every event has `event` and `time` (seconds since the epoch). The kinds:
- `start`: `settings` (every training option), `command`, `max_steps`, `output_dir`;
- `log`: `step`, `max_steps`, `epoch`, `loss`, `learning_rate`, `examples_per_s`, `eta_s`;
- `eval`: `step`, `metrics` (SQuAD 2.0 metrics, see qa_tui.metrics);
- `checkpoint`: `step`, `path`;
- `end`: `model_dir`, `metrics`, `train` (`steps`, `epochs`, `seconds`...); `stopped`: `step`, `checkpoint`, `reason`; `error`: `message`.
A resumed run appends a new `start` to the same file.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

EVENTS_FILE = "events.jsonl"
FINAL_EVENTS = ("end", "stopped", "error")


class EventWriter:
    """Appends events to a run's events file, each line flushed to disk as it is written."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.path, "a", encoding="utf-8")

    def write(self, event: str, **fields) -> dict:
        record = {"event": event, "time": round(time.time(), 3), **fields}
        self._handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        return record

    def close(self) -> None:
        self._handle.close()


class EventReader:
    """Follows an events file: each `poll()` returns the whole lines added since the last one.

    A line still being written (no newline yet) waits for the next poll; a line that is not JSON is skipped; a
    file that shrank or was replaced (a run restarted with --overwrite-output-dir) is read again from its start,
    and `resets` counts those restarts, so that a reader can start its view of the run afresh.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._offset = 0
        self._inode: int | None = None
        self.resets = 0

    def poll(self) -> list[dict]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return []
        replaced = self._inode is not None and stat.st_ino != self._inode
        if stat.st_size < self._offset or replaced:
            self._offset = 0
            self.resets += 1
        self._inode = stat.st_ino
        with open(self.path, "rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        complete = data.rfind(b"\n") + 1
        self._offset += complete
        events = []
        for line in data[:complete].splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and "event" in record:
                events.append(record)
        return events


@dataclass
class RunState:
    """What the events of one run say so far: a fold over them, shared by every view of a run."""

    status: str = "waiting"  # waiting | running | finished | stopped | failed
    step: int = 0
    max_steps: int = 0
    epoch: float = 0.0
    examples_per_s: float | None = None
    eta_s: float | None = None
    learning_rate: float | None = None
    losses: list[tuple[int, float]] = field(default_factory=list)
    eval_metrics: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    model_dir: str | None = None
    message: str = ""

    def apply(self, record: dict) -> None:
        kind = record.get("event")
        if kind == "start":
            self.status = "running"
            self.settings = record.get("settings", {})
            self.max_steps = int(record.get("max_steps") or 0)
            self.message = ""
        elif kind == "log":
            self.status = "running"
            self.step = int(record.get("step", self.step))
            self.max_steps = int(record.get("max_steps") or self.max_steps)
            self.epoch = float(record.get("epoch") or self.epoch)
            self.examples_per_s = record.get("examples_per_s", self.examples_per_s)
            self.eta_s = record.get("eta_s", self.eta_s)
            self.learning_rate = record.get("learning_rate", self.learning_rate)
            if record.get("loss") is not None:
                # A resumed run logs steps again from its checkpoint: drop the points it will redo.
                self.losses = [point for point in self.losses if point[0] < self.step]
                self.losses.append((self.step, float(record["loss"])))
        elif kind == "eval":
            self.eval_metrics = record.get("metrics", {})
        elif kind == "end":
            self.status = "finished"
            self.model_dir = record.get("model_dir")
            # A run shorter than its logging interval logs no step: the end says where it got to.
            train = record.get("train") or {}
            self.step = int(train.get("steps") or self.step)
            self.epoch = float(train.get("epochs") or self.epoch)
            self.eval_metrics = record.get("metrics") or self.eval_metrics
        elif kind == "stopped":
            self.status = "stopped"
            self.message = record.get("reason", "stopped")
        elif kind == "error":
            self.status = "failed"
            self.message = record.get("message", "unknown error")

    @property
    def progress(self) -> float:
        return self.step / self.max_steps if self.max_steps else 0.0
