"""Selection sets and weighted training files: the pure parts (parsing, keeping out, weighting, threshold curves)."""

from __future__ import annotations

import json
import random

import pytest

from qa_tui.data.features import FeatureSettings, KeptOut, split_examples
from qa_tui.data.train_files import parse_train_file
from qa_tui.data.squad import QARecord
from qa_tui.errors import UserError
from qa_tui.metrics import threshold_curve

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
