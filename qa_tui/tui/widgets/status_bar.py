"""The status bar: the model, where it runs, its precision (and runtime), the last answer's latency, the settings."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from qa_tui.engine import precision_label
from qa_tui.tui.state import ModelState, Settings, format_latency

STATUS_STYLES = {"ready": "green", "loading": "yellow", "failed": "red", "none": "red"}


class StatusBar(Static):
    """One line at the bottom of the workbench; it follows the app's `model_state` and `settings`."""

    latency: reactive[float | None] = reactive(None)
    busy: reactive[str] = reactive("")
    corpus: reactive[str] = reactive("")  # corpus mode: "corpus: N files", else ""
    annotated: reactive[str] = reactive("")  # "12 annotated → FILE", or "" when annotating is off

    def on_mount(self) -> None:
        self.watch(self.app, "model_state", self._refresh_text)
        self.watch(self.app, "settings", self._refresh_text)

    def watch_latency(self) -> None:
        self._refresh_text()

    def watch_busy(self) -> None:
        self._refresh_text()

    def watch_corpus(self) -> None:
        self._refresh_text()

    def watch_annotated(self) -> None:
        self._refresh_text()

    def _refresh_text(self, *_ignored) -> None:
        state: ModelState = self.app.model_state
        settings: Settings = self.app.settings
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("● ", style=STATUS_STYLES.get(state.status, ""))
        if state.status == "ready":
            text.append(state.label, style="bold")
            for part in (state.device, precision_label(state.runtime, state.precision),
                         f"last {format_latency(self.latency)}"):
                text.append(" │ ", style="dim")
                text.append(part)
        elif state.status == "loading":
            text.append(f"loading {state.label}…")
        elif state.status == "failed":
            text.append(f"model not loaded: {state.message}", style="bold")
        else:
            # Why there is none (no bundled model, say) was a notification; here: what to do about it.
            text.append("no model", style="bold")
            text.append(" · ctrl+p → Model: load…", style="dim")
        text.append(" │ ", style="dim")
        text.append(f"top-k {settings.top_k}")
        threshold = state.null_threshold if state.null_threshold is not None else settings.null_threshold
        if threshold is not None:
            text.append(f" │ threshold {threshold:g}")
        if self.corpus:
            text.append(" │ ", style="dim")
            text.append(self.corpus, style="bold")
            text.append(f" ({settings.retriever})", style="dim")
        if self.annotated:
            text.append(" │ ", style="dim")
            text.append(self.annotated)
        if self.busy:
            text.append(" │ ", style="dim")
            text.append(self.busy, style="italic")
        self.update(text)
