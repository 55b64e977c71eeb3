"""`qa-tui eval --compare`: the agreement counts and disagreement rows of two evaluations (a pure function, on
hand-made predictions), and the command with two tiny models, checked against a plain `qa-tui eval` of each."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qa_tui.cli import app
from qa_tui.comparison import compare_results
from qa_tui.data.squad import QARecord
from qa_tui.evaluation import EvalResult
from qa_tui.metrics import normalize_answer

from conftest import FIXTURES, build_tiny_qa_model

CONTEXT = "Tides are caused by the Moon. The Sun matters less."


def record(id_, answer_text=None):
    answers = [{"text": answer_text, "answer_start": CONTEXT.index(answer_text)}] if answer_text else []
    return QARecord(id=id_, title="t", context=CONTEXT, question=f"question {id_}?", answers=answers)


def result(predictions, null_odds):
    return EvalResult(predictions, nbest={}, null_odds=null_odds, metrics={})


def test_agreement_counts_and_disagreements_of_hand_made_predictions():
    records = [record("a", "the Moon"), record("b"), record("c", "Sun"), record("d", "the Moon"), record("e")]
    model = result(
        {"a": "The Moon.", "b": "", "c": "Moon", "d": "Moon", "e": "Sun"},
        {"a": -3.0, "b": 2.0, "c": -1.0, "d": -2.0, "e": -0.5},
    )
    compare = result(
        {"a": "moon", "b": "", "c": "Sun", "d": "tides", "e": "The Sun"},
        {"a": -4.0, "b": 1.0, "c": -1.5, "d": -0.25, "e": -1.0},
    )
    # a: both right, same once normalised; b: both "no answer", right and same; c: only compare right;
    # d: only model right; e: both wrong (an answer to an unanswerable question), same once normalised.
    comparison = compare_results(records, model, compare)
    assert comparison.agreement == {
        "questions": 5, "both_right": 2, "both_wrong": 1, "only_model_right": 1, "only_compare_right": 1,
        "same_answer": 3, "same_answer_percent": 60.0,
    }
    assert comparison.disagreements == [
        {"id": "c", "question": "question c?", "answer": "Moon", "null_odds": -1.0, "compare_answer": "Sun",
         "compare_null_odds": -1.5, "gold": ["Sun"]},
        {"id": "d", "question": "question d?", "answer": "Moon", "null_odds": -2.0, "compare_answer": "tides",
         "compare_null_odds": -0.25, "gold": ["the Moon"]},
    ]


def test_an_answer_that_normalises_to_nothing_is_the_same_as_no_answer():
    comparison = compare_results([record("a")], result({"a": "The"}, {"a": 0.0}), result({"a": ""}, {"a": 1.0}))
    assert comparison.disagreements == []
    assert comparison.agreement["both_right"] == comparison.agreement["same_answer"] == 1


DATA = FIXTURES / "squad_v2.json"


@pytest.fixture(scope="module")
def other_model_dir(tmp_path_factory):
    return build_tiny_qa_model(tmp_path_factory.mktemp("tiny-qa-model-1"), seed=1)


def run_eval(output_dir, *args):
    result = CliRunner().invoke(app, [
        "eval", "--data", str(DATA), "--output-dir", str(output_dir), "--device", "cpu", "--precision", "fp32",
        *map(str, args),
    ])
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def read_json(path):
    return json.loads(path.read_text(encoding="utf-8"))


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_compare_two_models_matches_a_plain_eval_of_each(tiny_model_dir, other_model_dir, tmp_path):
    # Two random models answer every question differently; a threshold that both models' null odds exceed on
    # three questions (and not on two) makes them both abstain, i.e. agree, there.
    run_eval(tmp_path / "probe_a", "--model", tiny_model_dir)
    run_eval(tmp_path / "probe_b", "--model", other_model_dir)
    odds_a = read_json(tmp_path / "probe_a" / "null_odds.json")
    odds_b = read_json(tmp_path / "probe_b" / "null_odds.json")
    lower = sorted(min(odds_a[qid], odds_b[qid]) for qid in odds_a)
    threshold = str((lower[1] + lower[2]) / 2)
    run_eval(tmp_path / "a", "--model", tiny_model_dir, "--null-threshold", threshold)
    run_eval(tmp_path / "b", "--model", other_model_dir, "--null-threshold", threshold)
    out = tmp_path / "both"
    printed = run_eval(out, "--model", tiny_model_dir, "--compare", other_model_dir, "--null-threshold", threshold,
                       "--json")

    comparison = read_json(out / "comparison.json")
    assert json.loads(printed.stdout) == comparison
    assert comparison["model"] == read_json(tmp_path / "a" / "metrics.json")
    assert comparison["compare"] == read_json(tmp_path / "b" / "metrics.json")
    assert comparison["compare"]["null_threshold"] == float(threshold)  # --null-threshold applies to both
    for name in ("predictions.json", "nbest_predictions.json", "null_odds.json", "metrics.json"):
        assert read_json(out / name) == read_json(tmp_path / "a" / name), name
        assert read_json(out / "compare" / name) == read_json(tmp_path / "b" / name), name

    predictions_a = read_json(tmp_path / "a" / "predictions.json")
    predictions_b = read_json(tmp_path / "b" / "predictions.json")
    differing = [qid for qid in predictions_a
                 if normalize_answer(predictions_a[qid]) != normalize_answer(predictions_b[qid])]
    assert 0 < len(differing) < 5  # some agree and some do not, or the test would mean little
    rows = read_jsonl(out / "disagreements.jsonl")
    assert [row["id"] for row in rows] == differing
    for row in rows:
        qid = row["id"]
        assert (row["answer"], row["compare_answer"]) == (predictions_a[qid], predictions_b[qid])
        assert (row["null_odds"], row["compare_null_odds"]) == (odds_a[qid], odds_b[qid])
    agreement = comparison["agreement"]
    assert agreement["questions"] == 5 and agreement["same_answer"] == 5 - len(differing)
    # "right" is the exact match, so each model's right answers add up to its `exact` metric
    for role, only in (("model", "only_model_right"), ("compare", "only_compare_right")):
        assert agreement["both_right"] + agreement[only] == pytest.approx(comparison[role]["exact"] * 5 / 100)


def test_compare_a_model_with_itself_finds_no_disagreements(tiny_model_dir, tmp_path):
    printed = run_eval(tmp_path, "--model", tiny_model_dir, "--compare", tiny_model_dir)
    assert "compare" in printed.stdout and "same_answer" in printed.stdout  # the tables, side by side
    assert (tmp_path / "disagreements.jsonl").read_text() == ""
    agreement = read_json(tmp_path / "comparison.json")["agreement"]
    assert agreement["same_answer"] == agreement["questions"] == 5
    assert agreement["only_model_right"] == agreement["only_compare_right"] == 0
