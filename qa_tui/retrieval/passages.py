"""Documents into passages: read txt/md (and PDF through `pypdf`), split on paragraph and sentence boundaries.

A passage is an exact slice of its document's text: `document_text[p.start:p.end] == p.text`. Paragraphs (runs of
text between blank lines) that fit in `max_chars` are kept whole, and consecutive short ones share a passage;
longer paragraphs are cut into sentences (and sentences longer than `max_chars` at white space). Inside a long
paragraph consecutive passages overlap by up to `overlap_chars` of whole sentences, so that an answer cut by one
passage's edge is whole in the next; a paragraph boundary is a clean cut (answers do not cross paragraphs).

The defaults are chosen a priori, not tuned on any test set: 1,000 characters is about 200-250 WordPiece tokens,
so a passage fits in one 384-token reader window less a question, and nearly in one 256-token window (the bundled
model's, and MiniLM's input for the dense retriever).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from qa_tui.errors import UserError

MAX_CHARS = 1000
OVERLAP_CHARS = 200

# Files a folder scan reads as text; any file named explicitly is tried as text too.
TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".rst", ""}
PDF_SUFFIXES = {".pdf"}

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
# A sentence ends with . ! or ? (maybe closed by quotes/brackets) before white space and a likely start.
_SENTENCE_END = re.compile(r"[.!?][\"'\u2019\u201d)\]]*(?=\s+[\"'\u2018\u201c(\[]?[A-Z0-9])")


@dataclass(frozen=True)
class Passage:
    """A slice of one document: `text == document_text[start:end]`; `source` names the document (its path)."""

    source: str
    start: int
    end: int
    text: str


class SkipFile(Exception):
    """A file that cannot be indexed (binary, not in the encoding, empty, unreadable PDF): the message says why.

    `lasting` is False when the cause is this installation (no pypdf), not the file: it is not remembered.
    """

    def __init__(self, reason: str, lasting: bool = True):
        super().__init__(reason)
        self.lasting = lasting


def pdf_available() -> bool:
    try:
        import pypdf  # noqa: F401
    except ImportError:
        return False
    return True


def read_document(path: str | Path, encoding: str = "utf-8", data: bytes | None = None) -> str:
    """The text of a txt/md file (decoded) or a PDF (extracted, pages joined by blank lines); SkipFile if none.

    `data`: the file's bytes when the caller has read them already.
    """
    from qa_tui.inputs import decode_text

    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SkipFile(f"cannot read it ({exc.strerror})") from exc
    if path.suffix.lower() in PDF_SUFFIXES or data[:5] == b"%PDF-":
        text = _pdf_text(data)
    else:
        try:
            text = decode_text(data, str(path), encoding)
        except UserError as exc:
            # decode_text says "<path>: <why>"; keep the why.
            raise SkipFile(str(exc).removeprefix(f"{path}: ")) from exc
    if not text.strip():
        raise SkipFile("no text in it")
    return text


def _pdf_text(data: bytes) -> str:
    import io

    try:
        from pypdf import PdfReader
    except ImportError as exc:
        raise SkipFile("a PDF, and pypdf is not installed (pip install 'qa-tui[pdf]')", lasting=False) from exc
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise SkipFile("an encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
    except SkipFile:
        raise
    except Exception as exc:  # pypdf raises many types for a damaged file
        raise SkipFile(f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise SkipFile("a PDF with no extractable text (scanned images?)")
    return text


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph: text between blank lines, without its surrounding white space."""
    spans = []
    position = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, len(text)))
    return [stripped for start, end in spans if (stripped := _strip(text, start, end)) is not None]


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text[start:end]`, in `text`'s offsets."""
    spans = []
    position = start
    for match in _SENTENCE_END.finditer(text, start, end):
        spans.append((position, match.end()))
        position = match.end()
    spans.append((position, end))
    return [stripped for s, e in spans if (stripped := _strip(text, s, e)) is not None]


def _strip(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span without leading/trailing white space, or None when it is all white space."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _cut_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut a span longer than `max_chars` at the last white space before each limit (hard cut if there is none)."""
    pieces = []
    while end - start > max_chars:
        limit = start + max_chars
        cut = max((text.rfind(ws, start + 1, limit + 1) for ws in (" ", "\n", "\t")), default=-1)
        if cut <= start:
            cut = limit
        piece = _strip(text, start, cut)
        if piece:
            pieces.append(piece)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def _units(text: str, max_chars: int) -> list[tuple[int, int, int]]:
    """(start, end, paragraph number) of the pieces passages are built from: short paragraphs, or sentences."""
    units = []
    for number, (p_start, p_end) in enumerate(paragraph_spans(text)):
        if p_end - p_start <= max_chars:
            units.append((p_start, p_end, number))
            continue
        for s_start, s_end in sentence_spans(text, p_start, p_end):
            units.extend((a, b, number) for a, b in _cut_long(text, s_start, s_end, max_chars))
    return units


def split_passages(
    text: str, source: str = "", max_chars: int = MAX_CHARS, overlap_chars: int = OVERLAP_CHARS
) -> list[Passage]:
    """Overlapping passages of at most `max_chars` characters covering every paragraph of `text` (see module doc)."""
    if max_chars < 1 or overlap_chars < 0:
        raise ValueError("max_chars must be at least 1 and overlap_chars at least 0")
    passages: list[Passage] = []
    current: list[tuple[int, int, int]] = []

    def emit() -> None:
        start, end = current[0][0], current[-1][1]
        passages.append(Passage(source=source, start=start, end=end, text=text[start:end]))

    for unit in _units(text, max_chars):
        if current and unit[1] - current[0][0] > max_chars:
            emit()
            carried: list[tuple[int, int, int]] = []
            if unit[2] == current[-1][2]:  # the same paragraph goes on: carry its last sentences over
                for previous in reversed(current[1:]):
                    if previous[2] != unit[2] or current[-1][1] - previous[0] > overlap_chars:
                        break
                    if unit[1] - previous[0] > max_chars:
                        break
                    carried.insert(0, previous)
            current = carried
        current.append(unit)
    if current:
        emit()
    return passages


def passage_around(passages: Sequence[Passage], start: int, end: int) -> tuple[int, int]:
    """Where the passage holding the span `start`-`end` of a document begins and ends (document offsets).

    The first passage that holds the whole span; a span that crosses passages gets all the passages it overlaps,
    joined. Annotations in corpus mode keep this passage as their context: a paragraph-sized context around the span,
    as a SQuAD record has (with the "whole" retriever the reader saw the whole file; the record still keeps one
    passage, so that it trains as SQuAD data does).
    """
    for passage in passages:
        if passage.start <= start and end <= passage.end:
            return passage.start, passage.end
    overlapping = [p for p in passages if p.start < end and start < p.end]
    if not overlapping:
        raise ValueError(f"no passage overlaps {start}-{end}")
    return min(p.start for p in overlapping), max(p.end for p in overlapping)
