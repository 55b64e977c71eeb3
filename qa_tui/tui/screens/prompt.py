"""A small dialog that asks for one value (a number, a model path) and checks it before closing."""

from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

Check = Callable[[str], str | None]
"""Returns an error message for a bad value, None for a good one."""


class PromptScreen(ModalScreen[str | None]):
    """Ask for one value; Enter accepts it (when `check` finds nothing wrong), Escape cancels (None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, *, value: str = "", placeholder: str = "", hint: str = "", check: Check | None = None):
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.hint = hint
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog prompt") as box:
            box.border_title = self.title_text
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input")
            yield Label(self.hint, id="prompt-hint", classes="hint")
            yield Label("", id="prompt-error", classes="error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        error = self.check(value) if self.check is not None else None
        if error:
            self.query_one("#prompt-error", Label).update(error)
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def check_int(low: int, high: int) -> Check:
    def check(value: str) -> str | None:
        try:
            number = int(value)
        except ValueError:
            return f"{value!r} is not a whole number"
        return None if low <= number <= high else f"choose between {low} and {high}"

    return check


def check_float_or_blank(value: str) -> str | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return f"{value!r} is not a number"
    return None if number == number and abs(number) != float("inf") else "give a finite number"
