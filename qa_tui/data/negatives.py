"""Synthetic unanswerable training questions, since SQuAD 2.0's own (43,498 of them) cannot be had offline.

Four kinds, made from answerable questions of one article:
- same-article negatives: the question paired with another paragraph of its article that holds none of its
  answers. Easy: that paragraph usually shares few words with the question.
- swap negatives: the question kept on its own paragraph, but one of its names or numbers that the paragraph
  contains is swapped for one from elsewhere in the article that the paragraph does not contain ("Who shared the
  1903 prize?" -> "Who shared the 1911 prize?"). Hard, like SQuAD 2.0's adversarial questions: the words still
  match the paragraph, only the fact asked about is missing.
- negation negatives: the question negated ("When did Tesla arrive?" -> "When didn't Tesla arrive?") where the
  sentence holding its answer says nothing negative. SQuAD 2.0's authors wrote 9% of its unanswerable questions
  this way (Rajpurkar et al., 2018, table 2).
- antonym negatives: a word of the question that its paragraph uses swapped for its antonym, which the paragraph
  does not use ("the largest city" -> "the smallest city"); 20% of SQuAD 2.0's unanswerable questions.
These are noisy (a negated question can still have an answer the paragraph implies), as SQuAD 2.0's own are not.
"""

from __future__ import annotations

import random
import re
from typing import Callable, Sequence

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


def _rewritten_negatives(
    article: Sequence[QARecord], rate: float, rng: random.Random, suffix: str,
    rewrite: Callable[[QARecord], str | None],
) -> list[QARecord]:
    """Answerable questions of the article, each with chance `rate`, rewritten by `rewrite` (None: not possible)
    and kept on their own paragraph as unanswerable, with `__{suffix}` added to the id. A rate of 0 draws nothing
    from `rng`, so turning one kind off leaves the others' negatives as they were."""
    if rate <= 0:
        return []
    negatives = []
    for record in article:
        if record.is_impossible or rng.random() >= rate:
            continue
        question = rewrite(record)
        if question is not None:
            negatives.append(
                QARecord(id=f"{record.id}__{suffix}", title=record.title, context=record.context, question=question,
                         answers=[])
            )
    return negatives


def swap_negatives(article: Sequence[QARecord], rate: float, rng: random.Random) -> list[QARecord]:
    """Answerable questions of the article, with chance `rate`, with a name or number swapped (see module doc)."""
    if rate <= 0:  # before the article scan below, which is the costly part
        return []
    contexts = list(dict.fromkeys(record.context for record in article))
    names = set().union(*(_names(context, mid_sentence_only=True) for context in contexts))
    numbers = set().union(*(_numbers(context) for context in contexts))
    return _rewritten_negatives(
        article, rate, rng, "swap", lambda record: swap_question(record.question, record.context, names, numbers, rng)
    )


NEGATION = re.compile(r"\b(?:not|no|never|none|nor|neither|without)\b|n't\b", re.IGNORECASE)
# Auxiliary -> its negation, in the form a question would use ("What was not", "When didn't").
_NEGATED_AUXILIARY = {
    "is": "is not", "was": "was not", "are": "are not", "were": "were not",
    "do": "don't", "does": "doesn't", "did": "didn't", "can": "can't", "could": "couldn't",
    "has": "hasn't", "have": "haven't", "had": "hadn't", "will": "won't", "would": "wouldn't", "should": "shouldn't",
}
_AUXILIARY = re.compile(r"\b(" + "|".join(_NEGATED_AUXILIARY) + r")\b")


def _answer_sentence(context: str, answer_start: int) -> str:
    start = context.rfind(". ", 0, answer_start) + 1
    end = context.find(". ", answer_start)
    return context[start : end if end >= 0 else len(context)]


def negate_question(question: str, answer_sentence: str) -> str | None:
    """The question with its first auxiliary (within its first six words) negated; None when the question or the
    sentence holding its answer is already negative, or the question has no auxiliary up front."""
    if NEGATION.search(question) or NEGATION.search(answer_sentence):
        return None
    first_six_words = re.match(r"\s*(?:\S+\s+){0,5}\S*", question).end()
    match = _AUXILIARY.search(question, 0, first_six_words)
    if match is None or not question[: match.start()].strip():  # "Did ...": a yes/no question, not SQuAD's kind
        return None
    return question[: match.start()] + _NEGATED_AUXILIARY[match.group(1)] + question[match.end() :]


# Pairs of words that ask about opposite facts; both directions are used.
_ANTONYM_PAIRS = """
first last  largest smallest  biggest smallest  most least  highest lowest  earliest latest  oldest youngest
longest shortest  best worst  fastest slowest  heaviest lightest  deepest shallowest  nearest farthest
closest farthest  richest poorest  strongest weakest  greatest least  maximum minimum  major minor
increase decrease  increased decreased  increases decreases  rise fall  rose fell  before after
north south  east west  northern southern  eastern western  northernmost southernmost  easternmost westernmost
upper lower  inner outer  internal external  domestic foreign  urban rural  public private  male female
positive negative  ancient modern  early late  earlier later  large small  larger smaller  high low
higher lower  longer shorter  wet dry  hot cold  warm cool  strong weak  rich poor  success failure
successful unsuccessful  legal illegal  win lose  won lost  winning losing  gain loss  gained lost  import export
imported exported  imports exports  support oppose  supported opposed  include exclude  included excluded
accepted rejected  allowed banned  open closed  opened closed  start end  started ended  began ended  entered left
born died  birth death  top bottom  above below  inside outside  more fewer  majority minority
""".split()
ANTONYMS = {}
for _word, _opposite in zip(_ANTONYM_PAIRS[::2], _ANTONYM_PAIRS[1::2]):
    ANTONYMS.setdefault(_word, _opposite)
    ANTONYMS.setdefault(_opposite, _word)


def antonym_question(question: str, context: str, rng: random.Random) -> str | None:
    """The question with one word that `context` also uses swapped for an antonym that `context` does not use;
    None when no word qualifies."""
    context_words = set(re.findall(r"[a-z]+", context.lower()))
    candidates = [
        (match, ANTONYMS[word])
        for match in re.finditer(r"[A-Za-z]+", question)
        if (word := match.group(0).lower()) in ANTONYMS and word in context_words and ANTONYMS[word] not in context_words
    ]
    if not candidates:
        return None
    match, opposite = rng.choice(candidates)
    if match.group(0)[0].isupper():
        opposite = opposite.capitalize()
    return question[: match.start()] + opposite + question[match.end() :]


def negation_negatives(article: Sequence[QARecord], rate: float, rng: random.Random) -> list[QARecord]:
    """Answerable questions of the article, with chance `rate`, negated (see module doc)."""
    return _rewritten_negatives(
        article, rate, rng, "not",
        lambda record: negate_question(record.question, _answer_sentence(record.context, record.answers[0]["answer_start"])),
    )


def antonym_negatives(article: Sequence[QARecord], rate: float, rng: random.Random) -> list[QARecord]:
    """Answerable questions of the article, with chance `rate`, with a word swapped for its antonym (module doc)."""
    return _rewritten_negatives(
        article, rate, rng, "ant", lambda record: antonym_question(record.question, record.context, rng)
    )
