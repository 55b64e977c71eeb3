"""Span decoding on hand-made logits: `decode_spans` is a pure function of logits, offsets and the context mask."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qa_tui.engine.decoding import NO_SPAN_NULL_ODDS, Window, decode_spans

LOW = -100.0  # a logit no candidate should ever be picked for

QUESTION = "Where is it?"
CONTEXT = "Paris is the capital of France."
# [CLS] where is it ? [SEP] paris is the capital of france . [SEP]
#   0     1    2  3  4   5    6    7   8     9     10   11   12  13
TOKENS = [
    ("[CLS]", (0, 0), False),
    ("where", (0, 5), False),  # question tokens: offsets point into the *question*
    ("is", (6, 8), False),
    ("it", (9, 11), False),
    ("?", (11, 12), False),
    ("[SEP]", (0, 0), False),
    ("paris", (0, 5), True),
    ("is", (6, 8), True),
    ("the", (9, 12), True),
    ("capital", (13, 20), True),
    ("of", (21, 23), True),
    ("france", (24, 30), True),
    (".", (30, 31), True),
    ("[SEP]", (0, 0), False),
]
INDEX = {name: i for i, (name, _, is_context) in enumerate(TOKENS) if is_context}


def window(start: dict[int, float], end: dict[int, float], tokens=TOKENS, default: float = LOW) -> Window:
    """A window whose logits are `default` except at the token indices given."""
    start_logits = np.full(len(tokens), default, dtype=np.float32)
    end_logits = np.full(len(tokens), default, dtype=np.float32)
    for i, value in start.items():
        start_logits[i] = value
    for i, value in end.items():
        end_logits[i] = value
    return Window(
        start_logits=start_logits,
        end_logits=end_logits,
        offsets=np.array([offsets for _, offsets, _ in tokens], dtype=np.int64),
        context_mask=np.array([is_context for _, _, is_context in tokens], dtype=bool),
    )


def test_the_best_span_is_found_with_its_exact_text_and_score():
    answer = decode_spans(QUESTION, CONTEXT, [window({INDEX["france"]: 5.0}, {INDEX["france"]: 4.0})])
    best = answer.best
    assert best is not None and not answer.is_impossible
    assert (best.text, best.start, best.end) == ("France", 24, 30)
    assert CONTEXT[best.start : best.end] == best.text
    assert best.score == pytest.approx(9.0)
    assert answer.best_text == "France"


def test_no_answer_wins_when_cls_outscores_every_span():
    answer = decode_spans(QUESTION, CONTEXT, [window({0: 8.0, INDEX["france"]: 2.0}, {0: 8.0, INDEX["france"]: 2.0})])
    assert answer.is_impossible
    assert answer.best is None and answer.best_text == ""
    assert answer.no_answer.score == pytest.approx(16.0)
    assert answer.answers[0].text == "France"  # still listed, ranked, but not chosen
    assert answer.null_odds == pytest.approx(16.0 - 4.0)


def test_threshold_decides_between_span_and_no_answer():
    # null 6, best span 5: null - best = 1
    w = window({0: 3.0, INDEX["capital"]: 2.5}, {0: 3.0, INDEX["capital"]: 2.5})
    assert decode_spans(QUESTION, CONTEXT, [w], null_threshold=0.0).is_impossible
    assert decode_spans(QUESTION, CONTEXT, [w], null_threshold=0.5).is_impossible
    assert not decode_spans(QUESTION, CONTEXT, [w], null_threshold=1.0).is_impossible  # strictly greater only
    assert not decode_spans(QUESTION, CONTEXT, [w], null_threshold=2.0).is_impossible
    # a negative threshold makes the reader say "no answer" even when a span beats the null
    w = window({0: 1.0, INDEX["capital"]: 2.0}, {0: 1.0, INDEX["capital"]: 2.0})
    assert not decode_spans(QUESTION, CONTEXT, [w], null_threshold=0.0).is_impossible
    assert decode_spans(QUESTION, CONTEXT, [w], null_threshold=-3.0).is_impossible


def test_end_before_start_is_rejected():
    # start best at "france", end best at "paris": that pair (score 20) must not be a candidate
    w = window({INDEX["france"]: 10.0, INDEX["paris"]: 2.0}, {INDEX["paris"]: 10.0, INDEX["france"]: 1.0})
    answer = decode_spans(QUESTION, CONTEXT, [w], top_k=50)
    assert answer.best.text == "Paris" and answer.best.score == pytest.approx(12.0)
    assert all(span.start < span.end for span in answer.answers)
    assert max(span.score for span in answer.answers) < 20.0
    assert "France" in [span.text for span in answer.answers]  # (france, france) = 11 is fine


def test_spans_reaching_into_the_question_or_special_tokens_are_rejected():
    # the question token "where" (offsets 0-5, which would slice "Paris" from the context!) and [SEP] tokens
    w = window(
        {INDEX["capital"]: 1.0, 1: 50.0, 5: 40.0, 13: 40.0},
        {INDEX["capital"]: 1.0, 3: 50.0, 5: 40.0, 13: 40.0, INDEX["paris"]: 30.0},
    )
    answer = decode_spans(QUESTION, CONTEXT, [w], top_k=100)
    assert answer.best.text == "capital" and answer.best.score == pytest.approx(2.0)
    assert all(span.score < 30.0 for span in answer.answers)
    # [CLS] is the no-answer, never a span start or end
    w = window({0: 50.0, INDEX["of"]: 1.0}, {0: 50.0, INDEX["of"]: 1.0})
    answer = decode_spans(QUESTION, CONTEXT, [w], top_k=100)
    assert all(span.score < 50.0 for span in answer.answers)


def test_a_window_without_context_tokens_can_only_say_no_answer():
    tokens = [(name, offsets, False) for name, offsets, _ in TOKENS]
    answer = decode_spans(QUESTION, CONTEXT, [window({0: -5.0}, {0: -5.0}, tokens=tokens)])
    assert answer.answers == [] and answer.is_impossible
    assert answer.no_answer.probability == pytest.approx(1.0)
    assert answer.null_odds == NO_SPAN_NULL_ODDS


@pytest.mark.parametrize("max_tokens", [1, 3, 6, 7, 30])
def test_max_answer_tokens_is_respected(max_tokens):
    # "paris ... ." is 7 tokens: the highest pair, allowed only when max_answer_tokens >= 7
    w = window({INDEX["paris"]: 10.0}, {INDEX["."]: 10.0}, default=0.0)
    answer = decode_spans(QUESTION, CONTEXT, [w], top_k=1000, max_answer_tokens=max_tokens)
    offsets = {offsets: i for i, (_, offsets, is_context) in enumerate(TOKENS) if is_context}
    starts = {offsets[0]: i for offsets, i in offsets.items()}
    ends = {offsets[1]: i for offsets, i in offsets.items()}
    lengths = [ends[span.end] - starts[span.start] + 1 for span in answer.answers]
    assert max(lengths) == min(max_tokens, 7)
    assert (answer.best.text == CONTEXT) == (max_tokens >= 7)


def test_n_best_limits_the_starts_and_ends_paired():
    w = window({INDEX["paris"]: 3.0, INDEX["the"]: 2.0}, {INDEX["capital"]: 3.0, INDEX["france"]: 2.0})
    answer = decode_spans(QUESTION, CONTEXT, [w], top_k=100, n_best=1)
    assert [span.text for span in answer.answers] == ["Paris is the capital"]
    answer = decode_spans(QUESTION, CONTEXT, [w], top_k=100, n_best=2)
    assert len(answer.answers) == 4


def test_answers_are_ranked_by_score_and_cut_to_top_k():
    rng = np.random.default_rng(0)
    w = window({}, {}, default=0.0)
    w = Window(rng.normal(size=14), rng.normal(size=14), w.offsets, w.context_mask)
    everything = decode_spans(QUESTION, CONTEXT, [w], top_k=1000)
    scores = [span.score for span in everything.answers]
    assert scores == sorted(scores, reverse=True)
    assert len(everything.answers) == 7 * 8 // 2  # every start <= end pair of the 7 context tokens
    top3 = decode_spans(QUESTION, CONTEXT, [w], top_k=3)
    assert top3.answers == everything.answers[:3]


def test_top_k_and_windows_are_checked():
    with pytest.raises(ValueError):
        decode_spans(QUESTION, CONTEXT, [window({}, {})], top_k=0)
    with pytest.raises(ValueError):
        decode_spans(QUESTION, CONTEXT, [])


def test_probabilities_are_a_softmax_over_all_candidates_and_the_no_answer():
    w = window({0: 1.0, INDEX["capital"]: 2.0, INDEX["france"]: 1.0}, {0: 1.0, INDEX["capital"]: 1.5, INDEX["france"]: 0.5})
    answer = decode_spans(QUESTION, CONTEXT, [w], top_k=3, n_best=2)
    # candidates: capital (3.5), capital..france (2.5), france (1.5); null 2.0
    assert [span.text for span in answer.answers] == ["capital", "capital of France", "France"]
    exps = {"capital": math.exp(3.5), "capital of France": math.exp(2.5), "France": math.exp(1.5), None: math.exp(2.0)}
    total = sum(exps.values())
    for span in answer.answers:
        assert span.probability == pytest.approx(exps[span.text] / total)
    assert answer.no_answer.probability == pytest.approx(exps[None] / total)


def _reference(context: str, windows: list[Window], max_answer_tokens: int):
    """Brute force: every (start, end) pair of context tokens per window, best score per character range."""
    best: dict[tuple[int, int], float] = {}
    for w in windows:
        tokens = np.flatnonzero(w.context_mask)
        for s in tokens:
            for e in tokens:
                if 0 <= e - s < max_answer_tokens:
                    key = (int(w.offsets[s][0]), int(w.offsets[e][1]))
                    score = float(w.start_logits[s]) + float(w.end_logits[e])
                    best[key] = max(best.get(key, -math.inf), score)
    null = min(float(w.start_logits[0]) + float(w.end_logits[0]) for w in windows)
    return best, null


def long_context_windows(rng, n_words=40, window_words=16, stride_words=6):
    """A long context cut into overlapping windows the way the tokenizer does: [CLS] q [SEP] slice [SEP]."""
    words = [f"w{i}" + "x" * int(rng.integers(0, 4)) for i in range(n_words)]
    context = " ".join(words)
    spans, position = [], 0
    for word in words:
        spans.append((position, position + len(word)))
        position += len(word) + 1
    windows, first = [], 0
    while True:
        last = min(first + window_words, n_words)
        tokens = [("[CLS]", (0, 0), False), ("q", (0, 1), False), ("[SEP]", (0, 0), False)]
        tokens += [(words[i], spans[i], True) for i in range(first, last)]
        tokens += [("[SEP]", (0, 0), False)]
        n = len(tokens)
        w = window({}, {}, tokens=tokens, default=0.0)
        windows.append(Window(rng.normal(size=n) * 2, rng.normal(size=n) * 2, w.offsets, w.context_mask))
        if last == n_words:
            return context, windows
        first = last - stride_words


@pytest.mark.parametrize("seed", range(5))
def test_windows_of_a_long_context_are_merged(seed):
    rng = np.random.default_rng(seed)
    context, windows = long_context_windows(rng)
    assert len(windows) > 2
    answer = decode_spans("q", context, windows, top_k=10_000, n_best=1000, max_answer_tokens=5)
    expected, null = _reference(context, windows, max_answer_tokens=5)
    got = {(span.start, span.end): span.score for span in answer.answers}
    assert len(got) == len(answer.answers)  # one entry per character range
    assert got.keys() == expected.keys()
    for key, score in expected.items():
        assert got[key] == pytest.approx(score)
    assert answer.no_answer.score == pytest.approx(null)  # the minimum over windows
    for span in answer.answers:
        assert context[span.start : span.end] == span.text
    total = sum(span.probability for span in answer.answers) + answer.no_answer.probability
    assert total == pytest.approx(1.0)


def test_the_same_span_seen_by_two_windows_counts_once_with_its_best_score():
    # two windows both holding "capital of France"; the second one likes it more
    first = window({0: 4.0, INDEX["capital"]: 1.0}, {0: 4.0, INDEX["france"]: 1.0})
    second = window({0: -1.0, INDEX["capital"]: 3.0}, {0: 2.0, INDEX["france"]: 2.0})
    answer = decode_spans(QUESTION, CONTEXT, [first, second], top_k=100)
    spans = [span for span in answer.answers if span.text == "capital of France"]
    assert len(spans) == 1 and spans[0].score == pytest.approx(5.0)
    assert answer.no_answer.score == pytest.approx(1.0)  # min(8, 1)
    assert len({(span.start, span.end) for span in answer.answers}) == len(answer.answers)


def test_offsets_of_a_real_tokenizer_map_back_to_the_exact_text():
    """Uncased WordPiece lower-cases and strips accents; the spans must still be the original characters."""
    from transformers import AutoTokenizer

    from qa_tui.engine.model_files import base_encoder_path
    from qa_tui.engine.windows import WindowSettings, context_mask, tokenize_windows

    tokenizer = AutoTokenizer.from_pretrained(base_encoder_path())
    context = "  Café\tau LAIT — naïve Zoë's  crème brûlée,\n\nserved at 9:30 in São Paulo (Brazil).  "
    question = "What was served?"
    encoding = tokenize_windows(tokenizer, [question], [context], WindowSettings(max_seq_length=24, doc_stride=4, max_query_length=8))
    assert len(encoding["input_ids"]) > 1  # several windows
    rng = np.random.default_rng(1)
    windows = []
    for i, ids in enumerate(encoding["input_ids"]):
        windows.append(
            Window(
                start_logits=rng.normal(size=len(ids)),
                end_logits=rng.normal(size=len(ids)),
                offsets=np.asarray(encoding["offset_mapping"][i]),
                context_mask=context_mask(encoding, i),
            )
        )
    answer = decode_spans(question, context, windows, top_k=10_000, n_best=100)
    texts = set()
    for span in answer.answers:
        assert context[span.start : span.end] == span.text
        assert span.text == span.text.strip()
        texts.add(span.text)
    assert {"Café", "crème brûlée", "São Paulo", "Zoë's", "LAIT"} <= texts
