"""Which context an annotation is made on: the context asked about, or in corpus mode the passage of a file."""

from __future__ import annotations

import os
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
    def for_request(cls, request: AskRequest, message: AnnotateRequested, *, pane_source: str, pane_text: str,
                    corpus_root: Path | None, best_span: Any) -> "AnnotationTarget":
        """One context: the text the question was asked about, titled with its file's name.

        Corpus mode: the passage of the file that the span is in (for the no-answer row, the best span's), titled
        with the file's path inside the corpus folder, so that a shared file names no one's home folder. A span
        selected in the pane (no `source` on the message) is in the file the pane shows.
        """
        if request.corpus is None:
            return cls(Path(pane_source).name if pane_source else UNTITLED, request.context)
        source, start, end = message.source, message.start, message.end
        from_pane = not source and start is not None
        if start is None or end is None:
            if best_span is None:
                raise UserError("no candidate span says which passage to mark: open one file (ctrl+o) for that")
            source, start, end = best_span.source, best_span.start, best_span.end
        source = source or pane_source
        document = request.corpus.documents.get(source)
        if document is None:
            raise UserError(f"{source} is not in the corpus any more")
        if from_pane and pane_text != document.text:  # the pane rewrote line ends: its offsets are not the file's
            raise UserError("the pane shows this file with other line endings: choose the span in the candidates")
        passage_start, passage_end = passage_around(document.passages, start, end)
        return cls(_inside(source, corpus_root), document.text[passage_start:passage_end], passage_start)


def _inside(source: str, root: Path | None) -> str:
    """`source` relative to the corpus folder (the file itself when the corpus is one file)."""
    if root is None:
        return source
    base = root if root.is_dir() else root.parent
    try:
        return Path(os.path.relpath(source, base)).as_posix()
    except ValueError:  # another drive (Windows)
        return source
