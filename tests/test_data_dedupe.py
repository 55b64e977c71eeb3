"""Repeated and contradictory questions (SubjQA's train files have both): merged, and dropped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from qa_tui.data.dedupe import drop_conflicting_labels
from qa_tui.data.squad import QARecord, read_records

REPO = Path(__file__).resolve().parents[1]
REVIEW = "The battery lasts two days. The screen is dim."
OTHER_REVIEW = "Great coffee, strong and fresh."


def record(qid, question, answers, context=REVIEW, title="electronics:1"):
    return QARecord(id=qid, title=title, context=context, question=question, answers=answers)


BATTERY = {"text": "two days", "answer_start": 18}
SCREEN = {"text": "dim", "answer_start": 42}


def test_repeats_are_merged_with_all_their_answers_and_conflicts_dropped():
    records = [
        record("a_0", "How long does the battery last?", [BATTERY]),
        record("b_0", "Is the screen bright?", [SCREEN]),
        record("a_1", "how long does the  battery last?", [BATTERY]),  # a repeat, up to case and spaces
        record("b_1", "Is the screen bright?", []),  # the same pair labelled unanswerable: a conflict
        record("c_0", "Is the screen bright?", [], context=OTHER_REVIEW, title="grocery:9"),  # another review
        record("d_0", "What about the case?", []),
        record("d_1", "What about the case?", []),
    ]
    kept, summary = drop_conflicting_labels(records)
    assert [r.id for r in kept] == ["a_0", "c_0", "d_0"]
    assert kept[0].answers == [BATTERY]
    assert (summary.read, summary.kept, summary.merged) == (7, 3, 2)
    assert (summary.conflicting_pairs, summary.conflicting_records) == (1, 2)


def test_answers_of_repeats_are_united_without_duplicates():
    other = {"text": "two", "answer_start": 18}
    kept, _ = drop_conflicting_labels([
        record("a_0", "How long does the battery last?", [BATTERY]),
        record("a_1", "How long does the battery last?", [BATTERY, other]),
    ])
    assert kept[0].answers == [BATTERY, other]


def test_the_tool_writes_a_squad_v2_file_that_train_reads(tmp_path):
    source = {"version": "v2.0", "data": [{"title": "electronics:1", "paragraphs": [{"context": REVIEW, "qas": [
        {"id": "a_0", "question": "How long does the battery last?", "answers": [BATTERY], "is_impossible": False},
        {"id": "a_1", "question": "How long does the battery last?", "answers": [], "is_impossible": True},
        {"id": "b_0", "question": "Is it heavy?", "answers": [], "is_impossible": True},
    ]}]}]}
    (tmp_path / "in.json").write_text(json.dumps(source))
    out = tmp_path / "out.json"
    completed = subprocess.run(
        [sys.executable, str(REPO / "tools" / "dedupe_labels.py"), str(tmp_path / "in.json"), "--output", str(out)],
        capture_output=True, text=True, check=True,
    )
    assert "2 dropped from 1 pairs labelled both ways" in completed.stdout
    assert [(r.id, r.is_impossible) for r in read_records(out)] == [("b_0", True)]
