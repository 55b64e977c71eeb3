"""Retrieve, then read: answers to a question from many documents, ranked together, located in their files.

`CorpusReader.ask` retrieves K passages, reads them with the QA engine in one batch and returns one `Answer` per
passage, best first. Its spans are `SourcedSpan`s whose `start`/`end` are character offsets into the *file's*
text (`index.document_text(source)[start:end] == text`), and its `extra` says where the passage is:
`{"source": path, "passage": {"rank", "start", "end", "score"}}`. `merge_answers` folds them into one Answer,
the form `qa-tui ask --docs --json` prints.

Scores are the reader's start + end logits, comparable across passages (probabilities are not: each is a softmax
within its own passage, so `merge_answers` computes them again over the candidates of all passages). As within
one long context read in windows, the no-answer score of several passages is their lowest: the passage surest
that there is an answer decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from qa_tui.engine import Answer, NoAnswer, QAEngine, Span
from qa_tui.errors import UserError
from qa_tui.retrieval.index import RETRIEVERS, Hit, SearchIndex

WHOLE = "whole"  # the "retriever" that reads every document whole, in model windows, with no index search


@dataclass(frozen=True)
class SourcedSpan(Span):
    """A Span in a file: `document_text(source)[start:end] == text`; `passage` is its passage's rank (1 = first)."""

    source: str = ""
    passage: int = 0


def shift_answer(answer: Answer, hit: Hit) -> Answer:
    """A passage's Answer with its spans moved from passage offsets to file offsets, and the passage in `extra`."""
    passage = hit.passage
    spans = [
        SourcedSpan(
            text=span.text,
            start=passage.start + span.start,
            end=passage.start + span.end,
            score=span.score,
            probability=span.probability,
            source=passage.source,
            passage=hit.rank,
        )
        for span in answer.answers
    ]
    extra = {
        **answer.extra,
        "source": passage.source,
        "passage": {"rank": hit.rank, "start": passage.start, "end": passage.end, "score": hit.score},
    }
    return Answer(answer.question, spans, answer.no_answer, answer.is_impossible, extra)


def rank_answers(answers: Sequence[Answer]) -> list[Answer]:
    """Passages with an answer first, by their best span score; then the others, surest of no answer last."""

    def key(answer: Answer):
        best = answer.answers[0].score if answer.answers else -np.inf
        return (answer.is_impossible, -best if not answer.is_impossible else answer.null_odds)

    return sorted(answers, key=key)


def merge_answers(question: str, answers: Sequence[Answer], top_k: int, null_threshold: float) -> Answer:
    """One Answer over several passages: their spans ranked by score (file offsets, with source), the lowest
    no-answer score, probabilities as a softmax over all their candidates and the no-answer."""
    best_by_place: dict[tuple[str, int, int], Span] = {}
    for answer in answers:
        for span in answer.answers:
            place = (getattr(span, "source", ""), span.start, span.end)
            if place not in best_by_place or span.score > best_by_place[place].score:
                best_by_place[place] = span
    ranked = sorted(best_by_place.values(), key=lambda s: (-s.score, getattr(s, "source", ""), s.start))
    if not answers:
        return Answer(question, [], NoAnswer(score=0.0, probability=1.0), True)
    null_score = min(answer.no_answer.score for answer in answers)
    scores = np.array([span.score for span in ranked] + [null_score], dtype=np.float64)
    probabilities = np.exp(scores - scores.max())
    probabilities /= probabilities.sum()
    spans = [
        SourcedSpan(
            text=span.text,
            start=span.start,
            end=span.end,
            score=span.score,
            probability=float(probabilities[i]),
            source=getattr(span, "source", ""),
            passage=getattr(span, "passage", 0),
        )
        for i, span in enumerate(ranked[:top_k])
    ]
    is_impossible = not spans or null_score - spans[0].score > null_threshold
    no_answer = NoAnswer(score=null_score, probability=float(probabilities[-1]))
    return Answer(question, spans, no_answer, is_impossible)


class CorpusReader:
    """A QA engine over a passage index: `ask(question, k)` -> ranked per-passage Answers (see the module doc).

    `retriever` is "hybrid" (BM25 + MiniLM by reciprocal-rank fusion), "bm25", "dense", or "whole": no search,
    every document read whole in model windows (it can reach every answer, but on COVID-QA it scored below
    hybrid retrieval within the paper: see the README).
    Thread-safe as the engine is: the TUI can call `ask` from a worker.
    """

    def __init__(self, engine: QAEngine, index: SearchIndex, retriever: str = "hybrid"):
        if retriever not in (*RETRIEVERS, WHOLE):
            raise UserError(f"--retriever {retriever}: expected one of {', '.join((*RETRIEVERS, WHOLE))}")
        self.engine = engine
        self.index = index
        self.retriever = retriever

    def retrieve(self, question: str, k: int) -> list[Hit]:
        """The k passages to read (for "whole": one per document, spanning all of its text)."""
        if not question.strip():
            raise UserError("the question is empty")
        if self.retriever == WHOLE:
            return whole_documents(self.index)
        return self.index.search(question, k, self.retriever)

    def ask(self, question: str, k: int = 5, top_k: int = 5) -> list[Answer]:
        """Read the k retrieved passages in one batch: one Answer per passage (file offsets), best first."""
        hits = self.retrieve(question, k)
        if not hits:
            return []
        answers = self.engine.answer_batch([(question, hit.passage.text) for hit in hits], top_k=top_k)
        return rank_answers([shift_answer(answer, hit) for answer, hit in zip(answers, hits)])

    def answer(self, question: str, k: int = 5, top_k: int = 5) -> Answer:
        """`ask`, merged into one Answer (spans from all passages, ranked; `extra["passages"]` lists them)."""
        answers = self.ask(question, k, top_k)
        merged = merge_answers(question, answers, top_k, self.engine.null_threshold)
        passages = sorted((a.extra["passage"] | {"source": a.extra["source"]} for a in answers), key=lambda p: p["rank"])
        merged.extra.update(retriever=self.retriever, passages=passages)
        return merged


def whole_documents(index: SearchIndex) -> list[Hit]:
    """Each document of a CorpusIndex as one "passage" holding its whole text (read in windows by the engine)."""
    from qa_tui.retrieval.passages import Passage

    documents = getattr(index, "documents", None)
    if documents is None:
        raise UserError("reading documents whole needs a CorpusIndex")
    return [
        Hit(Passage(doc.source, 0, len(doc.text), doc.text), score=0.0, rank=rank)
        for rank, doc in enumerate(documents.values(), start=1)
    ]
