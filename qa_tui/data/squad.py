"""SQuAD files in and out: streamed reading with validation and repair, atomic writing.

Reads SQuAD v1.1/v2.0 nested JSON and JSON Lines of flat records, plain or gzip-compressed (recognised by its
magic bytes, whatever the name). Nested JSON is parsed one article at a time with ijson, so memory follows the
largest article, not the file (plus the ids seen so far, to catch duplicates). Every record is checked before it
is yielded: a bad one is reported (file, id, reason) and skipped, or raised as a UserError in strict mode; an
answer whose `answer_start` is merely off (white space around the text, or the text a few characters away, as in
COVID-QA) is repaired and reported, never dropped. After reading,
`context[answer_start:answer_start + len(text)] == text` holds for every answer of every record.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from itertools import groupby
from operator import attrgetter
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple

import ijson

from qa_tui.errors import UserError
from qa_tui.inputs import check_readable_file
from qa_tui.io import atomic_open

try:  # the C backend parses about ten times faster than the pure-Python one that ijson falls back to
    _ijson = ijson.get_backend("yajl2_c")
except ImportError:
    _ijson = ijson

MAX_KEPT_PROBLEMS = 1000
"""Problems kept in a report's list; all of them are counted, but a broken file must not fill the memory."""

REPAIR_WINDOW = 50
"""Characters either side of `answer_start` within which a found answer text counts as a near, routine repair."""

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_JSONL_SUFFIXES = (".jsonl", ".ndjson")
_NESTED_KEYS = frozenset({"data", "version"})
_RECORD_KEYS = frozenset({"id", "question", "context", "answers", "is_impossible"})
_Stream = io.BufferedReader | gzip.GzipFile
_MISSING: Any = object()  # a field absent from the record, as opposed to present with a wrong value


@dataclass
class QARecord:
    """One question on one context; `answers` is [] for an unanswerable question."""

    id: str
    title: str
    context: str
    question: str
    answers: list[dict]

    @property
    def is_impossible(self) -> bool:
        return not self.answers


@dataclass
class Problem:
    """A record that was repaired (and kept) or rejected (and skipped)."""

    file: str
    id: str | None
    reason: str
    repaired: bool

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}" if self.id is None else f"{self.file}: id {self.id}: {self.reason}"


@dataclass
class ValidationReport:
    """What reading one file found: counts of accepted, repaired and rejected records, and the first problems."""

    file: str
    questions: int = 0
    answerable: int = 0
    unanswerable: int = 0
    repaired: int = 0
    rejected: int = 0
    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        """Count a problem, and keep it while fewer than MAX_KEPT_PROBLEMS are kept."""
        if problem.repaired:
            self.repaired += 1
        else:
            self.rejected += 1
        if len(self.problems) < MAX_KEPT_PROBLEMS:
            self.problems.append(problem)

    def summary(self) -> str:
        return (
            f"{self.file}: {self.questions:,} questions ({self.answerable:,} answerable, "
            f"{self.unanswerable:,} unanswerable), {self.repaired:,} repaired, {self.rejected:,} rejected"
        )

    def to_dict(self) -> dict:
        return asdict(self)


def read_records(
    path: str | Path, *, strict: bool = False, report: ValidationReport | None = None
) -> Iterator[QARecord]:
    """Stream the valid records of a SQuAD JSON / JSON Lines file (optionally gzip), repairing what can be repaired.

    Problems go to `report` (one is made if none is given). With `strict`, the first rejected record raises a
    UserError carrying the problem's one-line description instead. A missing, unreadable, non-UTF-8 or malformed
    file raises UserError naming it: the path checks happen here, the parse errors while iterating.
    """
    checked = check_readable_file(path, "SQuAD file")
    jsonl = _is_jsonl(checked)
    validator = _Validator(str(checked), strict, report if report is not None else ValidationReport(str(checked)))
    return _read(checked, jsonl, validator)


def count_records(path: str | Path) -> int:
    """The number of questions in a file, without validating them: cheap enough to size a progress bar."""
    checked = check_readable_file(path, "SQuAD file")
    jsonl = _is_jsonl(checked)
    with _guarded(checked), _open_binary(checked) as stream:
        if jsonl:
            return sum(1 for line in stream if line.strip())
        return sum(1 for _ in _ijson.items(stream, "data.item.paragraphs.item.qas.item"))


def write_squad_v2(path: str | Path, records: Iterable[QARecord], version: str = "v2.0") -> int:
    """Write records as SQuAD v2.0 JSON, atomically; returns how many were written.

    Consecutive records with the same title make one article, and consecutive ones with the same context one
    paragraph, so records are streamed through: only the current one is held. Nothing is left at `path` (not
    even a partial file) if writing fails.
    """
    dumps = partial(json.dumps, ensure_ascii=False)
    written = 0
    with atomic_open(path) as out:
        out.write(f'{{"version": {dumps(version)}, "data": [')
        for article_index, (title, article) in enumerate(groupby(records, key=attrgetter("title"))):
            out.write(f'{"," if article_index else ""}\n{{"title": {dumps(title)}, "paragraphs": [')
            for paragraph_index, (context, paragraph) in enumerate(groupby(article, key=attrgetter("context"))):
                out.write(f'{"," if paragraph_index else ""}\n{{"context": {dumps(context)}, "qas": [')
                for question_index, record in enumerate(paragraph):
                    qa = {
                        "id": record.id,
                        "question": record.question,
                        "answers": [{"text": a["text"], "answer_start": a["answer_start"]} for a in record.answers],
                        "is_impossible": record.is_impossible,
                    }
                    out.write(f'{"," if question_index else ""}\n{dumps(qa)}')
                    written += 1
                out.write("]}")
            out.write("]}")
        out.write("]}\n")
    return written


class _Raw(NamedTuple):
    """A question as found in the file, before validation; `where` locates it when it has no usable id."""

    where: str
    title: Any
    context: Any
    qa: Any


class _Rejected(Exception):
    """Why a record is skipped; `qid` is None when the record has no usable id."""

    def __init__(self, qid: str | None, reason: str):
        super().__init__(reason)
        self.qid = qid
        self.reason = reason


class _Validator:
    """Turns raw questions into QARecords for one file: checks, repairs, duplicate ids, and the report."""

    def __init__(self, file: str, strict: bool, report: ValidationReport):
        self.file = file
        self.strict = strict
        self.report = report
        self.seen_ids: set[str] = set()

    def reject(self, qid: str | None, reason: str) -> None:
        problem = Problem(self.file, qid, reason, repaired=False)
        self.report.add(problem)
        if self.strict:
            raise UserError(str(problem))

    def accept(self, raw: _Raw, answers_required: bool) -> QARecord | None:
        """The validated record (its repairs reported), or None after reporting why it was rejected."""
        try:
            record, repairs = self._check(raw, answers_required)
        except _Rejected as rejection:
            self.reject(rejection.qid, rejection.reason)
            return None
        for repair in repairs:
            self.report.add(Problem(self.file, record.id, repair, repaired=True))
        self.report.questions += 1
        if record.answers:
            self.report.answerable += 1
        else:
            self.report.unanswerable += 1
        return record

    def _check(self, raw: _Raw, answers_required: bool) -> tuple[QARecord, list[str]]:
        """The record and the repairs made to it; raises _Rejected."""
        qa = raw.qa
        if not isinstance(qa, dict):
            raise _Rejected(None, f"{raw.where}: not a JSON object but {_kind(qa)}")
        qid = qa.get("id")
        if qid is None:
            raise _Rejected(None, f"{raw.where}: 'id' is missing")
        if isinstance(qid, bool) or not isinstance(qid, (str, int)):
            raise _Rejected(None, f"{raw.where}: 'id' must be a string or an integer, not {_kind(qid)}")
        qid = str(qid)  # COVID-QA's ids are integers
        if qid in self.seen_ids:
            raise _Rejected(qid, "duplicate id (an earlier question in this file has it)")
        self.seen_ids.add(qid)

        title = "" if raw.title is None or raw.title is _MISSING else raw.title
        if not isinstance(title, str):
            raise _Rejected(qid, f"'title' must be a string, not {_kind(title)}")
        fields = {}
        for name, value in (("context", raw.context), ("question", qa.get("question", _MISSING))):
            if value is _MISSING:
                raise _Rejected(qid, f"'{name}' is missing")
            if not isinstance(value, str):
                raise _Rejected(qid, f"'{name}' must be a string, not {_kind(value)}")
            if not value.strip():
                raise _Rejected(qid, f"'{name}' is empty")
            fields[name] = value
        context = fields["context"]

        impossible = qa.get("is_impossible")
        if impossible is not None and not isinstance(impossible, bool):
            raise _Rejected(qid, f"'is_impossible' must be true or false, not {_kind(impossible)}")
        raw_answers = qa.get("answers")
        repairs: list[str] = []
        if impossible:  # SQuAD 2.0: plausible_answers, and any answers listed anyway, are not gold answers
            if raw_answers:
                repairs.append("is_impossible is true but answers are given: treated as unanswerable")
            raw_answers = []
        elif raw_answers is None:
            if answers_required:
                raise _Rejected(qid, "'answers' is missing")
            raw_answers = []
        if not isinstance(raw_answers, list):
            raise _Rejected(qid, f"'answers' must be a list, not {_kind(raw_answers)}")

        answers = []
        for number, answer in enumerate(raw_answers, 1):
            label = f"answer {number}" if len(raw_answers) > 1 else "answer"
            if not isinstance(answer, dict):
                raise _Rejected(qid, f"{label} must be an object with 'text' and 'answer_start', not {_kind(answer)}")
            text, start = answer.get("text", _MISSING), answer.get("answer_start", _MISSING)
            for name, value, kind in (("text", text, str), ("answer_start", start, int)):
                if value is _MISSING:
                    raise _Rejected(qid, f"{label}: '{name}' is missing")
                if isinstance(value, bool) or not isinstance(value, kind):
                    raise _Rejected(qid, f"{label}: '{name}' must be {_KIND_NAMES[kind]}, not {_kind(value)}")
            if not text.strip():
                raise _Rejected(qid, f"{label}: the text is empty (an unanswerable question has answers [])")
            aligned = _align(context, text, start)
            if aligned is None:
                raise _Rejected(qid, f"{label}: text {_show(text)} not found in the context")
            text, start, repair = aligned
            if repair:
                repairs.append(f"{label}: {repair}")
            answers.append({"text": text, "answer_start": start})

        return QARecord(qid, title, context, fields["question"], answers), repairs


_KIND_NAMES = {str: "a string", int: "an integer"}


def _kind(value: Any) -> str:
    """A JSON-ish name for a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    names = {str: "a string", int: "an integer", float: "a number with a fraction", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _show(text: str, limit: int = 40) -> str:
    """A one-line, bounded rendering of an answer text for a message."""
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _align(context: str, text: str, start: int) -> tuple[str, int, str | None] | None:
    """(text, start, what was repaired or None) with the text at `start` in `context`; None if it is nowhere.

    A misplaced answer is looked up without the white space around it, at its occurrence nearest `start`.
    """
    if start >= 0 and context.startswith(text, start):
        return text, start, None
    stripped = text.strip()
    nearest, occurrences = _nearest_occurrence(context, stripped, start)
    if nearest is None:
        return None
    notes = []
    if stripped != text:
        notes.append("white space around the text stripped")
    if nearest != start:
        offset = nearest - start
        if abs(offset) <= REPAIR_WINDOW:
            notes.append(f"answer_start {start} -> {nearest} (the text is {offset:+d} characters away)")
        else:
            found = "its only occurrence" if occurrences == 1 else f"the nearest of its {occurrences} occurrences"
            notes.append(
                f"answer_start {start} -> {nearest}: the text is not within {REPAIR_WINDOW} characters, "
                f"moved to {found} ({offset:+d} characters away)"
            )
    return stripped, nearest, "; ".join(notes)


def _nearest_occurrence(context: str, needle: str, target: int) -> tuple[int | None, int]:
    """The occurrence of `needle` in `context` nearest `target` (the earlier one on a tie), and how many there are."""
    best, count = None, 0
    index = context.find(needle)
    while index >= 0:
        count += 1
        if best is None or abs(index - target) < abs(best - target):
            best = index
        index = context.find(needle, index + 1)
    return best, count


def _read(path: Path, jsonl: bool, validator: _Validator) -> Iterator[QARecord]:
    with _guarded(path), _open_binary(path) as stream:
        raws = _jsonl_raws(stream, validator) if jsonl else _nested_raws(stream, path, validator)
        for raw in raws:
            record = validator.accept(raw, answers_required=not jsonl)
            if record is not None:
                yield record


def _nested_raws(stream: _Stream, path: Path, validator: _Validator) -> Iterator[_Raw]:
    """The questions of a nested SQuAD file, parsed one article at a time."""
    articles = 0
    for articles, article in enumerate(_ijson.items(stream, "data.item", use_float=True), 1):
        where = f"article {articles}"
        if not isinstance(article, dict):
            validator.reject(None, f"{where}: not a JSON object but {_kind(article)}")
            continue
        paragraphs = article.get("paragraphs", _MISSING)
        if paragraphs is _MISSING:
            validator.reject(None, f"{where}: 'paragraphs' is missing")
            continue
        if not isinstance(paragraphs, list):
            validator.reject(None, f"{where}: 'paragraphs' must be a list, not {_kind(paragraphs)}")
            continue
        title = article.get("title", _MISSING)
        for p_number, paragraph in enumerate(paragraphs, 1):
            p_where = f"{where}, paragraph {p_number}"
            qas = paragraph.get("qas") if isinstance(paragraph, dict) else None
            if not isinstance(qas, list):
                validator.reject(None, f"{p_where}: not an object with a 'qas' list")
                continue
            context = paragraph.get("context", _MISSING)
            for q_number, qa in enumerate(qas, 1):
                yield _Raw(f"{p_where}, question {q_number}", title, context, qa)
    if not articles:
        _check_has_data(path)


def _check_has_data(path: Path) -> None:
    """A file that yielded no article must still have a 'data' list (an empty one is fine)."""
    with _guarded(path), _open_binary(path) as stream:
        events = _ijson.parse(stream)
        for prefix, event, value in events:
            if prefix == "" and event == "map_key" and value == "data":
                _, event, _ = next(events)
                if event != "start_array":
                    raise UserError(f"{path}: 'data' must be a list of articles")
                return
    raise UserError(f"{path}: no 'data' list of articles: not a SQuAD file")


def _jsonl_raws(stream: _Stream, validator: _Validator) -> Iterator[_Raw]:
    """The records of a JSON Lines file, one per non-blank line."""
    for line_number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            where = f"{validator.file}: line {line_number}"
            raise UserError(f"{where}: not valid UTF-8 (byte {exc.start} of the line)") from exc
        try:
            record = json.loads(text.rstrip())  # keeps the column numbers of the line
        except json.JSONDecodeError as exc:
            where = f"{validator.file}: line {line_number}"
            raise UserError(f"{where}: not valid JSON ({exc.msg}, column {exc.colno})") from exc
        fields = record if isinstance(record, dict) else {}
        yield _Raw(f"line {line_number}", fields.get("title", _MISSING), fields.get("context", _MISSING), record)


def _open_binary(path: Path) -> _Stream:
    """The file's bytes, decompressed when it starts with gzip's magic number, past any UTF-8 byte order mark."""
    with open(path, "rb") as probe:
        compressed = probe.read(len(_GZIP_MAGIC)) == _GZIP_MAGIC
    stream: _Stream = gzip.open(path, "rb") if compressed else open(path, "rb")  # type: ignore[assignment]
    if stream.peek(len(_BOM)).startswith(_BOM):
        stream.read(len(_BOM))
    return stream


def _is_jsonl(path: Path) -> bool:
    """JSON Lines by name (.jsonl, .ndjson, maybe + .gz), else by the first keys of the first JSON object.

    Both formats start with '{': a SQuAD file's object has 'data'/'version' keys, a flat record 'id', 'question'...
    """
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(_JSONL_SUFFIXES):
        return True
    with _guarded(path), _open_binary(path) as stream:
        head = stream.peek(4096)[:4096]
        if b"\x00" in head:
            raise UserError(f"{path}: looks like a binary file (it contains NUL bytes), not UTF-8 JSON")
        start = head.lstrip()
        if not start:
            raise UserError(f"{path}: the file is empty")
        if not start.startswith(b"{"):
            raise UserError(
                f"{path}: not a SQuAD file: expected a JSON object ({{\"data\": [...]}}) or JSON Lines records, "
                f"but it starts with {start[:20].decode('utf-8', 'replace')!r}"
            )
        try:
            for prefix, event, value in _ijson.parse(stream, multiple_values=True):
                if prefix == "" and event == "map_key":
                    if value in _NESTED_KEYS:
                        return False
                    if value in _RECORD_KEYS:
                        return True
                elif prefix == "" and event == "end_map":
                    break
        except ijson.JSONError:
            pass  # the reader will report it, with its context
    return False


@contextmanager
def _guarded(path: Path) -> Iterator[None]:
    """Turn parse, decompression and read errors into one-line UserErrors naming the file."""
    try:
        yield
    except ijson.JSONError as exc:
        raise UserError(f"{path}: {_describe_json_error(exc)}") from exc
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise UserError(f"{path}: broken gzip data ({exc or 'truncated'})") from exc
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror or exc})") from exc


def _describe_json_error(exc: ijson.JSONError) -> str:
    """yajl's multi-line message (first line, then the text near the error) as one line."""
    message = exc.args[0] if exc.args else str(exc)
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    if not lines:
        return "not valid JSON"
    if "invalid bytes in UTF8" in lines[0]:
        return f"not valid UTF-8 text ({lines[0]})"
    near = f" near {lines[1]!r}" if len(lines) > 1 and "(right here)" not in lines[1] else ""
    return f"not valid JSON ({lines[0]}{near})"
