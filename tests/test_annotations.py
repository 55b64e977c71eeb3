"""The annotations file: SQuAD 2.0 records written atomically, replaced per (context, question), undone, refused when invalid."""

from __future__ import annotations

import json

import pytest

from qa_tui.annotations import AnnotationStore, record_id
from qa_tui.data.squad import read_records
from qa_tui.errors import UserError

CONTEXT = "The outbreak began in Wuhan in December 2019. About 44.4 % of the cases were severe."
OTHER = "Masks reduce transmission. Hand washing helps too."


def test_a_span_becomes_a_squad_record_whose_offsets_slice_the_context(tmp_path):
    store = AnnotationStore.open(tmp_path / "a.json")
    start = CONTEXT.index("Wuhan")
    record = store.annotate_span("notes.txt", CONTEXT, "Where did it begin?", start - 1, start + len("Wuhan") + 1)
    assert record.answers == [{"text": "Wuhan", "answer_start": start}]  # the dragged spaces are trimmed
    data = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    paragraph = data["data"][0]["paragraphs"][0]
    assert data["data"][0]["title"] == "notes.txt" and paragraph["context"] == CONTEXT
    qa = paragraph["qas"][0]
    assert qa == {"id": record_id(CONTEXT, "Where did it begin?"), "question": "Where did it begin?",
                  "answers": [{"text": "Wuhan", "answer_start": start}], "is_impossible": False}
    (read,) = read_records(tmp_path / "a.json", strict=True)  # a valid --train-file / --data file
    assert read.context[read.answers[0]["answer_start"]:][:5] == "Wuhan"


def test_unanswerable_and_replacement_keep_one_record_per_question_and_context(tmp_path):
    store = AnnotationStore.open(tmp_path / "a.json")
    store.annotate_span("notes.txt", CONTEXT, "Where?", 22, 27)
    store.annotate_unanswerable("notes.txt", CONTEXT, "Who found it?")
    store.annotate_unanswerable("tips.txt", OTHER, "Where?")  # same question, other context: a second record
    store.annotate_unanswerable("notes.txt", CONTEXT, "Where?")  # replaces the first
    assert len(store) == 3
    records = {(r.context, r.question): r for r in read_records(tmp_path / "a.json", strict=True)}
    assert len(records) == 3 and records[(CONTEXT, "Where?")].is_impossible
    assert records[(OTHER, "Where?")].title == "tips.txt"
    reopened = AnnotationStore.open(tmp_path / "a.json")
    assert len(reopened) == 3 and reopened.find(CONTEXT, "Where?").answers == []


def test_undo_takes_back_an_addition_and_restores_a_replaced_record(tmp_path):
    path = tmp_path / "a.json"
    store = AnnotationStore.open(path)
    store.annotate_span("notes.txt", CONTEXT, "Where?", 22, 27)
    store.annotate_unanswerable("notes.txt", CONTEXT, "Where?")
    assert store.undo().is_impossible  # the replacement is taken back: the span is the answer again
    assert AnnotationStore.open(path).find(CONTEXT, "Where?").answers[0]["text"] == "Wuhan"
    assert store.undo().answers[0]["text"] == "Wuhan"
    assert len(AnnotationStore.open(path)) == 0
    assert store.undo() is None


@pytest.mark.parametrize("content", ["{not json", '{"data": [{"title": "t", "paragraphs": [{"context": "abc", '
                                     '"qas": [{"id": "1", "question": "q?", "answers": [{"text": "zzz", '
                                     '"answer_start": 0}]}]}]}]}', '[1, 2]'])
def test_an_invalid_file_is_refused_in_one_line_and_left_untouched(tmp_path, content):
    path = tmp_path / "a.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError) as error:
        AnnotationStore.open(path)
    message = str(error.value)
    assert str(path) in message and "untouched" in message and "\n" not in message
    assert path.read_text(encoding="utf-8") == content


def fill_the_disk(monkeypatch) -> None:
    """Every save fails as on a full disk, until `monkeypatch.undo()`."""

    def disk_full(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("qa_tui.annotations.write_squad_v2", disk_full)


def test_a_failed_save_leaves_memory_as_the_file_is(tmp_path, monkeypatch):
    path = tmp_path / "a.json"
    store = AnnotationStore.open(path)
    store.annotate_unanswerable("notes.txt", CONTEXT, "Who?")

    fill_the_disk(monkeypatch)
    with pytest.raises(UserError, match="could not save the annotations: No space left"):
        store.annotate_unanswerable("notes.txt", CONTEXT, "When?")
    assert len(store) == 1 and store.find(CONTEXT, "When?") is None
    monkeypatch.undo()
    assert store.undo().question == "Who?"  # the failed change never reached the undo list
    assert len(AnnotationStore.open(path)) == 0


def test_blank_spans_and_blank_questions_are_refused(tmp_path):
    store = AnnotationStore.open(tmp_path / "a.json")
    with pytest.raises(UserError, match="white space"):
        store.annotate_span("t", "a   b", "q?", 1, 4)
    with pytest.raises(UserError, match="question"):
        store.annotate_unanswerable("t", CONTEXT, "  ")
    assert not (tmp_path / "a.json").exists()


def squad_file(path, qas, context=CONTEXT):
    path.write_text(json.dumps({"data": [{"title": "t", "paragraphs": [{"context": context, "qas": qas}]}]}))
    return path.read_bytes()


def test_a_file_that_saving_would_rewrite_is_refused_and_left_as_it_is(tmp_path):
    start = CONTEXT.index("Wuhan")
    asked_twice = [{"id": str(i), "question": "Where?", "answers": [{"text": "Wuhan", "answer_start": start}]}
                   for i in (1, 2)]
    off_by_one = [{"id": "1", "question": "Where?", "answers": [{"text": "Wuhan", "answer_start": start + 1}]}]
    for name, qas, why in (("twice.json", asked_twice, "asked twice"), ("off.json", off_by_one, "off their offsets")):
        before = squad_file(tmp_path / name, qas)
        with pytest.raises(UserError, match=why):
            AnnotationStore.open(tmp_path / name)
        assert (tmp_path / name).read_bytes() == before
    with pytest.raises(UserError, match="ending in .json"):
        AnnotationStore.open(tmp_path / "notes.jsonl")


def test_a_file_another_program_wrote_meanwhile_is_not_overwritten(tmp_path):
    path = tmp_path / "a.json"
    first, second = AnnotationStore.open(path), AnnotationStore.open(path)
    first.annotate_unanswerable("notes.txt", CONTEXT, "Who?")
    with pytest.raises(UserError, match="changed by another program"):
        second.annotate_unanswerable("notes.txt", CONTEXT, "When?")
    assert len(second) == 0 and [r.question for r in AnnotationStore.open(path).records] == ["Who?"]


def test_an_undo_that_cannot_be_saved_can_be_tried_again(tmp_path, monkeypatch):
    path = tmp_path / "a.json"
    store = AnnotationStore.open(path)
    store.annotate_unanswerable("notes.txt", CONTEXT, "Who?")

    fill_the_disk(monkeypatch)
    with pytest.raises(UserError, match="could not save"):
        store.undo()
    monkeypatch.undo()
    assert store.can_undo and len(store) == 1
    assert store.undo().question == "Who?" and len(AnnotationStore.open(path)) == 0
