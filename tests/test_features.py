"""Training features: answer labels line up with the answer text, in every window, edges included."""

from __future__ import annotations

import json
import random
import shutil

import pytest
from transformers import AutoTokenizer

from qa_tui.data.features import (
    FeatureSettings,
    is_holdout_article,
    label_windows,
    prepare_features,
    split_examples,
)
from qa_tui.data.negatives import (
    antonym_negatives,
    antonym_question,
    negate_question,
    negation_negatives,
    same_article_negatives,
    swap_negatives,
    swap_question,
)
from qa_tui.data.squad import QARecord
from qa_tui.engine.model_files import base_encoder_path
from qa_tui.engine.windows import WindowSettings

from conftest import FIXTURES


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(base_encoder_path())


def fixture_rows():
    data = json.loads((FIXTURES / "train_tiny.json").read_text())
    rows = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                rows.append(
                    {
                        "question": qa["question"],
                        "context": paragraph["context"],
                        "answer_text": [a["text"] for a in qa["answers"]],
                        "answer_start": [a["answer_start"] for a in qa["answers"]],
                    }
                )
    return rows


@pytest.mark.parametrize("windows", [WindowSettings(384, 128, 64), WindowSettings(64, 16, 16), WindowSettings(48, 8, 12)])
def test_labels_decode_back_to_the_answer(tokenizer, windows):
    rows = fixture_rows()
    batch = {key: [row[key] for row in rows] for key in rows[0]}
    features = label_windows(batch, tokenizer, windows)
    encoding = tokenizer(  # the same windows again, to read their offsets
        [row["question"] for row in rows],
        [row["context"] for row in rows],
        truncation="only_second",
        max_length=windows.max_seq_length,
        stride=windows.doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    assert len(features["input_ids"]) == len(encoding["input_ids"])
    labelled_examples = set()
    for window, example in enumerate(encoding["overflow_to_sample_mapping"]):
        start, end = features["start_positions"][window], features["end_positions"][window]
        row = rows[example]
        answer = row["answer_text"][0]
        answer_start = row["answer_start"][0]
        sequence_ids = encoding.sequence_ids(window)
        context_chars = [encoding["offset_mapping"][window][i] for i, s in enumerate(sequence_ids) if s == 1]
        window_holds_answer = context_chars[0][0] <= answer_start and context_chars[-1][1] >= answer_start + len(answer)
        if not window_holds_answer:
            assert (start, end) == (0, 0), "a window without the whole answer must point at [CLS]"
            continue
        offsets = encoding["offset_mapping"][window]
        assert sequence_ids[start] == 1 and sequence_ids[end] == 1
        assert row["context"][offsets[start][0] : offsets[end][1]] == answer
        labelled_examples.add(example)
    assert labelled_examples == set(range(len(rows))), "every answer must be labelled in some window"
    if windows.max_seq_length < 100:
        assert len(encoding["input_ids"]) > len(rows), "small windows must split the long paragraph"


def test_negatives_pair_a_question_with_another_paragraph_without_its_answer():
    article = [
        QARecord(id="a", title="T", context="Paris is in France.", question="Where is Paris?",
                 answers=[{"text": "France", "answer_start": 12}]),
        QARecord(id="b", title="T", context="Rome is in Italy.", question="Where is Rome?",
                 answers=[{"text": "Italy", "answer_start": 11}]),
        QARecord(id="c", title="T", context="France borders Italy.", question="What borders Italy?",
                 answers=[{"text": "France", "answer_start": 0}]),
    ]
    negatives = same_article_negatives(article, 1.0, random.Random(0))
    assert {negative.id for negative in negatives} == {"a__neg", "b__neg", "c__neg"}
    for negative in negatives:
        original = next(record for record in article if f"{record.id}__neg" == negative.id)
        assert negative.is_impossible and negative.question == original.question
        assert negative.context != original.context
        assert original.answers[0]["text"].lower() not in negative.context.lower()
    assert same_article_negatives(article, 0.0, random.Random(0)) == []


def test_holdout_is_decided_per_article_and_stable():
    titles = [f"article-{i}" for i in range(2000)]
    chosen = [title for title in titles if is_holdout_article(title, 0.1, seed=1)]
    assert 150 < len(chosen) < 250
    assert chosen == [title for title in titles if is_holdout_article(title, 0.1, seed=1)]
    assert not any(is_holdout_article(title, 0.0, seed=1) for title in titles)


def test_prepare_builds_once_then_reuses_the_cache(tokenizer, tmp_path):
    settings = FeatureSettings(windows=WindowSettings(64, 16, 16), negatives=1.0, holdout=0.0)
    logs = []
    first = prepare_features([str(FIXTURES / "train_tiny.json")], tokenizer, settings, tmp_path, log=logs.append)
    assert first.summary["train_examples"] > 13 and first.summary["train_unanswerable"] > 0
    assert len(first.train) == first.summary["train_features"]
    assert set(first.train.column_names) >= {"input_ids", "attention_mask", "start_positions", "end_positions", "length"}
    second = prepare_features([str(FIXTURES / "train_tiny.json")], tokenizer, settings, tmp_path, log=logs.append)
    assert second.directory == first.directory
    assert any("reusing cached features" in line for line in logs)
    other = prepare_features(
        [str(FIXTURES / "train_tiny.json")], tokenizer, FeatureSettings(windows=WindowSettings(96, 16, 16)), tmp_path,
        log=logs.append,
    )
    assert other.directory != first.directory


def test_swap_question_replaces_a_grounded_number_or_name_with_one_the_paragraph_lacks():
    context = "In 1903 Marie Curie shared the Nobel Prize with Pierre Curie in Stockholm."
    rng = random.Random(0)
    swapped = swap_question("Who shared the prize in 1903?", context, names=set(), numbers={"1903", "1911", "42"}, rng=rng)
    assert swapped == "Who shared the prize in 1911?", "a year is swapped for a year the paragraph does not hold"
    swapped = swap_question("Where did Marie Curie share the prize?", context, {"Warsaw", "Marie Curie"}, set(), rng)
    assert swapped == "Where did Warsaw share the prize?"
    assert swap_question("Who shared the prize?", context, {"Warsaw"}, {"1911"}, rng) is None, "nothing to swap"
    assert swap_question("Where did Marie Curie work?", context, {"Pierre Curie"}, set(), rng) is None, (
        "a replacement the paragraph holds would leave the question answerable"
    )


def test_swap_negatives_keep_the_paragraph_and_have_no_answer():
    article = [
        QARecord(id="a", title="T", context="The bridge at Ulm was rebuilt in 1957 by the city.",
                 question="When was the bridge at Ulm rebuilt?", answers=[{"text": "1957", "answer_start": 32}]),
        QARecord(id="b", title="T", context="The river reaches the sea near the town of Sulina, in Romania.",
                 question="Which town stands near the mouth?", answers=[{"text": "Sulina", "answer_start": 43}]),
    ]
    negatives = swap_negatives(article, 1.0, random.Random(0))
    assert [negative.id for negative in negatives] == ["a__swap"]
    assert negatives[0].context == article[0].context and negatives[0].is_impossible
    assert negatives[0].question in {"When was the bridge at Sulina rebuilt?", "When was the bridge at Romania rebuilt?"}


def test_negate_question_negates_the_leading_auxiliary_only_when_nothing_is_negative_already():
    sentence = "Tesla arrived in New York in 1884"
    assert negate_question("When did Tesla arrive in New York?", sentence) == "When didn't Tesla arrive in New York?"
    assert negate_question("What was the city Tesla arrived in?", sentence) == "What was not the city Tesla arrived in?"
    assert negate_question(" How many years did he stay?", sentence) == " How many years didn't he stay?", (
        "leading white space (SQuAD has some) stays where it was"
    )
    assert negate_question("Did Tesla arrive in 1884?", sentence) is None, "a yes/no question is not SQuAD's kind"
    assert negate_question("Who arrived in New York?", sentence) is None, "no auxiliary to negate"
    assert negate_question("When didn't Tesla leave?", sentence) is None, "already negative"
    assert negate_question("When did Tesla arrive?", "Tesla did not arrive until 1884") is None, (
        "the answer's own sentence is negative: the negated question may well be answerable"
    )
    assert negate_question("Which of the many cities that Tesla saw was he in?", sentence) is None, (
        "an auxiliary past the sixth word belongs to a clause, not to the question"
    )


def test_antonym_question_flips_a_word_the_paragraph_uses_to_one_it_does_not():
    context = "Mont Blanc is the highest mountain in the Alps; the first ascent was in 1786."
    rng = random.Random(0)
    assert antonym_question("What is the highest mountain in the Alps?", context, rng) == (
        "What is the lowest mountain in the Alps?"
    )
    assert antonym_question("First, when was it climbed?", context, rng) == "Last, when was it climbed?", (
        "capitalisation is kept"
    )
    assert antonym_question("What is the largest lake?", context, rng) is None, (
        "'largest' is not in the paragraph: flipping it asks about nothing the paragraph claims"
    )
    both = "The highest and the lowest points of the Alps."
    assert antonym_question("What is the highest point?", both, rng) is None, (
        "the paragraph holds the antonym too, so the flipped question may be answerable"
    )


def test_negation_and_antonym_negatives_keep_the_paragraph_and_have_no_answer():
    context = "The oldest bridge at Ulm was rebuilt in 1957 by the city."
    article = [
        QARecord(id="a", title="T", context=context, question="When was the oldest bridge rebuilt?",
                 answers=[{"text": "1957", "answer_start": 40}]),
        QARecord(id="b", title="T", context="Nobody knows who built it.", question="Who built it?",
                 answers=[{"text": "Nobody", "answer_start": 0}]),
    ]
    negated = negation_negatives(article, 1.0, random.Random(0))
    assert [(negative.id, negative.question) for negative in negated] == [
        ("a__not", "When was not the oldest bridge rebuilt?")
    ]
    flipped = antonym_negatives(article, 1.0, random.Random(0))
    assert [(negative.id, negative.question) for negative in flipped] == [
        ("a__ant", "When was the youngest bridge rebuilt?")
    ]
    for negative in negated + flipped:
        assert negative.context == context and negative.is_impossible
    assert negation_negatives(article, 0.0, random.Random(0)) == antonym_negatives(article, 0.0, random.Random(0)) == []


def test_the_holdout_split_does_not_depend_on_where_the_file_lives(tmp_path):
    """Keyed by file name and title: a clone in another folder (CI's) holds out the same articles."""
    settings = FeatureSettings(holdout=0.5, seed=0)
    splits = []
    for folder in ("a", "b/c"):
        (tmp_path / folder).mkdir(parents=True)
        copy = shutil.copy(FIXTURES / "train_tiny.json", tmp_path / folder / "train_tiny.json")
        splits.append({record.title: held for held, record in split_examples([str(copy)], settings, [])})
    assert splits[0] == splits[1]
    assert set(splits[0].values()) == {True, False}
