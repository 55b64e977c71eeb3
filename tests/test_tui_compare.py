"""Compare mode, driven with Textual's Pilot: a second model loaded from the palette answers the same question
beside the first; "=" marks the spans both list, the second table's subtitle says whether the verdicts agree;
"Compare: off" goes back. Two tiny random models (seeds 0 and 1) stand in for two real ones.
"""

from __future__ import annotations

import itertools

import pytest

from qa_tui.comparison import same_verdict, shared_spans, span_key
from qa_tui.tui.app import QAWorkbenchApp
from qa_tui.tui.state import Settings

from conftest import async_test, build_tiny_qa_model
from pilot_helpers import ask, notices, settle
from test_tui import QUESTION, SAMPLE

SIZE = (100, 30)


@pytest.fixture(scope="module")
def engines(tiny_model_dir, tmp_path_factory):
    """Model "tiny-a" and "tiny-b" (another seed); any other name fails to load, as a bad path would."""
    from qa_tui.engine import QAEngine
    from qa_tui.errors import UserError

    other = build_tiny_qa_model(tmp_path_factory.mktemp("tiny-b"), seed=1)
    loaded = {"tiny-a": QAEngine.load(str(tiny_model_dir), device="cpu", precision="fp32"),
              "tiny-b": QAEngine.load(str(other), device="cpu", precision="fp32")}
    loaded["tiny-a"].model_name, loaded["tiny-b"].model_name = "tiny-a", "tiny-b"

    def factory(settings):
        if settings.model not in loaded:
            raise UserError(f"{settings.model}: no such model directory")
        return loaded[settings.model]

    return factory


def make_app(factory) -> QAWorkbenchApp:
    counter = itertools.count()
    settings = Settings(model="tiny-a", null_threshold=1e9, device="cpu", precision="fp32")
    return QAWorkbenchApp(settings, engine_factory=factory, context=SAMPLE, clock=lambda: next(counter) * 0.025)


async def palette(pilot, typed: str) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*typed)
    await pilot.pause(0.3)
    await pilot.press("enter")
    await settle(pilot)


def rank_cells(table) -> list[str]:
    return [str(table.get_row_at(row)[0]) for row in range(table.row_count)]


@async_test
async def test_a_second_model_answers_beside_the_first_and_shared_spans_are_marked(engines):
    app = make_app(engines)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await ask(pilot, QUESTION)
        screen = app.screen
        first, second = screen.query_one("#candidates"), screen.query_one("#compare-candidates")
        assert not second.display
        await palette(pilot, "compare tiny-b")
        assert app.compare_state.status == "ready" and second.display  # and the question was asked again
        a, b = first.answer, second.answer
        assert a is not None and b is not None and a.question == b.question == QUESTION
        assert [s.text for s in a.answers] != [s.text for s in b.answers]  # two different models
        shared = shared_spans(a, b)
        for table, answer in ((first, a), (second, b)):
            assert table.compact and len(table.columns) == 3  # rank, answer, score
            marks = [cell.endswith("=") for cell in rank_cells(table) if "∅" not in cell]
            assert marks == [span_key(span) in shared for span in answer.answers]
        assert second.border_subtitle == f"models {'agree' if same_verdict(a, b) else 'differ'}"
        assert "tiny-b" in second.border_title and "tiny-a" in first.border_title

        await palette(pilot, "Compare: off")
        assert app.compare_engine is None and not second.display and second.answer is None
        assert not first.compact and len(first.columns) == 5 and not any(c.endswith("=") for c in rank_cells(first))


@async_test
async def test_comparing_a_model_with_itself_marks_every_span_and_agrees(engines):
    app = make_app(engines)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette(pilot, "compare tiny-a")
        await ask(pilot, QUESTION)
        second = app.screen.query_one("#compare-candidates")
        spans = [cell for cell in rank_cells(second) if "∅" not in cell]
        assert spans and all(cell.endswith("=") for cell in spans)
        assert second.border_subtitle == "models agree"


@async_test
async def test_a_compare_model_that_cannot_load_is_reported_and_the_first_keeps_answering(engines):
    app = make_app(engines)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette(pilot, "compare runs/missing")
        assert app.compare_state.status == "failed" and app.compare_engine is None
        assert any("no such model directory" in message for _, _, message in notices(app))
        await ask(pilot, QUESTION)
        assert app.screen.query_one("#candidates").answer is not None
        assert not app.screen.query_one("#compare-candidates").display


@async_test
async def test_without_a_threshold_set_in_the_app_each_model_keeps_its_own(tiny_model_dir):
    from qa_tui.engine import QAEngine

    answers_always = QAEngine.load(str(tiny_model_dir), device="cpu", precision="fp32", null_threshold=1e9)
    never_answers = QAEngine.load(str(tiny_model_dir), device="cpu", precision="fp32", null_threshold=-1e9)
    loaded = {"tiny-a": answers_always, "tiny-b": never_answers}
    counter = itertools.count()
    app = QAWorkbenchApp(Settings(model="tiny-a", device="cpu", precision="fp32"),
                         engine_factory=lambda settings: loaded[settings.model], context=SAMPLE,
                         clock=lambda: next(counter) * 0.025)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette(pilot, "compare tiny-b")
        await ask(pilot, QUESTION)
        first, second = app.screen.query_one("#candidates"), app.screen.query_one("#compare-candidates")
        assert not first.answer.is_impossible and second.answer.is_impossible  # the same weights, two thresholds
        assert second.border_subtitle == "models differ"
        app.update_settings(null_threshold=1e9)  # one set in the app holds for both
        await settle(pilot)
        assert not second.answer.is_impossible


def test_shared_spans_and_same_verdict_on_hand_made_answers():
    from qa_tui.engine.decoding import Answer, NoAnswer, Span

    def answer(*texts, impossible=False):
        spans = [Span(text=t, start=s, end=s + len(t), score=1.0, probability=0.5) for t, s in texts]
        return Answer("q?", spans, NoAnswer(score=0.0, probability=0.1), impossible)

    a = answer(("44.4 %", 10), ("ARDS", 30))
    b = answer(("ARDS patients", 30), ("44.4 %", 10))
    assert shared_spans(a, b) == {("", 10, 16)}  # the same text at another place would not count
    assert not same_verdict(a, b)
    assert same_verdict(a, answer(("the 44.4 %", 6)))  # SQuAD normalisation: article and punctuation go
    assert same_verdict(answer(impossible=True), answer(("x", 0), impossible=True))
    assert not same_verdict(a, answer(("44.4 %", 10), impossible=True))
