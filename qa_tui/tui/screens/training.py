"""The training screen: start `qa-tui train` from a form, or watch a run directory, following its events.jsonl."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, ProgressBar, Static

from qa_tui.errors import UserError
from qa_tui.tui.messages import LoadModelRequested, RunUpdated
from qa_tui.tui.runs import RunWatcher, StartedRun, TrainRequest, find_runs, start_run
from qa_tui.tui.widgets import LossPlot, MetricsPanel, RunHeader
from qa_tui.tui.widgets.run_panel import stats_line, total_steps

FINAL = ("finished", "stopped", "failed")


class TrainingScreen(Screen):
    """Follows one run at a time: progress, speed, ETA, learning rate, the loss curve and the latest metrics."""

    SUB_TITLE = "training"

    BINDINGS = [
        Binding("n", "new_run", "New run", tooltip="Start qa-tui train from a form (the run outlives the app)"),
        Binding("o", "watch_dir", "Watch dir", tooltip="Follow another run directory's events.jsonl"),
        Binding("l", "load_model", "Load model", tooltip="Load the finished run's model into the workbench"),
        Binding("x", "stop_run", "Stop run", tooltip="Stop a run started here (SIGTERM: checkpoint, then stop)"),
        Binding("escape", "app.switch_mode('workbench')", "Workbench", show=False, tooltip="Back to the workbench"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.watcher: RunWatcher | None = None
        self._polled_once = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield RunHeader(id="run-header")
        with Horizontal(id="progress-row"):
            yield ProgressBar(total=None, show_eta=False, id="run-progress")
            yield Static("", id="run-stats")
        with Horizontal(id="run-body"):
            yield LossPlot(id="loss-plot")
            with VerticalScroll(id="metrics-box") as box:
                box.border_title = "Evaluation"
                yield MetricsPanel(id="metrics")
        yield Static("", id="run-message")
        yield Footer()

    def on_mount(self) -> None:
        self._show()
        run_dir = getattr(self.app, "initial_run_dir", None)
        if run_dir is not None:
            self.watch_run(Path(run_dir))
        self.set_interval(getattr(self.app, "poll_interval", 0.5), self.poll)

    # --- following a run ------------------------------------------------------------------------------------

    def watch_run(self, run_dir: Path, started: StartedRun | None = None) -> None:
        """Follow `run_dir` (and its process, when the workbench `started` it) from now on."""
        if run_dir.exists() and not run_dir.is_dir():
            self.notify(f"{run_dir}: is a file, not a run directory", severity="error")
            return
        self.watcher = RunWatcher(run_dir, started=started)
        self._polled_once = False
        self.poll()

    def poll(self) -> None:
        """The timer: read what is new in the events file and redraw when something changed."""
        watcher = self.watcher
        if watcher is None:
            return
        before = watcher.state.status
        try:
            changed = watcher.poll()
        except OSError as exc:  # the file vanished mid-read, a permission problem: try again next tick
            self.query_one("#run-message", Static).update(Text(f"cannot read {watcher.events_path}: {exc}", style="red"))
            return
        first = not self._polled_once
        self._polled_once = True
        if changed or first:
            self._show()
            # What the first read finds is no news (an already finished run): only later changes are notified.
            self.post_message(RunUpdated(watcher.state.status, watcher.state.status if first else before))

    @on(RunUpdated)
    def _run_updated(self, message: RunUpdated) -> None:
        self.refresh_bindings()
        if message.status == message.previous_status or message.status not in FINAL:
            return
        if message.previous_status not in ("running", "waiting"):
            return
        if message.status == "finished":
            self.notify("Training finished: press l (training screen) to load the model.", title="Training")
        elif message.status == "failed":
            self.notify(self.watcher.state.message.splitlines()[0], title="Training failed", severity="error")
        else:
            self.notify(self.watcher.state.message or "stopped", title="Training stopped", severity="warning")

    def _show(self) -> None:
        watcher = self.watcher
        header = self.query_one(RunHeader)
        progress = self.query_one(ProgressBar)
        stats = self.query_one("#run-stats", Static)
        message = self.query_one("#run-message", Static)
        if watcher is None:
            header.show(None, None)
            progress.update(total=100, progress=0)
            stats.update("")
            message.update("")
            self.query_one(LossPlot).show_points([])
            self.query_one(MetricsPanel).show({})
            return
        state = watcher.state
        pid = watcher.process.pid if watcher.process is not None else None
        header.show(str(watcher.run_dir), state, pid)
        total = total_steps(state)
        progress.update(total=total or 100, progress=min(state.step, total) if total else 0)
        stats.update(stats_line(state) if state.status != "waiting" else "")
        self.query_one(LossPlot).show_points(state.losses)
        self.query_one(MetricsPanel).show(state.eval_metrics)
        message.update(self._message(watcher))

    @staticmethod
    def _message(watcher: RunWatcher) -> Text:
        state = watcher.state
        if state.status == "waiting":
            if not watcher.run_dir.exists():
                return Text(f"{watcher.run_dir}: no such directory (yet); waiting for the run to create it.", style="yellow")
            return Text(f"Waiting for events in {watcher.events_path}…", style="dim")
        if state.status == "failed":
            return Text(f"Failed: {state.message}", style="red")
        if state.status == "stopped":
            return Text(f"Stopped: {state.message}. Start it again with n and tick “resume”.", style="yellow")
        if state.status == "finished":
            return Text(f"Finished: the model is in {state.model_dir}. Press l to load it into the workbench.", style="green")
        if not state.losses:
            return Text("Started: preparing the data and the model; the first loss comes soon.", style="dim")
        return Text("")

    # --- actions -----------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "load_model":
            return self.watcher is not None and self.watcher.state.status == "finished" or None
        if action == "stop_run":
            running = self.watcher is not None and self.watcher.process is not None and not self.watcher.is_final
            return running or None
        return True

    def action_new_run(self) -> None:
        from qa_tui.tui.screens.train_form import TrainFormScreen

        self.app.push_screen(TrainFormScreen(), self._form_closed)

    def _form_closed(self, request: TrainRequest | None) -> None:
        if request is None:
            return
        try:
            started = start_run(request)
        except UserError as exc:
            self.notify(str(exc), title="Cannot start the run", severity="error")
            return
        self.notify(f"qa-tui train started (pid {started.process.pid}); its output: {started.log_path}", title="Training")
        self.watch_run(Path(request.output_dir).expanduser(), started=started)

    def action_watch_dir(self) -> None:
        from qa_tui.tui.screens.file_open import FileOpenScreen

        runs = [(str(path), path) for path in find_runs()]
        dialog = FileOpenScreen("Watch a training run", shortcuts=runs, shortcuts_title="Runs", directories=True)
        self.app.push_screen(dialog, self._watch_chosen)

    def _watch_chosen(self, path: Path | None) -> None:
        if path is None:
            return
        if not path.is_dir():
            self.notify(f"{path}: no such directory", title="Cannot watch it", severity="error")
            return
        self.watch_run(path)

    def action_load_model(self) -> None:
        model_dir = self.finished_model_dir()
        if model_dir is None:
            self.notify("This run has no finished model to load.", severity="warning")
            return
        self.post_message(LoadModelRequested(str(model_dir)))

    def finished_model_dir(self) -> Path | None:
        """The finished run's model directory (its `end` event's `model_dir`, resolved against the run dir)."""
        watcher = self.watcher
        if watcher is None or watcher.state.status != "finished":
            return None
        named = watcher.state.model_dir
        candidates = [Path(named), watcher.run_dir / named] if named else []
        candidates.append(watcher.run_dir)
        for candidate in candidates:
            if (candidate / "config.json").is_file():
                return candidate
        return Path(named) if named else watcher.run_dir

    def action_stop_run(self) -> None:
        if self.watcher is not None and self.watcher.stop():
            self.notify("Asked the run to stop (SIGTERM): it saves a checkpoint first.", title="Training")
