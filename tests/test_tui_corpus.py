"""The workbench's corpus mode, driven with Textual's Pilot: open a folder, ask, answers from many files ranked
together, choosing one shows its file with the span highlighted; bad folders become notifications.

The tiny random model's answers are nonsense, but real spans with real file offsets; the index is BM25 (fast) and
cached in a temporary folder.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest

from qa_tui.tui.app import QAWorkbenchApp
from qa_tui.tui.state import Settings

from conftest import async_test
from pilot_helpers import ask, notices, parts, settle

CORPUS = Path(__file__).parent / "fixtures" / "retrieval" / "corpus"
QUESTION = "Which river passes through the most countries?"


@pytest.fixture
def corpus(tmp_path) -> Path:
    return Path(shutil.copytree(CORPUS, tmp_path / "corpus"))


def make_app(engine, tmp_path: Path, **settings) -> QAWorkbenchApp:
    settings = Settings(model="tiny", null_threshold=1e9, device="cpu", precision="fp32", retriever="bm25",
                        passages=10, index_dir=str(tmp_path / "indexes"), **settings)
    counter = itertools.count()
    return QAWorkbenchApp(settings, engine_factory=lambda _settings: engine, clock=lambda: next(counter) * 0.025)


async def open_corpus(pilot, folder: Path) -> None:
    """F3, type the folder, Enter: the index is built in a worker."""
    await settle(pilot)
    await pilot.press("f3")
    await pilot.pause()
    path_input = pilot.app.screen.query_one("#path-input")
    path_input.value = str(folder)
    await pilot.press("enter")
    await settle(pilot)


def plain(widget) -> str:
    return str(widget.render())


@async_test
async def test_corpus_answers_come_from_many_files_and_choosing_one_highlights_it_in_its_file(engine, corpus, tmp_path):
    app = make_app(engine, tmp_path, top_k=20)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_corpus(pilot, corpus)
        pane, table, status = parts(app)
        screen = app.screen
        assert screen.corpus is not None and len(screen.corpus.documents) == 3
        assert "corpus: 3 files" in plain(status)
        assert any(title.startswith("Corpus ready") for _, title, _ in notices(app))
        assert pane.read_only and pane.has_class("corpus")
        assert "source" in [str(key.value) for key in table.columns]

        await ask(pilot, QUESTION)
        answer = table.answer
        assert answer is not None and not answer.is_impossible
        sources = {span.source for span in answer.answers}
        assert len(sources) >= 2, sources  # ranked together across files
        scores = [span.score for span in answer.answers]
        assert scores == sorted(scores, reverse=True)
        for row, span in enumerate(answer.answers):
            assert table.source_at(row) == span.source
            assert Path(span.source).name[:10] in str(table.get_row_at(row)[-1])

        # The verdict (row 0) is shown in its own file, highlighted at its file offsets.
        top = answer.answers[0]
        assert pane.text == screen.corpus.document_text(top.source) == Path(top.source).read_text(encoding="utf-8")
        assert pane.highlighted_range == (top.start, top.end)
        assert pane.selected_text == top.text == pane.text[top.start : top.end]

        # Move to the first candidate from another file: that file is loaded and the span highlighted.
        row = next(i for i, span in enumerate(answer.answers) if span.source != top.source)
        table.focus()
        for _ in range(row):
            await pilot.press("down")
        await settle(pilot)
        other = answer.answers[row]
        assert table.cursor_row == row
        assert pane.source == Path(other.source).name
        assert pane.text == Path(other.source).read_text(encoding="utf-8")
        assert pane.highlighted_range == (other.start, other.end)
        assert pane.selected_text == other.text == pane.text[other.start : other.end]


@async_test
async def test_opening_a_file_goes_back_to_one_context(engine, corpus, tmp_path):
    app = make_app(engine, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_corpus(pilot, corpus)
        pane, table, status = parts(app)
        await ask(pilot, QUESTION)
        assert table.answer is not None
        app.screen.open_context(corpus / "solar.txt")
        await settle(pilot)
        assert app.screen.corpus is None
        assert not pane.read_only and not pane.has_class("corpus")
        assert "corpus:" not in plain(status)
        assert "source" not in [str(key.value) for key in table.columns]
        assert table.answer is None
        await ask(pilot, "What is the largest planet?")
        assert table.answer is not None
        assert all(not getattr(span, "source", "") for span in table.answer.answers)
        top = table.answer.answers[0]
        assert pane.selected_text == top.text == pane.text[top.start : top.end]


@async_test
async def test_palette_command_closes_the_corpus(engine, corpus, tmp_path):
    from qa_tui.tui.commands import settings_commands

    app = make_app(engine, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        names = [name for name, _, _ in settings_commands(app, app.screen)]
        assert "Open folder as corpus…" in names and "Corpus: close" not in names
        await open_corpus(pilot, corpus)
        commands = {name: callback for name, _, callback in settings_commands(app, app.screen)}
        commands["Corpus: retriever whole"]()
        await settle(pilot)
        assert app.settings.retriever == "whole"
        await ask(pilot, QUESTION)
        assert len({span.source for span in parts(app)[1].answer.answers}) >= 2
        commands["Corpus: close"]()
        await settle(pilot)
        assert app.screen.corpus is None
        assert ("information", "Corpus closed") in [(s, t) for s, t, _ in notices(app)]


@async_test
async def test_an_empty_folder_or_unreadable_files_are_notifications(engine, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    unreadable = tmp_path / "binary"
    unreadable.mkdir()
    (unreadable / "blob.bin").write_bytes(bytes(range(256)) * 4)
    app = make_app(engine, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_corpus(pilot, empty)
        errors = [(title, message) for severity, title, message in notices(app) if severity == "error"]
        assert errors and errors[-1][0] == "Cannot open the folder as a corpus"
        assert "empty" in errors[-1][1]
        assert app.screen.corpus is None
        await open_corpus(pilot, unreadable)
        errors = [(title, message) for severity, title, message in notices(app) if severity == "error"]
        assert len(errors) == 2 and errors[-1][0] == "Cannot open the folder as a corpus"
        await open_corpus(pilot, tmp_path / "missing")
        assert len([n for n in notices(app) if n[0] == "error"]) == 3
        assert app.screen.corpus is None
        assert "corpus:" not in plain(parts(app)[2])
