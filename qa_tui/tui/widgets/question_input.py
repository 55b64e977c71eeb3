"""The question input: Enter asks, up and down walk through the questions asked before."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input

from qa_tui.tui.messages import QuestionAsked


class QuestionInput(Input):
    """A one-line input with a shell-like history of the questions asked in this session."""

    BINDINGS = [
        Binding("up", "history(-1)", "Previous question", show=False),
        Binding("down", "history(1)", "Next question", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(placeholder="Ask a question about the context, then press Enter", **kwargs)
        self.history: list[str] = []
        self._position = 0  # == len(history): the draft being typed
        self._draft = ""

    def type_ahead(self, character: str, first: bool) -> None:
        """A key typed in the candidates: the `first` begins a new question, the others go on with it."""
        if first:
            self.value = character
        else:
            self.value += character
        self.cursor_position = len(self.value)
        self.select_on_focus = False  # Input's own focus handler would select it all, and the next key replace it
        self.call_after_refresh(setattr, self, "select_on_focus", True)

    def remember(self, question: str) -> None:
        """Add a question to the history (a repeat of the last one is kept once) and go back to a fresh draft."""
        if not self.history or self.history[-1] != question:
            self.history.append(question)
        self._position = len(self.history)
        self._draft = ""

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._position == len(self.history):
            self._draft = self.value
        position = min(max(self._position + step, 0), len(self.history))
        if position == self._position:
            return
        self._position = position
        self.value = self._draft if position == len(self.history) else self.history[position]
        self.cursor_position = len(self.value)

    async def action_submit(self) -> None:
        """Enter: post `QuestionAsked` (blank input asks nothing); the text stays, selected: typing replaces it."""
        question = self.value.strip()
        if not question:
            self.app.bell()
            return
        self.remember(question)
        self.select_all()
        self.post_message(QuestionAsked(question))
