"""Span decoding: model logits + token offsets -> ranked answer spans. A pure function, tested without a model.

It follows the SQuAD 2.0 convention of the original BERT code: for every window, the `n_best` highest start and
end logits among the context tokens are paired; a pair is a candidate when the end does not come before the start
and the span is at most `max_answer_tokens` long. Its score is start logit + end logit. The no-answer score is the
[CLS] (token 0) start + end logit, taken as the minimum over the windows: the window surest that there *is* an
answer decides. The question has no answer when `null_score - best_score > null_threshold`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

# Null odds of a question with no candidate span at all: it can only be answered "no answer" (finite, for JSON).
NO_SPAN_NULL_ODDS = 1e9


@dataclass(frozen=True)
class Span:
    """One candidate answer: `context[start:end] == text`."""

    text: str
    start: int
    end: int
    score: float
    probability: float


@dataclass(frozen=True)
class NoAnswer:
    score: float
    probability: float


@dataclass(frozen=True)
class Answer:
    """What the reader says about one (question, context) pair."""

    question: str
    answers: list[Span]
    no_answer: NoAnswer
    is_impossible: bool
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def best(self) -> Span | None:
        """The chosen span, or None when the reader says the context holds no answer."""
        if self.is_impossible or not self.answers:
            return None
        return self.answers[0]

    @property
    def best_text(self) -> str:
        """The prediction in SQuAD's format: the span text, or "" for no answer."""
        best = self.best
        return best.text if best is not None else ""

    @property
    def null_odds(self) -> float:
        """No-answer score minus the best span score (what the SQuAD 2.0 threshold sweep orders by)."""
        if not self.answers:
            return NO_SPAN_NULL_ODDS
        return self.no_answer.score - self.answers[0].score

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answers": [asdict(span) for span in self.answers],
            "no_answer": asdict(self.no_answer),
            "is_impossible": self.is_impossible,
            **self.extra,
        }


@dataclass(frozen=True)
class Window:
    """The decoder's view of one model window (token 0 is [CLS]).

    `offsets[i]` is the (start, end) character range of token i in the original context; `context_mask[i]` is
    True when token i is a context token (not question, special token or padding).
    """

    start_logits: np.ndarray
    end_logits: np.ndarray
    offsets: np.ndarray
    context_mask: np.ndarray

    @property
    def null_score(self) -> float:
        return float(self.start_logits[0]) + float(self.end_logits[0])


def _window_candidates(window: Window, n_best: int, max_answer_tokens: int):
    """(scores, char_starts, char_ends) of every valid start/end pair among the window's n-best tokens."""
    n = min(len(window.context_mask), len(window.start_logits))
    mask = np.asarray(window.context_mask[:n], dtype=bool)
    context_tokens = np.flatnonzero(mask)
    if context_tokens.size == 0:
        return np.empty(0), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    start_logits = np.asarray(window.start_logits[:n], dtype=np.float64)[context_tokens]
    end_logits = np.asarray(window.end_logits[:n], dtype=np.float64)[context_tokens]
    k = min(n_best, context_tokens.size)
    best_starts = np.argsort(-start_logits, kind="stable")[:k]
    best_ends = np.argsort(-end_logits, kind="stable")[:k]
    start_tokens = context_tokens[best_starts]
    end_tokens = context_tokens[best_ends]
    length = end_tokens[None, :] - start_tokens[:, None]
    offsets = np.asarray(window.offsets, dtype=np.int64)
    char_starts = offsets[start_tokens, 0][:, None].repeat(k, axis=1)
    char_ends = offsets[end_tokens, 1][None, :].repeat(k, axis=0)
    valid = (length >= 0) & (length < max_answer_tokens) & (char_ends > char_starts)
    scores = start_logits[best_starts][:, None] + end_logits[best_ends][None, :]
    return scores[valid], char_starts[valid], char_ends[valid]


def decode_spans(
    question: str,
    context: str,
    windows: Sequence[Window],
    *,
    top_k: int = 5,
    n_best: int = 20,
    max_answer_tokens: int = 30,
    null_threshold: float = 0.0,
) -> Answer:
    """Rank the answer spans of `context` for `question` from the logits of its windows.

    Probabilities are a softmax over every distinct candidate span (the same character range seen by overlapping
    windows counts once, with its best score) and the no-answer, so the `top_k` reported probabilities and the
    no-answer's need not sum to one.
    """
    if top_k < 1:
        raise ValueError("top_k must be at least 1")
    if not windows:
        raise ValueError("decode_spans needs at least one window")
    null_score = min(window.null_score for window in windows)
    scores, char_starts, char_ends = (
        np.concatenate(parts)
        for parts in zip(*(_window_candidates(window, n_best, max_answer_tokens) for window in windows))
    )
    # One candidate per character range (overlapping windows see the same span): the best-scored one.
    by_range = np.lexsort((-scores, char_ends, char_starts))
    first = np.ones(by_range.size, dtype=bool)
    first[1:] = (np.diff(char_starts[by_range]) != 0) | (np.diff(char_ends[by_range]) != 0)
    unique = by_range[first]
    scores, char_starts, char_ends = scores[unique], char_starts[unique], char_ends[unique]

    all_scores = np.append(scores, null_score)
    probabilities = np.exp(all_scores - all_scores.max())
    probabilities /= probabilities.sum()
    ranked = np.lexsort((char_ends, char_starts, -scores))[:top_k]  # best score first; ties by position
    spans = [
        Span(
            text=context[char_start:char_end],
            start=char_start,
            end=char_end,
            score=score,
            probability=probability,
        )
        for char_start, char_end, score, probability in zip(
            char_starts[ranked].tolist(),
            char_ends[ranked].tolist(),
            scores[ranked].tolist(),
            probabilities[ranked].tolist(),
        )
    ]
    no_answer = NoAnswer(score=null_score, probability=float(probabilities[-1]))
    is_impossible = not spans or (null_score - spans[0].score) > null_threshold
    return Answer(question=question, answers=spans, no_answer=no_answer, is_impossible=is_impossible)
