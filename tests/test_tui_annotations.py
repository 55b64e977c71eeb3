"""Annotating in the workbench, driven with Textual's Pilot: accept a candidate (a), a selected span (a), no answer
(u), undo (ctrl+z), re-annotating replaces, the file survives a restart, an invalid file is refused; corpus mode.

The tiny random model's answers are nonsense, but real spans with real offsets: what is checked is that each
record slices its context exactly where the screen showed it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from qa_tui.annotations import AnnotationStore
from qa_tui.data.squad import read_records

from conftest import async_test
from pilot_helpers import ask, parts, settle
from test_tui import QUESTION, SAMPLE, make_app, plain
from test_tui_corpus import CORPUS, open_corpus
from test_tui_corpus import make_app as make_corpus_app


def annotating_app(engine, path: Path):
    """The workbench on the sample, a span always winning, annotating into `path`."""
    return make_app(engine, threshold=1e9, context=SAMPLE, annotations=AnnotationStore.open(path))


def saved(path: Path) -> list:
    """The records as `qa-tui train --train-file` would read them (strict: any bad record fails the test)."""
    return list(read_records(path, strict=True))


@async_test
async def test_a_accepts_the_chosen_candidate_and_the_status_bar_counts_it(engine, tmp_path):
    path = tmp_path / "annotations.json"
    app = annotating_app(engine, path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        _, table, status = parts(app)
        assert "0 annotated" in plain(status)
        await ask(pilot, QUESTION)
        assert app.focused is table  # the answer's turn: a and u work at once
        await pilot.press("down", "a")  # the second candidate
        await pilot.pause()
        chosen = table.answer.answers[1]
        (record,) = saved(path)
        context = SAMPLE.read_text(encoding="utf-8")
        assert (record.title, record.context, record.question) == (SAMPLE.name, context, QUESTION)
        start = record.answers[0]["answer_start"]
        assert context[start:start + len(record.answers[0]["text"])] == record.answers[0]["text"]
        assert chosen.text.strip() == record.answers[0]["text"]
        assert start == chosen.start + len(chosen.text) - len(chosen.text.lstrip())
        assert "1 annotated" in plain(status)
        json.loads(path.read_text(encoding="utf-8"))  # plain JSON, as `python -m json.tool` reads it


@async_test
async def test_a_over_a_selection_in_the_context_annotates_exactly_that_span(engine, tmp_path):
    path = tmp_path / "annotations.json"
    app = annotating_app(engine, path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, QUESTION)
        pane, _, _ = parts(app)
        pane.focus()
        pane.move_cursor((0, 4))
        await pilot.press(*["shift+right"] * 9)
        start, end = pane.highlighted_range
        assert (start, end) == (4, 13)
        await pilot.press("a")
        await pilot.pause()
        assert pane.text == SAMPLE.read_text(encoding="utf-8")  # the a was not typed over the selection
        (record,) = saved(path)
        expected = pane.text[start:end].strip()
        assert record.answers[0]["text"] == expected
        assert record.context[record.answers[0]["answer_start"]:][: len(expected)] == expected


@async_test
async def test_u_marks_no_answer_ctrl_z_takes_it_back_and_a_second_annotation_replaces_the_first(engine, tmp_path):
    path = tmp_path / "annotations.json"
    app = annotating_app(engine, path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        _, table, status = parts(app)
        await ask(pilot, QUESTION)
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("u")  # same question, same context: replaces the span
        await pilot.pause()
        (record,) = saved(path)
        assert record.is_impossible and "1 annotated" in plain(status)
        await pilot.press("ctrl+z")  # back to the accepted span
        await pilot.pause()
        (record,) = saved(path)
        assert record.answers[0]["text"] == table.answer.answers[0].text.strip()
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert saved(path) == [] and "0 annotated" in plain(status)
        assert app.screen.check_action("undo_annotation", ()) is False  # nothing left: ctrl+z leaves the footer


@async_test
async def test_typing_in_the_candidates_starts_a_new_question(engine, tmp_path):
    app = annotating_app(engine, tmp_path / "a.json")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, QUESTION)
        await pilot.press(*"What about cases?")  # a, u and c once a question has begun: letters, not keys
        await pilot.pause()
        question = app.screen.query_one("#question")
        assert app.focused is question and question.value == "What about cases?"
        assert not (tmp_path / "a.json").exists()  # no letter of it annotated anything


@async_test
async def test_keys_queued_before_the_focus_moves_all_reach_the_new_question(engine, tmp_path):
    from textual import events

    app = annotating_app(engine, tmp_path / "a.json")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, QUESTION)
        _, table, _ = parts(app)
        for key, character in (("W", "W"), ("a", "a"), ("u", "u"), ("c", "c"), ("question_mark", "?")):
            table.post_message(events.Key(key, character))  # a burst: all queued before the first is handled
        await pilot.pause()
        await pilot.pause()
        question = app.screen.query_one("#question")
        assert app.focused is question and question.value == "Wauc?"
        assert not (tmp_path / "a.json").exists()


@async_test
async def test_a_key_typed_into_the_next_question_while_the_model_works_keeps_the_focus(engine, tmp_path):
    import threading

    release = threading.Event()

    class SlowEngine:
        """The tiny engine, answering only once the test says so."""

        def __getattr__(self, name):
            return getattr(engine, name)

        def answer(self, *args, **kwargs):
            release.wait(10)
            return engine.answer(*args, **kwargs)

    app = make_app(SlowEngine(), threshold=1e9, context=SAMPLE)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        question = app.screen.query_one("#question")
        question.focus()
        question.value = QUESTION
        await pilot.press("enter")
        question.value = "What is the next"  # typed before the answer came
        release.set()
        await settle(pilot)
        _, table, _ = parts(app)
        assert table.answer is not None and table.answer.question == QUESTION
        assert app.focused is question and question.value == "What is the next"


@async_test
async def test_annotations_reload_on_the_next_start(engine, tmp_path):
    path = tmp_path / "annotations.json"
    first = annotating_app(engine, path)
    async with first.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, QUESTION)
        await pilot.press("u")
        await ask(pilot, "Who wrote it?")
        await pilot.press("a")
        await pilot.pause()
    second = annotating_app(engine, path)
    async with second.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        _, _, status = parts(second)
        assert "2 annotated" in plain(status)
        await ask(pilot, "A third one?")
        await pilot.press("u")
        await pilot.pause()
    assert [r.question for r in saved(path)] == [QUESTION, "Who wrote it?", "A third one?"]


def test_an_invalid_annotations_file_stops_qa_tui_with_one_line_and_is_left_untouched(tmp_path):
    from qa_tui.cli import app

    path = tmp_path / "annotations.json"
    path.write_text('{"data": [{"title": "t", "paragraphs": "oops"}]}', encoding="utf-8")
    before = path.read_bytes()
    result = CliRunner().invoke(app, ["--annotations", str(path)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and str(path) in lines[0] and "untouched" in lines[0]
    assert path.read_bytes() == before


@async_test
async def test_corpus_mode_annotations_keep_the_passage_of_the_source_file(engine, tmp_path):
    corpus = Path(shutil.copytree(CORPUS, tmp_path / "corpus"))
    path = tmp_path / "annotations.json"
    app = make_corpus_app(engine, tmp_path, top_k=10)
    app.annotations = AnnotationStore.open(path)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_corpus(pilot, corpus)
        await ask(pilot, "Which river passes through the most countries?")
        pane, table, _ = parts(app)
        span = table.answer.answers[0]
        await pilot.press("a")
        await pilot.pause()
        (record,) = saved(path)
        document = app.screen.corpus.documents[span.source]
        assert record.title == Path(span.source).relative_to(corpus).as_posix()  # no home folder in shared data
        assert record.context in document.text and len(record.context) < len(document.text)
        offset = document.text.index(record.context)
        assert offset + record.answers[0]["answer_start"] == span.start + (len(span.text) - len(span.text.lstrip()))
        assert record.answers[0]["text"] == span.text.strip()

        # A span selected in the pane, which shows the chosen answer's file: offsets into that file.
        assert app.screen.shown_source == span.source
        pane.focus()
        pane.move_cursor(pane.document.get_location_from_index(span.start))
        await pilot.press(*["shift+right"] * 4)
        start, end = pane.highlighted_range
        await pilot.press("a")
        await pilot.pause()
        assert app.focused is table  # so that ctrl+z takes the annotation back, not a text edit
        (record,) = saved(path)  # the same question on the same passage: replaced
        offset = document.text.index(record.context)
        selected = document.text[start:end].strip()
        assert record.answers[0]["text"] == selected
        assert record.context[record.answers[0]["answer_start"]:][: len(selected)] == selected

        await pilot.press("ctrl+z")
        await pilot.pause()
        assert saved(path)[0].answers[0]["text"] == span.text.strip()


@async_test
async def test_the_training_form_continues_from_the_loaded_model_on_the_annotations(engine, tmp_path):
    from qa_tui.tui.screens.train_form import ANNOTATION_RECIPE, TrainFormScreen

    path = tmp_path / "annotations.json"
    store = AnnotationStore.open(path)
    store.annotate_unanswerable("notes.txt", "Some context.", "Who?")
    general = Path(__file__).parent / "fixtures" / "train_tiny.json"
    app = make_app(engine, threshold=1e9, annotations=store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        requests = []
        app.push_screen(TrainFormScreen(), requests.append)
        await pilot.pause()
        await pilot.press("f4")
        await pilot.pause()
        form = app.screen
        assert form.query_one("#field-train_files").value == str(path)
        assert form.query_one("#field-model").value == engine.model_name  # the model the workbench has loaded
        assert form.query_one("#field-max_seq_length").value == str(engine.windows.max_seq_length)
        assert app.focused.id == "field-mix_in"
        form.query_one("#field-mix_in").value = f"{general}:2"  # a share is at most 1
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "FILE:SHARE" in plain(form.query_one("#form-error")) and not requests
        form.query_one("#field-mix_in").value = f"{general}:0.25"
        await pilot.press("ctrl+s")
        await pilot.pause()
        [request] = requests
        assert request.train_files == (str(path), f"{general}:0.25")
        assert request.model == engine.model_name
        assert (request.epochs, request.learning_rate) == (float(ANNOTATION_RECIPE["epochs"]),
                                                           float(ANNOTATION_RECIPE["learning_rate"]))


@async_test
async def test_the_training_form_says_why_it_cannot_fill_in_annotations(engine, tmp_path):
    from qa_tui.tui.screens.train_form import TrainFormScreen

    app = make_app(engine, threshold=1e9, annotations=AnnotationStore.open(tmp_path / "empty.json"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(TrainFormScreen())
        await pilot.pause()
        await pilot.press("f4")
        await pilot.pause()
        assert "no annotations yet" in plain(app.screen.query_one("#form-error"))
        assert app.screen.query_one("#field-train_files").value == ""
