"""qa_tui.metrics: the official SQuAD 2.0 definitions, checked on cases computed by hand."""

from __future__ import annotations

import pytest

from qa_tui.data.squad import QARecord
from qa_tui.metrics import exact_score, f1_score, gold_answers_of, normalize_answer, squad_v2_metrics


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("The  Quick, brown-fox!", "quick brownfox"),  # lower, punctuation dropped (not split on), article, spaces
        ("An apple a day", "apple day"),
        ("theatre and anatomy", "theatre and anatomy"),  # articles only as whole words
        ("  a.m.  ", "am"),  # punctuation goes first, so "a.m." is the word "am", not an article
        ("Café", "café"),
        ("", ""),
    ],
)
def test_normalize_answer(text, normalized):
    assert normalize_answer(text) == normalized


def test_exact_score():
    assert exact_score("the Eiffel Tower.", "Eiffel tower") == 1
    assert exact_score("Eiffel", "Eiffel tower") == 0
    assert exact_score("", "") == 1


def test_f1_partial_overlap_by_hand():
    # "cat sat on mat" vs "cat on red mat today": 3 common tokens, precision 3/4, recall 3/5 -> F1 2/3.
    assert f1_score("cat sat on the mat", "cat on the red mat today") == pytest.approx(2 / 3)
    # Repeated tokens count once per match: "new new york" vs "new york": precision 2/3, recall 1 -> 0.8.
    assert f1_score("new new york", "new york") == pytest.approx(0.8)
    assert f1_score("Paris", "London") == 0.0


def test_f1_empty_texts():
    assert f1_score("", "") == 1.0
    assert f1_score("the", "") == 1.0  # "the" normalises to nothing
    assert f1_score("", "Paris") == 0.0
    assert f1_score("Paris", "") == 0.0


def test_metrics_by_hand_with_several_gold_answers():
    gold = {
        "q1": ["Paris", "the city of Paris"],
        "q2": [],
        "q3": ["forty two years"],
        "q4": [],
    }
    predictions = {"q1": "city of Paris", "q2": "", "q3": "forty years old", "q4": "something"}
    metrics = squad_v2_metrics(gold, predictions)
    # q1: matches the second gold answer (max over gold) -> 1/1; q2: "" on unanswerable -> 1/1;
    # q3: 2 of 3 tokens each way -> exact 0, F1 2/3; q4: an answer to an unanswerable question -> 0/0.
    assert metrics["exact"] == pytest.approx(50.0)
    assert metrics["f1"] == pytest.approx(100 * (1 + 1 + 2 / 3 + 0) / 4)
    assert metrics["total"] == 4
    assert metrics["HasAns_exact"] == pytest.approx(50.0)
    assert metrics["HasAns_f1"] == pytest.approx(100 * (1 + 2 / 3) / 2)
    assert metrics["NoAns_exact"] == metrics["NoAns_f1"] == pytest.approx(50.0)
    assert metrics["HasAns_total"] == metrics["NoAns_total"] == 2
    assert "best_exact" not in metrics


def test_best_threshold_sweep_by_hand():
    gold = {"a": ["Paris"], "b": [], "c": ["April 1912"], "d": []}
    predictions = {"a": "Paris", "b": "London", "c": "1912", "d": ""}
    null_odds = {"d": 3.0, "b": 1.0, "c": 0.5, "a": -2.0}
    metrics = squad_v2_metrics(gold, predictions, null_odds)
    # As given: a right, b wrong, c F1 2/3 ("1912" vs "april 1912"), d right ("" stays "").
    assert metrics["exact"] == pytest.approx(50.0)
    assert metrics["f1"] == pytest.approx(100 * (1 + 0 + 2 / 3 + 1) / 4)
    # Sweep, odds ascending a, c, b, d, starting from "all no answer" = 2 (b and d right):
    #   exact: a +1 -> 3 (best, thresh -2.0); c +0 -> 3; b -1 -> 2; d +0 (prediction "") -> 2.
    #   F1:    a +1 -> 3 (thresh -2.0); c +2/3 -> 3.67 (best, thresh 0.5); b -1 -> 2.67; d +0 -> 2.67.
    assert metrics["best_exact"] == pytest.approx(75.0)
    assert metrics["best_exact_thresh"] == -2.0
    assert metrics["best_f1"] == pytest.approx(100 * (3 + 2 / 3) / 4)
    assert metrics["best_f1_thresh"] == 0.5


def test_best_threshold_when_abstaining_everywhere_is_best():
    gold = {"a": ["Paris"], "b": []}
    metrics = squad_v2_metrics(gold, {"a": "Rome", "b": "Oslo"}, {"a": 1.0, "b": 2.0})
    # Start: b right by abstaining = 1; a +0 -> 1 (not better); b -1 -> 0. Best stays at the start.
    assert metrics["best_exact"] == pytest.approx(50.0)
    assert metrics["best_exact_thresh"] == 0.0


def test_missing_prediction_scores_zero_and_never_crashes():
    gold = {"a": ["x"], "b": [], "c": []}
    metrics = squad_v2_metrics(gold, {}, {})
    assert (metrics["exact"], metrics["f1"], metrics["total"]) == (0.0, 0.0, 3)
    assert metrics["NoAns_exact"] == 0.0  # a missing prediction is not taken as ""
    assert metrics["best_exact"] == 0.0

    metrics = squad_v2_metrics(gold, {"a": "x", "b": ""}, {"a": 0.1, "b": 0.2, "c": 0.3})
    assert metrics["exact"] == pytest.approx(100 * 2 / 3)
    # Start: b right by abstaining (c has no prediction, wrong either way) = 1; a +1 -> 2 (best at 0.1); b +0.
    assert metrics["best_exact"] == pytest.approx(100 * 2 / 3)
    assert metrics["best_exact_thresh"] == 0.1


def test_groups_present_only_when_non_empty():
    metrics = squad_v2_metrics({"a": ["x"]}, {"a": "x"})
    assert metrics["HasAns_exact"] == 100.0 and metrics["HasAns_total"] == 1
    assert "NoAns_exact" not in metrics and "NoAns_f1" not in metrics
    assert metrics["NoAns_total"] == 0

    metrics = squad_v2_metrics({"b": []}, {"b": ""})
    assert metrics["NoAns_exact"] == 100.0 and "HasAns_f1" not in metrics and metrics["HasAns_total"] == 0


def test_gold_answers_that_normalise_to_nothing():
    # As in the official script: dropped for scoring (only "" is right), but the question still counts as HasAns.
    metrics = squad_v2_metrics({"q": ["The", "."]}, {"q": ""})
    assert metrics["exact"] == metrics["f1"] == 100.0
    assert metrics["HasAns_total"] == 1 and metrics["NoAns_total"] == 0


def test_extra_predictions_and_odds_are_ignored():
    metrics = squad_v2_metrics({"a": ["x"]}, {"a": "x", "zz": "y"}, {"a": 0.0, "zz": -5.0})
    assert (metrics["exact"], metrics["total"], metrics["best_exact"]) == (100.0, 1, 100.0)


def test_empty_gold():
    metrics = squad_v2_metrics({}, {}, {})
    assert (metrics["exact"], metrics["f1"], metrics["total"], metrics["best_f1"]) == (0.0, 0.0, 0, 0.0)


def test_gold_answers_of_records():
    records = [
        QARecord("1", "", "Paris is big.", "What?", [{"text": "Paris", "answer_start": 0}]),
        QARecord("2", "", "Paris is big.", "Who?", []),
    ]
    assert gold_answers_of(records) == {"1": ["Paris"], "2": []}
