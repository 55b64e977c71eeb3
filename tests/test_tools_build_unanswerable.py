"""tools/build_unanswerable.py: written TSV lines -> SQuAD 2.0 training file; a line it rejects never gets there."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import FIXTURES

REPO = Path(__file__).resolve().parents[1]
SQUAD = FIXTURES / "train_tiny.json"


def test_good_lines_become_unanswerable_questions_and_bad_ones_are_named(tmp_path):
    data = json.loads(SQUAD.read_text())
    curie, danube = data["data"][0], data["data"][1]
    answerable = curie["paragraphs"][0]["qas"][0]["question"]
    lines = [
        f"{curie['title']}#0\tSWAP\tWhere was Curie's sister born?\tWarsaw",
        f"{curie['title']}#0\tNEUT\tWhat did the prize cost?\tnot in the paragraph",
        f"{curie['title']}#0\tSWAP\tWhere was Curie's sister born?\tWarsaw",  # repeated
        f"{curie['title']}#0\tSWAP\t{answerable}\tx",  # copies an answerable question
        f"{curie['title']}#99\tSWAP\tWho was there?\tx",  # no such paragraph
        f"{curie['title']}#0\tODD\tWho was there?\tx",  # unknown kind
        f"{curie['title']}#0\tNEUT\tWho?\tx",  # too short
        f"{danube['title']}#0\tANT\tWhere does the Danube begin?\tx",  # a selection article
        "only\ttwo fields",
    ]
    (tmp_path / "w.tsv").write_text("\n".join(lines) + "\n")
    selection = {"version": "v2.0", "data": [{"title": danube["title"], "paragraphs": []}]}
    (tmp_path / "selection.json").write_text(json.dumps(selection))
    completed = subprocess.run(
        [sys.executable, str(REPO / "tools" / "build_unanswerable.py"), "--squad", str(SQUAD),
         "--exclude", str(tmp_path / "selection.json"), "--output", str(tmp_path / "out.json"), str(tmp_path / "w.tsv")],
        check=True, capture_output=True, text=True,
    )
    named = [line.split(": ", 1)[0].rsplit(":", 1)[1] for line in completed.stderr.splitlines() if "w.tsv:" in line]
    assert named == ["3", "4", "5", "6", "7", "8", "9"]
    built = json.loads((tmp_path / "out.json").read_text())
    [article] = built["data"]
    [paragraph] = article["paragraphs"]
    assert article["title"] == curie["title"] and paragraph["pid"] == f"{curie['title']}#0"
    assert paragraph["context"] == curie["paragraphs"][0]["context"]
    first, second = paragraph["qas"]
    assert first["is_impossible"] and first["answers"] == [] and first["kind"] == "SWAP"
    [plausible] = first["plausible_answers"]  # "Warsaw" is in the paragraph: its span is found
    assert paragraph["context"][plausible["answer_start"]:][:len("Warsaw")] == plausible["text"] == "Warsaw"
    assert "plausible_answers" not in second  # its span is not in the paragraph
