"""What the workbench's Pilot tests share: waiting for workers, asking, and reading the screen."""

from __future__ import annotations


async def settle(pilot) -> None:
    """Let workers finish and their messages be handled."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def ask(pilot, question: str) -> None:
    """Type `question` into the question input, press Enter and wait for the answer."""
    question_input = pilot.app.screen.query_one("#question")
    question_input.focus()
    question_input.value = question
    await pilot.press("enter")
    await settle(pilot)


def notices(app) -> list[tuple[str, str, str]]:
    return [(note.severity, note.title, note.message) for note in app._notifications]


def parts(app):
    """The workbench's context pane, candidates table and status bar."""
    from qa_tui.tui.widgets import CandidatesTable, ContextPane, StatusBar

    screen = app.screen
    return screen.query_one(ContextPane), screen.query_one(CandidatesTable), screen.query_one(StatusBar)
