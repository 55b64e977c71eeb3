"""Scoring the engine's answers: predictions at the engine's threshold, the n-best lists and null odds written
for `qa-tui eval`, and the threshold sweep over the real null odds."""

from __future__ import annotations

import json

from qa_tui.data.squad import QARecord
from qa_tui.engine.decoding import Answer, NoAnswer, Span
from qa_tui.evaluation import score_answers

CONTEXT = "Tides are caused by the Moon. The Sun matters less."


def record(id_, question, answer_text=None):
    answers = [{"text": answer_text, "answer_start": CONTEXT.index(answer_text)}] if answer_text else []
    return QARecord(id=id_, title="t", context=CONTEXT, question=question, answers=answers)


def span(text, score):
    start = CONTEXT.index(text)
    return Span(text=text, start=start, end=start + len(text), score=score, probability=0.25)


def test_predictions_nbest_and_null_odds_of_hand_made_answers(tmp_path):
    records = [record("a", "What causes tides?", "the Moon"), record("b", "What causes rain?")]
    answers = [
        # answered: null 1.0 - best 5.0 = -4 is below the threshold
        Answer("What causes tides?", [span("the Moon", 5.0), span("Sun", 2.0)], NoAnswer(1.0, 0.1), False),
        # abstains at the engine's threshold, though its best span would have been wrong anyway
        Answer("What causes rain?", [span("The Sun", 2.0)], NoAnswer(3.0, 0.6), True),
    ]
    result = score_answers(records, answers)
    assert result.predictions == {"a": "the Moon", "b": ""}
    assert result.null_odds == {"a": -4.0, "b": 1.0}
    assert result.metrics["exact"] == 100.0 and result.metrics["total"] == 2
    assert result.nbest["a"] == [
        {"text": "the Moon", "start": 20, "end": 28, "score": 5.0, "probability": 0.25},
        {"text": "Sun", "start": 34, "end": 37, "score": 2.0, "probability": 0.25},
        {"text": "", "score": 1.0, "probability": 0.1},
    ]
    # Any threshold between -4 and 1 answers "a" and abstains on "b": the sweep finds the full score.
    assert result.metrics["best_f1"] == 100.0 and -4.0 <= result.metrics["best_f1_thresh"] < 1.0
    result.write(tmp_path)
    assert json.loads((tmp_path / "nbest_predictions.json").read_text()) == result.nbest
    assert json.loads((tmp_path / "predictions.json").read_text()) == result.predictions
