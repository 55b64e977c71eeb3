"""qa_tui.data.squad: reading SQuAD v1.1/v2.0 / JSON Lines (plain or gzip), validation and repair, atomic writing."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from qa_tui.data.squad import (
    MAX_KEPT_PROBLEMS,
    QARecord,
    ValidationReport,
    count_records,
    read_records,
    write_squad_v2,
)
from qa_tui.errors import UserError

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def read(path: Path, **kwargs) -> tuple[list[QARecord], ValidationReport]:
    report = ValidationReport(str(path))
    return list(read_records(path, report=report, **kwargs)), report


def assert_aligned(records: list[QARecord]) -> None:
    for record in records:
        for answer in record.answers:
            start = answer["answer_start"]
            assert record.context[start : start + len(answer["text"])] == answer["text"], record.id


# --- formats -------------------------------------------------------------------------------------------------


def test_reads_squad_v1():
    records, report = read(FIXTURES / "squad_v1.json")
    assert [r.id for r in records] == ["v1-1", "v1-2", "v1-3", "v1-4"]
    assert [r.title for r in records] == ["Tiny Planets"] * 3 + ["Rivers"]
    assert records[1].answers == [
        {"text": "88 days", "answer_start": 76},
        {"text": "every 88 days", "answer_start": 70},
    ]
    assert records[2].question == "What is the atmosphere of Venus made of?"
    assert not any(r.is_impossible for r in records)
    assert (report.questions, report.answerable, report.unanswerable, report.problems) == (4, 4, 0, [])
    assert_aligned(records)


def test_reads_squad_v2_unanswerable_without_plausible_answers():
    records, report = read(FIXTURES / "squad_v2.json")
    by_id = {r.id: r for r in records}
    assert by_id["v2-2"].answers == [] and by_id["v2-2"].is_impossible  # plausible_answers are not gold
    assert by_id["v2-4"].is_impossible
    assert by_id["v2-1"].answers == [{"text": "Finland", "answer_start": 57}]
    assert (report.questions, report.answerable, report.unanswerable) == (5, 3, 2)


def test_reads_json_lines_with_integer_ids_and_no_title(tmp_path):
    records, report = read(FIXTURES / "squad_records.jsonl")
    assert [(r.id, r.title, r.is_impossible) for r in records] == [
        ("101", "", False),
        ("j-2", "Food", True),
        ("j-3", "Food", True),  # no "answers" at all
    ]
    assert (report.answerable, report.unanswerable) == (1, 2)
    # Recognised by content as well as by name.
    renamed = tmp_path / "records.json"
    shutil.copy(FIXTURES / "squad_records.jsonl", renamed)
    assert [r.id for r in read_records(renamed)] == ["101", "j-2", "j-3"]


@pytest.mark.parametrize("name", ["squad_v2.json.gz", "squad_v2.json"])  # gzip found by its magic bytes
def test_reads_gzip(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(gzip.compress((FIXTURES / "squad_v2.json").read_bytes()))
    assert [r.id for r in read_records(path)] == ["v2-1", "v2-2", "v2-3", "v2-4", "v2-5"]
    assert count_records(path) == 5


def test_reads_gzip_json_lines(tmp_path):
    path = tmp_path / "records.jsonl.gz"
    path.write_bytes(gzip.compress((FIXTURES / "squad_records.jsonl").read_bytes()))
    assert [r.id for r in read_records(path)] == ["101", "j-2", "j-3"]


def test_utf8_byte_order_mark_is_skipped(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / "squad_v1.json").read_bytes())
    assert len(list(read_records(path))) == 4


def test_count_records():
    assert count_records(FIXTURES / "squad_v1.json") == 4
    assert count_records(FIXTURES / "squad_records.jsonl") == 3  # the blank line is not a record
    assert count_records(FIXTURES / "squad_problems.json") == 20  # counted, not validated


# --- repairs -------------------------------------------------------------------------------------------------


def test_repairs_misplaced_answers_and_reports_each():
    records, report = read(FIXTURES / "squad_repairs.json")
    assert len(records) == 7 and report.rejected == 0
    assert report.repaired == 6
    assert_aligned(records)
    answers = {r.id: r.answers[0] for r in records}
    context = records[0].context
    assert answers["1"] == {"text": "Wuhan", "answer_start": context.index("Wuhan")}  # leading space
    assert answers["2"] == {"text": "Wuhan", "answer_start": context.index("Wuhan")}  # white space both sides
    assert answers["3"]["answer_start"] == context.index("incubation period")  # 3 characters later
    assert answers["4"] == {"text": "seafood market", "answer_start": context.index("seafood market")}  # both
    assert answers["5"]["answer_start"] == context.index("December 2019")  # far away, only occurrence
    assert answers["6"]["answer_start"] == context.rindex("respiratory droplets")  # the nearer of two
    assert answers["7"]["answer_start"] == context.index("respiratory droplets")  # already right

    reasons = {p.id: p.reason for p in report.problems}
    assert all(p.repaired and p.file == str(FIXTURES / "squad_repairs.json") for p in report.problems)
    assert reasons["1"] == "answer: white space around the text stripped"
    assert reasons["3"] == "answer: answer_start 139 -> 142 (the text is +3 characters away)"
    assert "white space" in reasons["4"] and "+3 characters away" in reasons["4"]
    assert "not within 50 characters" in reasons["5"] and "only occurrence" in reasons["5"]
    assert reasons["6"] == "answer: answer_start 184 -> 204 (the text is +20 characters away)"
    assert "7" not in reasons


def test_strict_mode_still_repairs():
    records = list(read_records(FIXTURES / "squad_repairs.json", strict=True))
    assert len(records) == 7
    assert_aligned(records)


def test_impossible_question_with_answers_is_unanswerable_and_reported(tmp_path):
    path = tmp_path / "contradiction.jsonl"
    row = {"id": "x", "context": "Some text.", "question": "What?", "is_impossible": True,
           "answers": [{"text": "Some", "answer_start": 0}]}
    path.write_text(json.dumps(row) + "\n")
    records, report = read(path)
    assert records[0].is_impossible
    assert report.repaired == 1 and "treated as unanswerable" in report.problems[0].reason


# --- rejections ----------------------------------------------------------------------------------------------

EXPECTED_REJECTIONS = {
    "bad-not-found": "answer: text 'Jupiter' not found in the context",
    "bad-no-question": "'question' is missing",
    "bad-question-type": "'question' must be a string, not an integer",
    "bad-blank-question": "'question' is empty",
    "bad-start-string": "answer: 'answer_start' must be an integer, not a string",
    "bad-start-float": "answer: 'answer_start' must be an integer, not a number with a fraction",
    "bad-no-start": "answer: 'answer_start' is missing",
    "bad-text-type": "answer: 'text' must be a string, not an integer",
    "bad-empty-text": "answer: the text is empty (an unanswerable question has answers [])",
    "bad-answers-type": "'answers' must be a list, not a string",
    "bad-no-answers": "'answers' is missing",
    "bad-impossible-type": "'is_impossible' must be true or false, not a string",
    "ok-1": "duplicate id (an earlier question in this file has it)",
    "bad-blank-context": "'context' is empty",
    "bad-no-context": "'context' is missing",
    "bad-title-type": "'title' must be a string, not an integer",
}


def test_rejects_bad_records_with_file_id_and_reason():
    path = FIXTURES / "squad_problems.json"
    records, report = read(path)
    assert [r.id for r in records] == ["ok-1", "ok-2"]
    assert records[0].question == "Which is the smallest planet?"  # the first of the duplicates is kept
    assert not any(p.repaired for p in report.problems)
    assert all(p.file == str(path) for p in report.problems)
    with_id = {p.id: p.reason for p in report.problems if p.id is not None}
    assert with_id == EXPECTED_REJECTIONS
    without_id = [p.reason for p in report.problems if p.id is None]
    assert without_id == [
        "article 1, paragraph 1, question 15: 'id' is missing",
        "article 1, paragraph 1, question 16: 'id' must be a string or an integer, not a number with a fraction",
        "article 2: 'paragraphs' is missing",
    ]
    assert (report.questions, report.rejected, report.repaired) == (2, 19, 0)


def test_problem_one_liner():
    _, report = read(FIXTURES / "squad_problems.json")
    path = FIXTURES / "squad_problems.json"
    assert str(report.problems[0]) == f"{path}: id bad-not-found: answer: text 'Jupiter' not found in the context"
    no_id = next(p for p in report.problems if p.id is None)
    assert str(no_id) == f"{path}: article 1, paragraph 1, question 15: 'id' is missing"


def test_strict_mode_raises_the_first_rejection():
    path = FIXTURES / "squad_problems.json"
    with pytest.raises(UserError) as caught:
        list(read_records(path, strict=True))
    assert str(caught.value) == f"{path}: id bad-not-found: answer: text 'Jupiter' not found in the context"


def test_duplicate_ids_in_json_lines(tmp_path):
    path = tmp_path / "dup.jsonl"
    row = {"id": 7, "context": "Some text.", "question": "What?", "answers": []}
    path.write_text(json.dumps(row) + "\n" + json.dumps({**row, "id": "7"}) + "\n")  # 7 and "7" are the same id
    records, report = read(path)
    assert len(records) == 1 and report.rejected == 1
    assert str(report.problems[0]) == f"{path}: id 7: duplicate id (an earlier question in this file has it)"


def test_problems_kept_are_capped_but_all_counted(tmp_path):
    path = tmp_path / "many.jsonl"
    rows = [{"id": i, "context": "Text.", "question": " "} for i in range(MAX_KEPT_PROBLEMS + 50)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    records, report = read(path)
    assert records == []
    assert report.rejected == MAX_KEPT_PROBLEMS + 50
    assert len(report.problems) == MAX_KEPT_PROBLEMS


# --- unreadable files ----------------------------------------------------------------------------------------


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(UserError, match="no such SQuAD file"):
        read_records(tmp_path / "nope.json")
    with pytest.raises(UserError, match="is a directory"):
        read_records(tmp_path)
    with pytest.raises(UserError, match="no such SQuAD file"):
        count_records(tmp_path / "nope.json")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"data": [{"title": "T", "paragraphs": [', "not valid JSON (parse error: premature EOF"),
        (b'{"data": [{"title": "T",}]}', "not valid JSON (parse error: invalid object key"),
        (b'{"data": [{"title": "caf\xe9", "paragraphs": []}]}', "not valid UTF-8"),
        (b"", "the file is empty"),
        (b"[1, 2]", "not a SQuAD file: expected a JSON object"),
        (b'{"version": "1.1"}', "no 'data' list of articles"),
        (b'{"version": "1.1", "data": {}}', "'data' must be a list of articles"),
        (b"\xff\xfe{\x00", "binary"),
    ],
)
def test_malformed_nested_json(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(UserError) as caught:
        list(read_records(path))
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_empty_data_list_is_zero_records(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text('{"version": "v2.0", "data": []}')
    assert list(read_records(path)) == []


def test_malformed_json_lines_name_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"id": "a", "context": "Text.", "question": "What?"})
    path.write_text(good + "\n\n" + '{"id": "b", "context": ' + "\n")
    records = read_records(path)
    assert next(records).id == "a"
    with pytest.raises(UserError, match=r"bad\.jsonl: line 3: not valid JSON \(Expecting value, column 23\)"):
        next(records)
    path.write_bytes(good.encode() + b'\n{"id": "caf\xe9"}\n')
    with pytest.raises(UserError, match=r"line 2: not valid UTF-8"):
        list(read_records(path))


def test_json_lines_record_that_is_not_an_object(tmp_path):
    path = tmp_path / "list.jsonl"
    path.write_text("[1, 2]\n")
    records, report = read(path)
    assert records == [] and report.problems[0].reason == "line 1: not a JSON object but a list"


def test_broken_gzip(tmp_path):
    path = tmp_path / "broken.json.gz"
    path.write_bytes(gzip.compress((FIXTURES / "squad_v1.json").read_bytes())[:60])
    with pytest.raises(UserError, match=r"broken\.json\.gz: "):
        list(read_records(path))


# --- writing -------------------------------------------------------------------------------------------------


def test_write_then_read_round_trip(tmp_path):
    for fixture in ("squad_v1.json", "squad_v2.json", "squad_records.jsonl", "squad_repairs.json"):
        records = list(read_records(FIXTURES / fixture))
        out = tmp_path / f"{fixture}.out.json"
        assert write_squad_v2(out, records) == len(records)
        again, report = read(out)
        assert again == records, fixture
        assert report.problems == []
        written = json.loads(out.read_text(encoding="utf-8"))
        assert written["version"] == "v2.0"
        flags = [qa["is_impossible"] for a in written["data"] for p in a["paragraphs"] for qa in p["qas"]]
        assert flags == [r.is_impossible for r in records]


def test_write_groups_consecutive_titles_and_contexts(tmp_path):
    records = list(read_records(FIXTURES / "squad_v1.json"))
    out = tmp_path / "out.json"
    write_squad_v2(out, iter(records))  # any iterable, consumed once
    data = json.loads(out.read_text(encoding="utf-8"))["data"]
    assert [a["title"] for a in data] == ["Tiny Planets", "Rivers"]
    assert [len(p["qas"]) for p in data[0]["paragraphs"]] == [2, 1]


def test_failed_write_leaves_no_partial_file(tmp_path):
    records = list(read_records(FIXTURES / "squad_v1.json"))

    def failing():
        yield from records[:2]
        raise RuntimeError("the disk caught fire")

    out = tmp_path / "out.json"
    with pytest.raises(RuntimeError):
        write_squad_v2(out, failing())
    assert list(tmp_path.iterdir()) == []
    out.write_text("previous content")
    with pytest.raises(RuntimeError):
        write_squad_v2(out, failing())
    assert out.read_text() == "previous content"
    assert list(tmp_path.iterdir()) == [out]


# --- the report ----------------------------------------------------------------------------------------------


def test_summary_and_to_dict():
    report = ValidationReport("covid.json", questions=1380, answerable=1380, repaired=234)
    expected = "covid.json: 1,380 questions (1,380 answerable, 0 unanswerable), 234 repaired, 0 rejected"
    assert report.summary() == expected
    _, report = read(FIXTURES / "squad_repairs.json")
    as_dict = report.to_dict()
    assert as_dict["questions"] == 7 and as_dict["repaired"] == 6
    assert as_dict["problems"][0] == {
        "file": str(FIXTURES / "squad_repairs.json"),
        "id": "1",
        "reason": "answer: white space around the text stripped",
        "repaired": True,
    }
    json.dumps(as_dict)


# --- real data (opt-in) --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_data_covid_qa_and_squad1_train():
    covid = SHARED_DATA / "covid-qa" / "covid-qa-2020-04-23.json"
    records, report = read(covid)
    assert (report.questions, report.repaired, report.rejected) == (1380, 234, 0)
    assert len(records) == 1380 and all(r.title == "" for r in records)
    assert_aligned(records)
    assert count_records(covid) == 1380

    train = SHARED_DATA / "squad1" / "train-v1.1.json"
    report = ValidationReport(str(train))
    assert sum(1 for _ in read_records(train, report=report)) == 87_599
    assert (report.repaired, report.rejected) == (0, 0)
