"""Evaluating a QA engine on SQuAD-style records: predictions, n-best lists, null odds and SQuAD 2.0 metrics.

`qa-tui eval` and the evaluation inside `qa-tui train` both come here, so they decode and score the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from qa_tui.data.squad import QARecord
from qa_tui.engine import Answer, QAEngine
from qa_tui.io import write_json_atomic
from qa_tui.metrics import squad_v2_metrics

N_BEST = 20


@dataclass
class EvalResult:
    predictions: dict[str, str]
    nbest: dict[str, list[dict]]
    null_odds: dict[str, float]
    metrics: dict

    def write(self, output_dir: str | Path) -> None:
        """predictions.json, nbest_predictions.json, null_odds.json, metrics.json, each written atomically."""
        output_dir = Path(output_dir)
        write_json_atomic(output_dir / "predictions.json", self.predictions)
        write_json_atomic(output_dir / "nbest_predictions.json", self.nbest)
        write_json_atomic(output_dir / "null_odds.json", self.null_odds)
        write_json_atomic(output_dir / "metrics.json", self.metrics)


def score_answers(records: Sequence[QARecord], answers: Sequence[Answer]) -> EvalResult:
    """SQuAD 2.0 metrics of the engine's answers.

    `exact`/`f1` score the predictions at the engine's threshold; the `best_*` sweep scores every question's best
    span against its real null odds, so it can find a threshold on either side of the one used.
    """
    gold = {record.id: [answer["text"] for answer in record.answers] for record in records}
    predictions = {record.id: answer.best_text for record, answer in zip(records, answers)}
    null_odds = {record.id: answer.null_odds for record, answer in zip(records, answers)}
    span_predictions = {
        record.id: answer.answers[0].text if answer.answers else "" for record, answer in zip(records, answers)
    }
    metrics = squad_v2_metrics(gold, predictions)
    swept = squad_v2_metrics(gold, span_predictions, null_odds)
    for key in ("best_exact", "best_exact_thresh", "best_f1", "best_f1_thresh", "best_balanced_accuracy",
                "best_balanced_accuracy_thresh"):
        if key in swept:  # the balanced pair needs both kinds of question
            metrics[key] = swept[key]
    # vars() rather than dataclasses.asdict: the fields are plain values, and asdict's deep copy took 2.5% of
    # `qa-tui eval --limit 500` (a profile; 21 entries per question).
    nbest = {
        record.id: [dict(vars(span)) for span in answer.answers] + [{"text": "", **vars(answer.no_answer)}]
        for record, answer in zip(records, answers)
    }
    return EvalResult(predictions, nbest, null_odds, metrics)


def evaluate_engine(
    engine: QAEngine, records: Sequence[QARecord], progress: Callable[[int], None] | None = None
) -> EvalResult:
    answers = engine.answer_batch(
        [(record.question, record.context) for record in records], top_k=N_BEST, progress=progress
    )
    return score_answers(records, answers)
