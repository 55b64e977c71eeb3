"""Synthetic unanswerable training questions, since SQuAD 2.0's own (43,498 of them) cannot be had offline.

Two kinds, made from answerable questions of one article:
- same-article negatives: the question paired with another paragraph of its article that holds none of its
  answers. Easy: that paragraph usually shares few words with the question.
- swap negatives: the question kept on its own paragraph, but one of its names or numbers that the paragraph
  contains is swapped for one from elsewhere in the article that the paragraph does not contain ("Who shared the
  1903 prize?" -> "Who shared the 1911 prize?"). Hard, like SQuAD 2.0's adversarial questions: the words still
  match the paragraph, only the fact asked about is missing.
"""

from __future__ import annotations

import random
import re
from typing import Sequence

from qa_tui.data.squad import QARecord

# A number (years, counts, amounts) or a run of capitalised words (a name, roughly).
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w])")
_NAME = re.compile(r"(?<![\w'])[A-Z][\w'\-]*(?:\s+(?:(?:of|de|von|van)\s+)?[A-Z][\w'\-]*)*")
# Just before a name in the middle of a sentence: a lower-case word or a comma (not a full stop).
_MID_SENTENCE = re.compile(r"[a-z,;(]\s+$")
# Capitalised words that start questions or sentences, not names.
_NOT_NAMES = frozenset(
    "What Which Who Whom Whose When Where Why How In On At For From By The A An Is Are Was Were Did Do Does "
    "Has Have Had Can Could Would Should Will Of To After Before During Since As If Besides Other".split()
)


def _names(text: str, mid_sentence_only: bool = False) -> set[str]:
    """Capitalised runs; with `mid_sentence_only`, only those that are not the first word of a sentence (a
    capitalised sentence start is as often "Both" or "Despite" as a name)."""
    return {
        match.group(0)
        for match in _NAME.finditer(text)
        if match.group(0) not in _NOT_NAMES
        and (not mid_sentence_only or _MID_SENTENCE.search(text, max(0, match.start() - 30), match.start()))
    }


def _numbers(text: str) -> set[str]:
    return {match.group(0) for match in _NUMBER.finditer(text)}


def same_article_negatives(article: Sequence[QARecord], rate: float, rng: random.Random) -> list[QARecord]:
    """Answerable questions of the article paired, with chance `rate`, with another of its paragraphs that holds
    none of their answers."""
    if rate <= 0:
        return []
    paragraphs = list(dict.fromkeys(record.context for record in article))
    if len(paragraphs) < 2:
        return []
    negatives = []
    for record in article:
        if record.is_impossible or rng.random() >= rate:
            continue
        texts = [answer["text"].lower() for answer in record.answers]
        choices = [
            paragraph
            for paragraph in paragraphs
            if paragraph != record.context and not any(text in paragraph.lower() for text in texts)
        ]
        if choices:
            negatives.append(
                QARecord(
                    id=f"{record.id}__neg",
                    title=record.title,
                    context=rng.choice(choices),
                    question=record.question,
                    answers=[],
                )
            )
    return negatives


def swap_question(question: str, context: str, names: set[str], numbers: set[str], rng: random.Random) -> str | None:
    """The question with one name or number it shares with `context` swapped for one of `names`/`numbers` that
    `context` does not hold; None when there is nothing to swap."""
    lowered = context.lower()
    swappable = [(value, numbers) for value in _numbers(question) if value in context]
    swappable += [(value, names) for value in _names(question) if value in context]
    rng.shuffle(swappable)
    for value, pool in swappable:
        replacements = sorted(
            candidate for candidate in pool if candidate.lower() not in lowered and candidate != value
        )
        if pool is numbers:  # a year for a year: same number of digits reads naturally
            same_shape = [candidate for candidate in replacements if len(candidate) == len(value)]
            replacements = same_shape or replacements
        if replacements:
            return question.replace(value, rng.choice(replacements), 1)
    return None


def swap_negatives(article: Sequence[QARecord], rate: float, rng: random.Random) -> list[QARecord]:
    """Answerable questions of the article, with chance `rate`, with a name or number swapped (see module doc)."""
    if rate <= 0:
        return []
    contexts = list(dict.fromkeys(record.context for record in article))
    names = set().union(*(_names(context, mid_sentence_only=True) for context in contexts))
    numbers = set().union(*(_numbers(context) for context in contexts))
    negatives = []
    for record in article:
        if record.is_impossible or rng.random() >= rate:
            continue
        swapped = swap_question(record.question, record.context, names, numbers, rng)
        if swapped is not None:
            negatives.append(
                QARecord(id=f"{record.id}__swap", title=record.title, context=record.context, question=swapped,
                         answers=[])
            )
    return negatives
