"""The training screen's pieces: the run's headline, its loss curve and its latest evaluation metrics."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static
from textual_plotext import PlotextPlot

from qa_tui.events import RunState
from qa_tui.tui.runs import format_duration

STATUS_STYLES = {"running": "bold green", "finished": "bold cyan", "stopped": "bold yellow", "failed": "bold red"}
# The SQuAD 2.0 metrics worth a line each, in this order; others follow alphabetically.
METRIC_ORDER = (
    "exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1",
    "best_exact", "best_exact_thresh", "best_f1", "best_f1_thresh", "total", "HasAns_total", "NoAns_total",
)
# Within a group of the end event (holdout, dev): the few that matter.
GROUP_METRICS = ("exact", "f1", "HasAns_f1", "NoAns_f1", "best_f1", "best_f1_thresh", "total")


def total_steps(state: RunState) -> int:
    """The run's optimizer steps: from its logs, else its --max-steps setting (0: not known yet)."""
    if state.max_steps:
        return state.max_steps
    planned = (state.settings or {}).get("max_steps")
    return planned if isinstance(planned, int) and planned > 0 else 0


def stats_line(state: RunState) -> Text:
    """`step 120 / 500 · loss 1.2345 · 41.2 ex/s · ETA 3m 10s · lr 2.40e-05 · epoch 0.48` (what fits)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    total = str(total_steps(state) or "?")
    text.append(f"step {state.step} / {total}", style="bold")
    parts = []
    if state.losses:
        parts.append(f"loss {state.losses[-1][1]:.4f}")
    if state.examples_per_s is not None:
        parts.append(f"{state.examples_per_s:.1f} ex/s")
    if state.status == "running":
        parts.append(f"ETA {format_duration(state.eta_s)}")
    if state.learning_rate is not None:
        parts.append(f"lr {state.learning_rate:.2e}")
    parts.append(f"epoch {state.epoch:.2f}")
    for part in parts:
        text.append(" · ", style="dim")
        text.append(part)
    return text


class RunHeader(Static):
    """Which run, and what state it is in."""

    def show(self, run_dir: str | None, state: RunState | None, pid: int | None = None) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        if run_dir is None or state is None:
            text.append("No run yet: ", style="bold")
            text.append("n starts a training run, o watches a run directory (qa-tui watch DIR does too).")
            self.update(text)
            return
        text.append(state.status, style=STATUS_STYLES.get(state.status, "bold"))
        text.append("  ")
        text.append(run_dir)
        if pid is not None and state.status in ("waiting", "running"):
            text.append(f"  (pid {pid})", style="dim")
        settings = state.settings or {}
        model = settings.get("model")
        if model:
            text.append("  model ", style="dim")
            text.append(str(model))
        self.update(text)


class LossPlot(PlotextPlot):
    """Training loss by step, redrawn when points are added."""

    def on_mount(self) -> None:
        self.show_points([])

    def show_points(self, points: list[tuple[int, float]]) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("training loss")
        plt.xlabel("step")
        if points:
            steps = [step for step, _ in points]
            losses = [loss for _, loss in points]
            plt.plot(steps, losses, marker="braille")
        self.refresh()


class MetricsPanel(Static):
    """The latest evaluation metrics, one per line; the end event's groups (holdout, dev) under their names."""

    def show(self, metrics: dict) -> None:
        if not metrics:
            self.update(Text("No evaluation yet.", style="dim"))
            return
        table = Table.grid(padding=(0, 1))
        table.add_column(style="dim", no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        scalars = {key: value for key, value in metrics.items() if not isinstance(value, dict)}
        groups = {key: value for key, value in metrics.items() if isinstance(value, dict)}
        self._add_rows(table, scalars, None)
        for name, group in groups.items():
            table.add_row(Text(name, style="bold"), "")
            self._add_rows(table, group, GROUP_METRICS)
        self.update(table)

    @staticmethod
    def _add_rows(table: Table, metrics: dict, keys: tuple[str, ...] | None) -> None:
        """The metrics named in `keys` (all, known ones first, when None), in that order."""
        if keys is None:
            chosen = [key for key in METRIC_ORDER if key in metrics]
            chosen += sorted(key for key in metrics if key not in METRIC_ORDER)
        else:
            chosen = [key for key in keys if key in metrics]
        for key in chosen:
            value = metrics[key]
            shown = f"{value:.2f}" if isinstance(value, float) else str(value)
            table.add_row(key, shown)
