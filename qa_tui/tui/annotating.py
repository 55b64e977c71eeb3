"""Which context an annotation is made on: the context asked about, or in corpus mode the passage of a file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa_tui.annotations import UNTITLED
from qa_tui.errors import UserError
from qa_tui.retrieval.passages import passage_around
from qa_tui.tui.messages import AnnotateRequested, AskRequest


@dataclass(frozen=True)
class AnnotationTarget:
    """The record's title and context, and where that context starts in the text the span offsets point into."""

    title: str
    context: str
    offset: int = 0

    @classmethod
    def for_request(cls, screen: Any, request: AskRequest, message: AnnotateRequested) -> "AnnotationTarget":
        """One context: the text the question was asked about, titled with its file's name.

        Corpus mode: the passage of the file that the span is in (for `u`, the span the cursor is on, else the best
        one), titled with the file; a record then reads like the passages the reader was given.
        """
        if request.corpus is None:
            source = screen.query_one("#context").source
            return cls(Path(source).name if source else UNTITLED, request.context)
        source, start, end = message.source, message.start, message.end
        if start is None or end is None:  # `u` on the no-answer row: the passage of the best span
            spans = [span for span in getattr(screen.query_one("#candidates").answer, "answers", [])]
            if not spans:
                raise UserError("no candidate span says which passage to mark: open one file (ctrl+o) for that")
            source, start, end = spans[0].source, spans[0].start, spans[0].end
        source = source or screen.shown_source
        document = request.corpus.documents.get(source)
        if document is None:
            raise UserError(f"{source} is not in the corpus any more")
        passage_start, passage_end = passage_around(document.passages, start, end)
        return cls(source, document.text[passage_start:passage_end], passage_start)
