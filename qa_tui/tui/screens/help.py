"""The help screen (`?` or F1): every key binding of the app, grouped by where it works."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from qa_tui.tui.keys import GLOBAL_BINDINGS


def binding_sections() -> list[tuple[str, list[tuple[str, str]]]]:
    """(section, [(keys, what it does)]) for every screen and widget, read from their BINDINGS."""
    from qa_tui.tui.screens.file_open import FileOpenScreen
    from qa_tui.tui.screens.train_form import TrainFormScreen
    from qa_tui.tui.screens.training import TrainingScreen
    from qa_tui.tui.screens.workbench import WorkbenchScreen
    from qa_tui.tui.widgets.candidates import CandidatesTable
    from qa_tui.tui.widgets.question_input import QuestionInput

    def rows(bindings, extra=()):
        found = [
            (binding.key, binding.tooltip or binding.description or binding.action) for binding in _as_bindings(bindings)
        ]
        return list(extra) + found

    return [
        ("Everywhere", rows(GLOBAL_BINDINGS, [("ctrl+p", "Command palette: settings, models, samples")])),
        ("Workbench", rows(WorkbenchScreen.BINDINGS, [("tab / shift+tab", "Next / previous pane")])),
        ("Context", [("shift+arrows / drag", "Select text"),
                     ("a", "With text selected after an answer: annotate the selection as the answer")]),
        ("Question", rows(QuestionInput.BINDINGS, [("enter", "Ask the question")])),
        ("Candidates", rows(CandidatesTable.BINDINGS, [("up / down", "Choose a candidate: it is highlighted"),
                                                       ("other letters", "Start typing a new question")])),
        ("Training", rows(TrainingScreen.BINDINGS)),
        ("Training form", rows(TrainFormScreen.BINDINGS, [("tab / shift+tab", "Next / previous field")])),
        ("Open dialog", rows(FileOpenScreen.BINDINGS, [("enter", "Open the path / the chosen entry")])),
    ]


def _as_bindings(bindings) -> list[Binding]:
    out = []
    for binding in bindings:
        out.append(binding if isinstance(binding, Binding) else Binding(*binding))
    return out


class HelpScreen(ModalScreen[None]):
    """A scrollable list of the key bindings; Escape, q, ? or F1 closes it."""

    BINDINGS = [Binding("escape,q,f1,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help") as box:
            box.border_title = "Keys"
            box.border_subtitle = "esc closes"
            yield Static(self._table())

    def _table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for section, rows in binding_sections():
            table.add_row(Text(section, style="bold underline"), "")
            for keys, description in rows:
                table.add_row(self._keys(keys), description)
            table.add_row("", "")
        return table

    def _keys(self, keys: str) -> str:
        if " / " in keys:
            return keys
        return ", ".join(self.app.get_key_display(Binding(key.strip(), "")) for key in keys.split(","))

    def action_close(self) -> None:
        self.dismiss(None)
