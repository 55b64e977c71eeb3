"""Annotations: questions the user answered, or marked unanswerable, in the workbench, kept as one SQuAD 2.0 file.

The file is an ordinary `--train-file` and `--data` file, so "correct the model, then train on the corrections"
needs no conversion. One record per (context, question): annotating the same question on the same context again
replaces the earlier record. Every change is written at once, atomically (a temporary file, then a rename), so a
crash loses at most the change being written. A file that is not valid SQuAD JSON, or that qa-tui would change
on its first write (a repaired answer, a question asked twice of one context), is refused when the store opens and
never overwritten: it may be someone's work. Nor is one that another program (a second workbench) wrote after
this store last read or wrote it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from qa_tui.data.squad import QARecord, ValidationReport, read_records, write_squad_v2
from qa_tui.errors import UserError

UNTITLED = "untitled"  # the title of a context that was typed or pasted, not opened from a file
SUFFIXES = (".json", ".json.gz")  # what the store writes is nested SQuAD JSON: a .jsonl name would not read back
KEEP_OUT = "qa-tui leaves it untouched (fix or move it, or give another --annotations FILE)"


def default_annotations_path() -> Path:
    """`annotations.json` in the per-user data folder (e.g. ~/.local/share/qa-tui on Linux)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("qa-tui")) / "annotations.json"


def record_id(context: str, question: str) -> str:
    """A stable id: re-annotating a question on a context keeps its id, and ids never clash across contexts."""
    digest = hashlib.sha1(f"{context}\0{question}".encode("utf-8")).hexdigest()
    return f"qa-tui-{digest[:16]}"


def trim_span(context: str, start: int, end: int) -> tuple[int, int]:
    """The span without the white space a mouse drag picks up at its ends; UserError if nothing is left."""
    if not 0 <= start < end <= len(context):
        raise UserError(f"the span {start}-{end} is not inside the context ({len(context)} characters)")
    while start < end and context[start].isspace():
        start += 1
    while end > start and context[end - 1].isspace():
        end -= 1
    if start == end:
        raise UserError("the selected span is only white space")
    return start, end


class AnnotationStore:
    """The annotations file in memory: add, replace and undo, each change saved before the call returns."""

    def __init__(self, path: Path, records: list[QARecord] | None = None) -> None:
        self.path = path
        self._records: dict[tuple[str, str], QARecord] = {}
        for record in records or []:
            self._records[(record.context, record.question)] = record
        self._undo: list[tuple[tuple[str, str], QARecord | None]] = []  # (key, the record it replaced or None)
        self._seen = _stamp(path)  # the file as this store last read or wrote it

    @classmethod
    def open(cls, path: str | os.PathLike | None = None) -> "AnnotationStore":
        """Read the file at `path` (default: the per-user one); a missing file is an empty store, made on first save.

        Anything that is not a valid SQuAD file, or a record in it that is not valid, raises one UserError that
        names the file and the problem; the file is left as it is.
        """
        path = Path(path).expanduser() if path is not None else default_annotations_path()
        if not path.name.endswith(SUFFIXES):
            raise UserError(f"{path}: an annotations file is SQuAD 2.0 JSON: give a name ending in .json")
        if not path.exists():
            return cls(path)
        report = ValidationReport(str(path))
        try:
            records = list(read_records(path, strict=True, report=report))
        except UserError as exc:
            raise UserError(f"{exc} -- not a SQuAD annotations file; {KEEP_OUT}") from None
        asked_twice = len(records) - len({(record.context, record.question) for record in records})
        if report.repaired or asked_twice:
            what = f"{report.repaired} answers off their offsets" if report.repaired else \
                f"{asked_twice} questions asked twice of one context"
            raise UserError(f"{path}: {what}, which saving would rewrite; {KEEP_OUT}")
        return cls(path, records)

    def __len__(self) -> int:
        return len(self._records)

    @property
    def records(self) -> list[QARecord]:
        return list(self._records.values())

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def find(self, context: str, question: str) -> QARecord | None:
        return self._records.get((context, question))

    def annotate_span(self, title: str, context: str, question: str, start: int, end: int) -> QARecord:
        """`context[start:end]` (trimmed of white space) is the answer to `question`."""
        start, end = trim_span(context, start, end)
        answer = {"text": context[start:end], "answer_start": start}
        return self._put(QARecord(record_id(context, question), title or UNTITLED, context, question, [answer]))

    def annotate_unanswerable(self, title: str, context: str, question: str) -> QARecord:
        """`context` holds no answer to `question`."""
        return self._put(QARecord(record_id(context, question), title or UNTITLED, context, question, []))

    def undo(self) -> QARecord | None:
        """Take back the last change made through this store; returns the record it concerned (None: nothing to undo)."""
        if not self._undo:
            return None
        key, previous = self._undo[-1]
        taken_back = self._records[key]
        before = dict(self._records)
        if previous is None:
            del self._records[key]
        else:
            self._records[key] = previous
        self._save_or_restore(before)  # a failed save keeps the change, and the way to take it back
        self._undo.pop()
        return taken_back

    def _put(self, record: QARecord) -> QARecord:
        if not record.question.strip():
            raise UserError("ask a question before annotating")
        key = (record.context, record.question)
        before = dict(self._records)
        previous = self._records.get(key)
        self._records[key] = record
        self._save_or_restore(before)
        self._undo.append((key, previous))
        return record

    def _save_or_restore(self, before: dict[tuple[str, str], QARecord]) -> None:
        """Write the file; if that fails, memory goes back to what the file still holds."""
        try:
            if _stamp(self.path) != self._seen:
                raise UserError(f"{self.path}: changed by another program since qa-tui read it; not saved "
                                "(restart qa-tui to read it again)")
            self.save()
        except OSError as exc:
            self._records = before
            raise UserError(f"{self.path}: could not save the annotations: {exc.strerror or exc}") from None
        except UserError:
            self._records = before
            raise
        self._seen = _stamp(self.path)

    def save(self) -> None:
        """Write every record, grouped by title and then by context (each group where it first appeared)."""
        titles: dict[str, int] = {}
        contexts: dict[str, int] = {}
        for record in self._records.values():
            titles.setdefault(record.title, len(titles))
            contexts.setdefault(record.context, len(contexts))
        ordered = sorted(self._records.values(), key=lambda r: (titles[r.title], contexts[r.context]))
        write_squad_v2(self.path, ordered)


def _stamp(path: Path) -> tuple[int, int] | None:
    """(modification time, size) of the file, None when there is none: enough to see that someone else wrote it."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size
