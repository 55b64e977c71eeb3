"""Training runs seen from the workbench: the form's request, starting `qa-tui train`, following its events.

No Textual here (the training screen draws what this computes). The app never imports the training code: it
starts `python -m qa_tui train ...` as a process of its own session, so closing the app (or its terminal) leaves
the run going, and follows the run's `events.jsonl` (see `qa_tui.events`), as `qa-tui watch` and `tail -f` do.
"""

from __future__ import annotations

import math
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from qa_tui.data.train_files import parse_train_file
from qa_tui.errors import UserError
from qa_tui.events import EVENTS_FILE, EventReader, RunState

LOG_FILE = "train.log"
"""The stdout and stderr of a run the workbench started, in the run's output directory."""


@dataclass(frozen=True)
class TrainRequest:
    """The main `qa-tui train` options, as the training form collects them. None: train's own default."""

    train_files: tuple[str, ...]
    output_dir: str
    dev_file: str | None = None
    model: str | None = None
    epochs: float | None = None
    max_steps: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    max_seq_length: int | None = None
    negatives: float | None = None
    swap_negatives: float | None = None
    negation_negatives: float | None = None
    antonym_negatives: float | None = None
    holdout: float | None = None
    selection_file: str | None = None
    overwrite_output_dir: bool = False
    resume: bool = False

    def arguments(self) -> list[str]:
        """The `qa-tui train` arguments (without the program)."""
        args = ["train"]
        for train_file in self.train_files:
            args += ["--train-file", train_file]
        options = [
            ("--dev-file", self.dev_file),
            ("--output-dir", self.output_dir),
            ("--model", self.model),
            ("--epochs", self.epochs),
            ("--max-steps", self.max_steps),
            ("--batch-size", self.batch_size),
            ("--learning-rate", self.learning_rate),
            ("--max-seq-length", self.max_seq_length),
            ("--negatives", self.negatives),
            ("--swap-negatives", self.swap_negatives),
            ("--negation-negatives", self.negation_negatives),
            ("--antonym-negatives", self.antonym_negatives),
            ("--holdout", self.holdout),
            ("--selection-file", self.selection_file),
        ]
        for flag, value in options:
            if value is not None:
                args += [flag, str(value)]
        if self.overwrite_output_dir:
            args.append("--overwrite-output-dir")
        if self.resume:
            args.append("--resume")
        return args

    def command(self) -> list[str]:
        """The full command line: this Python, `-m qa_tui train ...` (the same qa-tui as the app)."""
        return [sys.executable, "-m", "qa_tui", *self.arguments()]

    @classmethod
    def from_fields(cls, fields: dict[str, str], *, overwrite: bool = False, resume: bool = False) -> "TrainRequest":
        """Build a request from the form's text fields; blank fields are left to train. UserError names the field."""

        def text(name: str) -> str | None:
            value = fields.get(name, "").strip()
            return value or None

        def number(name: str, kind, low: float, high: float = math.inf, low_open: bool = False):
            value = text(name)
            if value is None:
                return None
            try:
                parsed = kind(value)
            except ValueError:
                raise UserError(f"{name.replace('_', ' ')}: {value!r} is not {'an integer' if kind is int else 'a number'}")
            if not math.isfinite(parsed) or parsed < low or (low_open and parsed == low) or parsed > high:
                bound = f"more than {low}" if low_open else f"at least {low}"
                top = "" if high == math.inf else f" and at most {high}"
                raise UserError(f"{name.replace('_', ' ')}: {value} must be {bound}{top}")
            return parsed

        def files(name: str) -> tuple[str, ...]:
            return tuple(part for part in (fields.get(name) or "").replace(",", " ").split() if part)

        train_files = files("train_files")
        if not train_files:
            raise UserError("train files: give at least one SQuAD JSON or JSON Lines file")
        for mixed in files("mix_in"):  # a share of a general file, against forgetting: FILE:0.05 reads 5% of it
            share = mixed.rpartition(":")[2]
            try:
                valid = ":" in mixed and 0 < float(share) <= 1
            except ValueError:
                valid = False
            if not valid:
                raise UserError(f"mix in: {mixed}: give FILE:SHARE, the share of its questions read (0-1), "
                                "e.g. train-v1.1.json:0.05")
        train_files += files("mix_in")
        for train_file in train_files:
            path, _ = parse_train_file(train_file)  # FILE:WEIGHT weights a file
            if not Path(path).expanduser().is_file():
                raise UserError(f"train files: {path}: no such file")
        dev_file, selection_file = text("dev_file"), text("selection_file")
        for label, path in (("dev file", dev_file), ("selection file", selection_file)):
            if path is not None and not Path(path).expanduser().is_file():
                raise UserError(f"{label}: {path}: no such file")
        output_dir = text("output_dir")
        if output_dir is None:
            raise UserError("output dir: say where the run writes its model and events")
        if overwrite and resume:
            raise UserError("choose either overwrite or resume, not both")
        return cls(
            train_files=train_files,
            output_dir=output_dir,
            dev_file=dev_file,
            model=text("model"),
            epochs=number("epochs", float, 0, low_open=True),
            max_steps=number("max_steps", int, 1),
            batch_size=number("batch_size", int, 1),
            learning_rate=number("learning_rate", float, 0, low_open=True),
            max_seq_length=number("max_seq_length", int, 32, 4096),
            negatives=number("negatives", float, 0, 1),
            swap_negatives=number("swap_negatives", float, 0, 1),
            negation_negatives=number("negation_negatives", float, 0, 1),
            antonym_negatives=number("antonym_negatives", float, 0, 1),
            holdout=number("holdout", float, 0, 1),
            selection_file=selection_file,
            overwrite_output_dir=overwrite,
            resume=resume,
        )


@dataclass
class StartedRun:
    """A `qa-tui train` process the workbench started, and where its output goes for now."""

    process: subprocess.Popen
    log_path: Path
    started_at: float


def start_run(request: TrainRequest, env: dict | None = None) -> StartedRun:
    """Start `qa-tui train` detached from the app: a session of its own, stdin closed, output to a log file.

    `qa-tui train` refuses an output directory that is not empty (and --overwrite-output-dir empties it), so the
    log starts beside the directory, as `OUTPUT_DIR.train.log`; `RunWatcher` moves it to OUTPUT_DIR/train.log once
    the run has made the directory its own (its `start` event). The process keeps the open file either way.
    """
    output_dir = Path(request.output_dir).expanduser()
    log_path = output_dir.parent / f"{output_dir.name}.{LOG_FILE}"
    try:
        output_dir.parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "ab")
    except OSError as exc:
        raise UserError(f"{output_dir.parent}: cannot write there ({exc.strerror})") from exc
    with log:
        log.write(("$ " + shlex.join(request.command()) + "\n").encode())
        log.flush()
        started_at = time.time()
        try:
            process = subprocess.Popen(
                request.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            )
        except OSError as exc:
            raise UserError(f"cannot start {request.command()[0]}: {exc.strerror}") from exc
    return StartedRun(process, log_path, started_at)


@dataclass
class RunWatcher:
    """Follows one run directory: folds its events into a `RunState`, and watches the process if we started it.

    A run whose events file was cut short or replaced (restarted with --overwrite-output-dir) starts a fresh
    state; a process we started that exits without a final event is a failure, explained by its log's last lines.
    """

    run_dir: Path
    started: StartedRun | None = None
    state: RunState = field(default_factory=RunState)

    def __post_init__(self) -> None:
        self.run_dir = Path(self.run_dir)
        self._reader = EventReader(self.run_dir / EVENTS_FILE)
        self._resets = 0
        self.events_seen = 0
        self.process = self.started.process if self.started is not None else None
        self.log_path = self.started.log_path if self.started is not None else self.run_dir / LOG_FILE

    @property
    def events_path(self) -> Path:
        return self.run_dir / EVENTS_FILE

    def poll(self) -> bool:
        """Read what is new; True when the state changed."""
        changed = False
        events = self._reader.poll()
        if self._reader.resets != self._resets:
            self._resets = self._reader.resets
            self.state = RunState()
            changed = True
        for event in events:
            self.state.apply(event)
            self.events_seen += 1
            changed = True
            if event.get("event") == "start":
                self._adopt_log(event)
        if self.process is not None:
            returncode = self.process.poll()
            if returncode is not None:
                changed |= self._process_ended(returncode)
        return changed

    def _adopt_log(self, start_event: dict) -> None:
        """Our run has written its `start`: its directory is ready, move the log in (beside an older one)."""
        started = self.started
        if started is None or self.log_path.parent == self.run_dir:
            return
        if float(start_event.get("time") or 0) < started.started_at - 1:
            return  # an earlier run's start (this one resumes it)
        target = self.run_dir / LOG_FILE
        if target.exists():
            target = self.run_dir / f"train-{time.strftime('%Y%m%d-%H%M%S', time.localtime(started.started_at))}.log"
        try:
            os.replace(self.log_path, target)
        except OSError:
            return
        self.log_path = target

    def _process_ended(self, returncode: int) -> bool:
        self.process = None
        if self.state.status in ("finished", "stopped", "failed"):
            return False
        if returncode == 0:
            self.state.status = "finished" if self.state.model_dir else "stopped"
            self.state.message = self.state.message or "the training process ended without an end event"
        else:
            self.state.status = "failed"
            tail = self.log_tail(6)
            how = f"was killed by {_signal_name(-returncode)}" if returncode < 0 else f"exited with code {returncode}"
            self.state.message = f"qa-tui train {how}" + (f":\n{tail}" if tail else "")
        return True

    def log_tail(self, lines: int = 10) -> str:
        """The last lines of the run's log (when there is one), or ''."""
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - 8192))
                data = handle.read().decode("utf-8", errors="replace")
        except OSError:
            return ""
        kept = [line for line in data.splitlines() if line.strip() and not line.startswith("$ ")]
        return "\n".join(kept[-lines:])

    @property
    def is_final(self) -> bool:
        return self.state.status in ("finished", "stopped", "failed")

    def stop(self) -> bool:
        """Ask a run we started to stop (SIGTERM to its process group: it checkpoints and ends with `stopped`)."""
        if self.process is None or self.process.poll() is not None:
            return False
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            return False
        return True


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def find_runs(root: Path | None = None) -> list[Path]:
    """Run directories (holding an events file) under ./runs, newest first."""
    root = Path("runs") if root is None else root
    if not root.is_dir():
        return []
    runs = [path.parent for path in root.glob(f"*/{EVENTS_FILE}")]
    return sorted(runs, key=lambda path: (path / EVENTS_FILE).stat().st_mtime, reverse=True)


def find_models(root: Path | None = None) -> list[Path]:
    """Trained model directories (with config.json) under ./runs, checkpoints left out, newest first."""
    root = Path("runs") if root is None else root
    if not root.is_dir():
        return []
    found = [
        path.parent
        for pattern in ("*/config.json", "*/*/config.json")
        for path in root.glob(pattern)
        if not path.parent.name.startswith("checkpoint-")
    ]
    return sorted(set(found), key=lambda path: path.stat().st_mtime, reverse=True)


def format_duration(seconds: float | None) -> str:
    """`3h 05m`, `4m 10s`, `12s`; '-' when unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "-"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
