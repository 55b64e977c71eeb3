"""Trainer callbacks: progress events (events.jsonl + a rich progress bar), a graceful stop on Ctrl-C/SIGTERM, and
the intervals of this invocation on a resumed run."""

from __future__ import annotations

import signal
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from transformers import TrainerCallback

from qa_tui.events import EventWriter


class ProgressEvents(TrainerCallback):
    """Turns the Trainer's logs into `log`/`eval`/`checkpoint` events and a progress bar (main process only)."""

    def __init__(self, events: EventWriter | None, console: Console | None, examples_per_step: int):
        self.events = events
        self.examples_per_step = examples_per_step
        self.progress = (
            Progress(
                TextColumn("training"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TimeRemainingColumn(),
                console=console,
            )
            if console is not None
            else None
        )
        self._task = None
        self._clock_start = 0.0
        self._step_start = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self._clock_start = time.monotonic()
        self._step_start = state.global_step
        if self.progress is not None and state.is_world_process_zero:
            self.progress.start()
            self._task = self.progress.add_task("train", total=state.max_steps, completed=state.global_step, loss="-")

    def on_step_end(self, args, state, control, **kwargs):
        if self._task is not None:
            self.progress.update(self._task, completed=state.global_step)

    def speed(self, state) -> tuple[float | None, float | None]:
        """(examples/s, seconds left) over the steps this process has run."""
        elapsed = time.monotonic() - self._clock_start
        done = state.global_step - self._step_start
        if done <= 0 or elapsed <= 0:
            return None, None
        steps_per_s = done / elapsed
        return steps_per_s * self.examples_per_step, (state.max_steps - state.global_step) / steps_per_s

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs or "loss" not in logs:
            return
        examples_per_s, eta_s = self.speed(state)
        if self._task is not None:
            self.progress.update(self._task, loss=f"{logs['loss']:.3f}")
        if self.events is not None:
            self.events.write(
                "log",
                step=state.global_step,
                max_steps=state.max_steps,
                epoch=round(state.epoch or 0.0, 4),
                loss=logs["loss"],
                learning_rate=logs.get("learning_rate"),
                examples_per_s=round(examples_per_s, 2) if examples_per_s else None,
                eta_s=round(eta_s) if eta_s is not None else None,
            )

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if state.is_world_process_zero and self.events is not None and metrics:
            clean = {key.removeprefix("eval_"): value for key, value in metrics.items()}
            self.events.write("eval", step=state.global_step, metrics=clean)

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero and self.events is not None:
            self.events.write(
                "checkpoint", step=state.global_step, path=f"{args.output_dir}/checkpoint-{state.global_step}"
            )

    def on_train_end(self, args, state, control, **kwargs):
        if self.progress is not None and self._task is not None:
            self.progress.stop()


class StopOnSignal(TrainerCallback):
    """Ctrl-C or SIGTERM: finish the current step, save a checkpoint and stop (a second Ctrl-C aborts)."""

    def __init__(self):
        self.reason: str | None = None
        self._previous = {}

    def install(self) -> "StopOnSignal":
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._request_stop)
        return self

    def uninstall(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _request_stop(self, signum, frame):
        if self.reason is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.reason = signal.Signals(signum).name

    def on_step_end(self, args, state, control, **kwargs):
        if self.reason is not None:
            control.should_save = True
            control.should_training_stop = True


class CurrentIntervals(TrainerCallback):
    """On --resume, save, evaluate and log at the intervals given now, not the checkpoint's.

    The Trainer restores its state (intervals included) from the checkpoint after it has set this invocation's, so
    `--resume --save-steps 200` would otherwise still save at the old interval."""

    def on_train_begin(self, args, state, control, **kwargs):
        state.compute_steps(args, state.max_steps)
