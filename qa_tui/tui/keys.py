"""The app's global key bindings, kept apart from the App so that the help screen lists them without importing it."""

from __future__ import annotations

from textual.binding import Binding

GLOBAL_BINDINGS = [
    Binding("ctrl+q", "quit", "Quit", priority=True),
    Binding("f1", "help", "Help", tooltip="This list of keys"),
    Binding("question_mark", "help", "Help", show=False, tooltip="This list of keys (outside text fields)"),
    Binding("ctrl+t", "toggle_training", "Training", tooltip="Switch between the workbench and training screens"),
]
