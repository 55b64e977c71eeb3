"""SQuAD 2.0 evaluation as the official `evaluate-v2.0.py` defines it: EM/F1, HasAns/NoAns, best null thresholds.

Written afresh from the official definitions so that numbers are comparable with published ones. Two deliberate
differences, both about input the official script does not expect:
- a question without a prediction scores 0 (exact and F1) and stays in every total (the v2.0 script skips it in
  the totals and then fails on the HasAns/NoAns split; the v1.1 script scores it 0, as here);
- a question without null odds is never switched to "answered" by the threshold sweep (like +inf odds).
`exact`/`f1` always score the predictions as given: the official script, when handed null odds, also turns into ""
every prediction whose odds exceed its `--na-prob-thresh` (1.0), which only makes sense for probabilities.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from typing import TYPE_CHECKING, Iterable, Mapping

if TYPE_CHECKING:
    from qa_tui.data.squad import QARecord

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(s: str) -> str:
    """Lower case, drop ASCII punctuation, drop the articles a/an/the, collapse white space (official order)."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCTUATION)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def exact_score(prediction: str, gold: str) -> int:
    return int(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    """Token-overlap F1 of the normalised texts; two empty texts agree (1), one empty one does not (0)."""
    prediction_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not prediction_tokens or not gold_tokens:
        return float(prediction_tokens == gold_tokens)
    common = sum((Counter(prediction_tokens) & Counter(gold_tokens)).values())
    if common == 0:
        return 0.0
    precision = common / len(prediction_tokens)
    recall = common / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def gold_answers_of(records: Iterable[QARecord]) -> dict[str, list[str]]:
    """id -> gold answer texts ([] for an unanswerable question), the `gold` argument of squad_v2_metrics."""
    return {record.id: [answer["text"] for answer in record.answers] for record in records}


def question_scores(
    gold: Mapping[str, list[str]], predictions: Mapping[str, str]
) -> tuple[dict[str, float], dict[str, float]]:
    """(exact, F1) of each question's prediction against its best-matching gold answer, 0 or 1 and 0..1; a
    question with no prediction scores 0."""
    exact: dict[str, float] = {}
    f1: dict[str, float] = {}
    for qid, answers in gold.items():
        # Gold answers that normalise to nothing are dropped; with none left, only "no answer" is right.
        texts = [text for text in answers if normalize_answer(text)] or [""]
        prediction = predictions.get(qid)
        if prediction is None:
            exact[qid] = f1[qid] = 0.0
            continue
        exact[qid] = max(exact_score(prediction, text) for text in texts)
        f1[qid] = max(f1_score(prediction, text) for text in texts)
    return exact, f1


def squad_v2_metrics(
    gold: Mapping[str, list[str]],
    predictions: Mapping[str, str],
    null_odds: Mapping[str, float] | None = None,
) -> dict:
    """Official SQuAD 2.0 metrics, in percent, of `predictions` (id -> text, "" for no answer) against `gold`.

    `exact`/`f1` score the predictions as given. With `null_odds` (id -> how strongly the model says "no answer";
    any real scale), `best_exact`/`best_f1` are the scores at the best threshold on them and `*_thresh` that
    threshold: a question counts as "no answer" when its odds are above it. Ids absent from `gold` are ignored.
    """
    exact, f1 = question_scores(gold, predictions)

    # Like the official script, "has an answer" means the raw list is non-empty, before dropping empty texts.
    has_answer = {qid: bool(answers) for qid, answers in gold.items()}
    has_ans_ids = [qid for qid, has in has_answer.items() if has]
    no_ans_ids = [qid for qid, has in has_answer.items() if not has]

    result: dict = _percentages("", exact, f1, list(gold))
    result["total"] = len(gold)
    for name, ids in (("HasAns", has_ans_ids), ("NoAns", no_ans_ids)):
        if ids:
            result.update(_percentages(f"{name}_", exact, f1, ids))
        result[f"{name}_total"] = len(ids)

    if null_odds is not None:
        for name, scores in (("exact", exact), ("f1", f1)):
            best, threshold = _best_threshold(scores, predictions, null_odds, has_answer)
            result[f"best_{name}"] = best
            result[f"best_{name}_thresh"] = threshold
        if has_ans_ids and no_ans_ids:
            accuracy, threshold = _best_balanced_threshold(predictions, null_odds, has_answer)
            result["best_balanced_accuracy"] = accuracy
            result["best_balanced_accuracy_thresh"] = threshold
    return result


def _percentages(prefix: str, exact: Mapping[str, float], f1: Mapping[str, float], ids: list[str]) -> dict:
    """Mean exact and F1 over `ids`, in percent (0 for no ids rather than a division by zero)."""
    count = len(ids) or 1
    return {
        f"{prefix}exact": 100.0 * sum(exact[qid] for qid in ids) / count,
        f"{prefix}f1": 100.0 * sum(f1[qid] for qid in ids) / count,
    }


def _sweep(gains: Mapping[str, float], null_odds: Mapping[str, float], start: float,
           start_threshold: float) -> tuple[float, float]:
    """(best total, the null odds that reach it): start with every question answered "no answer" (worth `start`),
    then raise the threshold past each question's odds in ascending order, adding that question's gain for keeping
    its raw prediction. Only a strictly better total moves the threshold."""
    current = best = start
    best_threshold = start_threshold
    for qid in sorted(gains, key=null_odds.__getitem__):
        current += gains[qid]
        if current > best:
            best, best_threshold = current, null_odds[qid]
    return best, best_threshold


def _best_threshold(
    scores: Mapping[str, float],
    predictions: Mapping[str, str],
    null_odds: Mapping[str, float],
    has_answer: Mapping[str, bool],
) -> tuple[float, float]:
    """The official `find_best_thresh` sweep: (best score in percent, the null odds that reach it).

    Keeping its raw prediction, an answerable question gains its score and an unanswerable one loses its point if
    the prediction is not "". The threshold applies to the raw predictions, so a question predicted "" stays ""
    whatever the threshold.
    """
    # A question with no prediction is wrong either way, so it is not counted in the "all no answer" start.
    start = sum(1 for qid, has in has_answer.items() if not has and qid in predictions)
    gains = {qid: scores[qid] if has_answer[qid] else -float(bool(predictions[qid]))
             for qid in null_odds if qid in scores and qid in predictions}
    best, threshold = _sweep(gains, null_odds, start, 0.0)
    return 100.0 * best / (len(scores) or 1), threshold


def _best_balanced_threshold(
    predictions: Mapping[str, str], null_odds: Mapping[str, float], has_answer: Mapping[str, bool]
) -> tuple[float, float]:
    """(best balanced accuracy in percent, the null odds that reach it) of the answer-or-abstain decision alone:
    the mean of the share of answerable questions answered and the share of unanswerable ones left unanswered.

    Unlike best_f1 it does not score the span, so it does not lean towards abstaining on a set whose answers have
    one reference each (where a right span often scores a partial F1). The gains are scaled by both counts so that
    the totals stay whole numbers (no rounding to break ties): answered/A - wrong/U = (answered*U - wrong*A) / (A*U).
    """
    answerable = sum(1 for qid, has in has_answer.items() if has and qid in predictions) or 1
    unanswerable = sum(1 for qid, has in has_answer.items() if not has and qid in predictions) or 1
    gains = {qid: bool(predictions[qid]) * (unanswerable if has_answer[qid] else -answerable)
             for qid in null_odds if qid in predictions and qid in has_answer}
    ordered = sorted(gains, key=null_odds.__getitem__)
    best, threshold = _sweep(gains, null_odds, 0, null_odds[ordered[0]] - 1.0 if ordered else 0.0)
    return 50.0 * (1.0 + best / (answerable * unanswerable)), threshold


def threshold_curve(
    gold: Mapping[str, list[str]],
    span_predictions: Mapping[str, str],
    null_odds: Mapping[str, float],
    thresholds: Iterable[float],
) -> list[dict]:
    """F1, HasAns F1 and NoAns accuracy (percent) at each no-answer threshold: the curves a threshold rule is read
    from. At threshold t a question is "no answer" when its null odds exceed t, else its best span is the answer."""
    _, f1 = question_scores(gold, {qid: span_predictions.get(qid, "") for qid in gold})
    has_ans = [qid for qid, answers in gold.items() if answers]
    no_ans = [qid for qid, answers in gold.items() if not answers]
    curve = []
    for threshold in thresholds:
        answered = {qid for qid in gold if qid in null_odds and null_odds[qid] <= threshold}
        has_f1 = sum(f1[qid] for qid in has_ans if qid in answered)
        abstained = sum(1 for qid in no_ans if qid not in answered or not span_predictions.get(qid))
        curve.append({
            "threshold": threshold,
            "f1": 100.0 * (has_f1 + abstained) / (len(gold) or 1),
            "HasAns_f1": 100.0 * has_f1 / (len(has_ans) or 1),
            "NoAns": 100.0 * abstained / (len(no_ans) or 1),
            "answered": 100.0 * len(answered) / (len(gold) or 1),
        })
    return curve
