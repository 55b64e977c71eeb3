"""Selection sets and weighted training files: the pure parts (parsing, keeping out, weighting, threshold curves)."""

from __future__ import annotations

import pytest

from qa_tui.data.features import FeatureSettings, KeptOut, split_examples
from qa_tui.data.train_files import parse_train_file
from qa_tui.data.squad import QARecord
from qa_tui.errors import UserError
from qa_tui.metrics import squad_v2_metrics, threshold_curve
from qa_tui.train.selection import choose_threshold

from conftest import FIXTURES


def record(qid, title="T", context="The bridge was rebuilt in 1957.", answers=None):
    answers = [{"text": "1957", "answer_start": 26}] if answers is None else answers
    return QARecord(qid, title, context, "When was the bridge rebuilt?", answers)


def test_a_train_file_spec_carries_an_optional_weight(tmp_path):
    assert parse_train_file("data/train.json") == ("data/train.json", 1.0)
    assert parse_train_file("data/train.json:2") == ("data/train.json", 2.0)
    assert parse_train_file("data/train.json:0.5") == ("data/train.json", 0.5)
    assert parse_train_file("C:/data/train.json") == ("C:/data/train.json", 1.0)  # not a number: part of the path
    named = tmp_path / "odd:3"
    named.write_text("{}")
    assert parse_train_file(str(named)) == (str(named), 1.0), "an existing file's name wins"
    with pytest.raises(UserError, match="above 0"):
        parse_train_file("train.json:0")


def test_kept_out_matches_a_title_or_a_context_whatever_its_white_space():
    kept_out = KeptOut.of([record("s1", title="Selection", context="The  bridge was\nrebuilt in 1957. ")])
    assert kept_out.holds(record("a", title="Other"))  # same paragraph, other title
    assert kept_out.holds(record("b", title="Selection", context="Another paragraph."))  # same article
    assert not kept_out.holds(record("c", title="Other", context="Another paragraph."))


def test_a_weight_repeats_a_files_questions_but_not_its_negatives(tmp_path):
    def count(spec, **settings):
        reports = []
        rows = list(split_examples([spec], FeatureSettings(**settings), reports))
        answerable = sum(not r.is_impossible for _, r in rows)
        return answerable, len(rows) - answerable

    path = str(FIXTURES / "train_tiny.json")
    plain_answerable, plain_negatives = count(path, negatives=1.0)
    assert (plain_answerable, plain_negatives) == (13, 13)
    assert count(f"{path}:3", negatives=1.0) == (39, 13)
    halves = [count(f"{path}:0.5", seed=seed)[0] for seed in range(40)]
    assert all(0 <= n <= 13 for n in halves) and 4 < sum(halves) / len(halves) < 9


def test_the_threshold_curve_answers_a_question_when_its_null_odds_are_at_or_below_the_threshold():
    gold = {"a": ["1957"], "b": ["the bridge"], "u": []}
    spans = {"a": "1957", "b": "bridge was", "u": "1957"}
    null_odds = {"a": -3.0, "b": 0.0, "u": 1.0}
    low, middle, high = threshold_curve(gold, spans, null_odds, [-5.0, -1.0, 2.0])
    assert (low["f1"], low["HasAns_f1"], low["NoAns"], low["answered"]) == pytest.approx((100 / 3, 0.0, 100.0, 0.0))
    assert (middle["HasAns_f1"], middle["NoAns"]) == (50.0, 100.0)  # only "a" answered, right
    b_f1 = 2 * 0.5 * 1.0 / 1.5  # "bridge was" against "bridge" (articles dropped): precision 1/2, recall 1
    assert high["HasAns_f1"] == pytest.approx(100 * (1 + b_f1) / 2) and high["NoAns"] == 0.0
    assert high["f1"] == pytest.approx(100 * (1 + b_f1) / 3)


def test_the_stated_rule_picks_the_best_answer_or_abstain_decision_not_the_best_f1():
    """Right spans that score a partial F1 against their one reference make abstaining look better to best_f1; the
    balanced-accuracy rule counts only the decision."""
    gold = {"a1": ["the old stone bridge"], "a2": ["the old stone bridge"], "a3": ["the old stone bridge"],
            "u1": [], "u2": []}
    spans = {qid: ("bridge" if qid.startswith("a") else "1957") for qid in gold}  # F1 0.5 on each answerable one
    null_odds = {"a1": -4.0, "u1": -3.0, "a2": -2.0, "a3": -1.0, "u2": 1.0}
    metrics = squad_v2_metrics(gold, spans, null_odds)
    # F1 points: 2 with none answered, 2.5 with a1, 1.5 past u1, 2.5 again with a2 and a3: the first best stays.
    assert metrics["best_f1_thresh"] == -4.0
    # Balanced accuracy: a1 alone (1/3 + 2/2) / 2 = 66.7; a1-a3 with u1 given away (3/3 + 1/2) / 2 = 75.
    assert metrics["best_balanced_accuracy"] == pytest.approx(75.0)
    assert metrics["best_balanced_accuracy_thresh"] == -1.0
    assert choose_threshold(metrics) == -1.0


def test_the_balanced_rule_needs_both_kinds_of_question():
    assert "best_balanced_accuracy_thresh" not in squad_v2_metrics({"a": ["x"]}, {"a": "x"}, {"a": 0.0})
