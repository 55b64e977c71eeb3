"""tools/abstentions.py: the share of "no answer" predictions per kind of question, as the model card quotes it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_abstentions_are_counted_by_id_suffix_and_by_negative_word(tmp_path):
    context = "The bridge was rebuilt in 1957."
    questions = [
        ("a", "When was the bridge rebuilt?", [{"text": "1957", "answer_start": 26}]),
        ("b", "When wasn't the bridge rebuilt?", [{"text": "1957", "answer_start": 26}]),
        ("a__not", "When was not the bridge rebuilt?", []),
        ("a__ant", "When was the bridge last rebuilt?", []),
        ("c", "Who never rebuilt it?", []),
    ]
    data = {"version": "v2.0", "data": [{"title": "T", "paragraphs": [{"context": context, "qas": [
        {"id": qid, "question": question, "answers": answers, "is_impossible": not answers}
        for qid, question, answers in questions
    ]}]}]}
    (tmp_path / "data.json").write_text(json.dumps(data))
    predictions = {"a": "1957", "b": "", "a__not": "", "a__ant": "1957", "c": ""}
    (tmp_path / "predictions.json").write_text(json.dumps(predictions))
    completed = subprocess.run(
        [sys.executable, str(REPO / "tools" / "abstentions.py"), "--data", str(tmp_path / "data.json"),
         "--predictions", str(tmp_path / "predictions.json")],
        check=True, capture_output=True, text=True,
    )
    rows = {line[:40].strip(): line[40:].split("abstained")[0].replace(" ", "") for line in completed.stdout.splitlines()}
    assert rows == {
        "kind answerable": "1/2",
        "kind not": "1/1",
        "kind ant": "0/1",
        "kind unanswerable": "1/1",
        "answerable, with a negative word": "1/1",
        "answerable, without": "0/1",
        "unanswerable, with a negative word": "2/2",
        "unanswerable, without": "0/1",
    }


def test_by_kind_groups_unanswerable_questions_by_their_kind_field(tmp_path):
    context = "The bridge was rebuilt in 1957."
    qas = [
        {"id": "a", "question": "When was the bridge rebuilt?", "answers": [{"text": "1957", "answer_start": 26}]},
        {"id": "s1", "question": "When was the tunnel rebuilt?", "answers": [], "is_impossible": True, "kind": "SWAP"},
        {"id": "s2", "question": "When was the road rebuilt?", "answers": [], "is_impossible": True, "kind": "SWAP"},
        {"id": "n1", "question": "When wasn't the bridge rebuilt?", "answers": [], "is_impossible": True, "kind": "NEG"},
    ]
    data = {"version": "v2.0", "data": [{"title": "T", "paragraphs": [{"context": context, "qas": qas}]}]}
    (tmp_path / "data.json").write_text(json.dumps(data))
    (tmp_path / "predictions.json").write_text(json.dumps({"a": "", "s1": "", "s2": "1957", "n1": ""}))
    completed = subprocess.run(
        [sys.executable, str(REPO / "tools" / "abstentions.py"), "--data", str(tmp_path / "data.json"),
         "--predictions", str(tmp_path / "predictions.json"), "--by-kind"],
        check=True, capture_output=True, text=True,
    )
    rows = {line[:40].strip(): line[40:].split("abstained")[0].replace(" ", "") for line in completed.stdout.splitlines()}
    assert rows == {"answerable": "1/1", "kind SWAP": "1/2", "kind NEG": "1/1"}
