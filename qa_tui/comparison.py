"""Comparing two models' evaluations of the same questions: how often they agree, and where they differ.

Pure (no model, no files), so the counts are tested on hand-made predictions. "Right" is the official exact match
against the best gold answer (the `exact` metric's own per-question score), so `both_right + only_model_right` is
the model's `exact` x `questions` / 100. Two answers are the same when their SQuAD-normalised texts are equal;
two "no answer"s are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from qa_tui.data.squad import QARecord
from qa_tui.evaluation import EvalResult
from qa_tui.metrics import gold_answers_of, normalize_answer, question_scores

# (model right, compare right) by exact match -> the agreement count it adds to
_OUTCOMES = {(1, 1): "both_right", (0, 0): "both_wrong", (1, 0): "only_model_right", (0, 1): "only_compare_right"}


@dataclass
class Comparison:
    agreement: dict
    disagreements: list[dict]  # one row per question whose answers differ, in the records' order


def compare_results(records: Sequence[QARecord], model: EvalResult, compare: EvalResult) -> Comparison:
    gold = gold_answers_of(records)
    model_exact, _ = question_scores(gold, model.predictions)
    compare_exact, _ = question_scores(gold, compare.predictions)
    counts = dict.fromkeys(_OUTCOMES.values(), 0)
    disagreements = []
    for record in records:
        qid = record.id
        counts[_OUTCOMES[int(model_exact[qid]), int(compare_exact[qid])]] += 1
        answer, compare_answer = model.predictions[qid], compare.predictions[qid]
        if normalize_answer(answer) != normalize_answer(compare_answer):
            disagreements.append({
                "id": qid,
                "question": record.question,
                "answer": answer,
                "null_odds": model.null_odds[qid],
                "compare_answer": compare_answer,
                "compare_null_odds": compare.null_odds[qid],
                "gold": gold[qid],
            })
    same = len(records) - len(disagreements)
    agreement = {
        "questions": len(records),
        **counts,
        "same_answer": same,
        "same_answer_percent": 100.0 * same / (len(records) or 1),
    }
    return Comparison(agreement, disagreements)


def span_key(span) -> tuple[str, int, int]:
    """Where a candidate span is: its file (corpus mode; "" for one context) and its character range."""
    return getattr(span, "source", ""), span.start, span.end


def shared_spans(answer, other) -> set[tuple[str, int, int]]:
    """The candidate spans (by `span_key`) that both models list, for marking where they agree."""
    return {span_key(span) for span in answer.answers} & {span_key(span) for span in other.answers}


def same_verdict(answer, other) -> bool:
    """Both say "no answer", or both answer with the same text once SQuAD-normalised."""
    if answer.is_impossible or other.is_impossible:
        return answer.is_impossible and other.is_impossible
    return normalize_answer(answer.best_text) == normalize_answer(other.best_text)
