"""The ranked candidates: one row per answer span, and the no-answer row, first when it wins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widgets import DataTable

from qa_tui.comparison import span_key
from qa_tui.tui.messages import AnnotateRequested, CandidateChosen

NO_ANSWER_KEY = "no-answer"
# Widths of the fixed columns (rank, score, probability, characters); the span text gets what is left.
FIXED_COLUMNS = (("#", "rank", 3), ("Score", "score", 7), ("Prob", "prob", 6), ("Chars", "chars", 13))
COMPACT_COLUMNS = (("#", "rank", 4), ("Score", "score", 7))  # two models side by side: room for the "=" mark
MIN_TEXT_WIDTH = 16
SOURCE_COLUMN = ("Source", "source", 14)  # corpus mode only: the file each span comes from
AGREES = "="  # after the rank: the other model lists this span too (or says "no answer" too)


def one_line(text: str, width: int) -> str:
    """A span as one line of at most `width` characters (newlines and runs of spaces folded)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


class CandidatesTable(DataTable):
    """Rank, span text, score, probability and character range of each candidate.

    The reader's verdict is the first row, marked ▶: the best span, or the no-answer row when its score beats the
    best span's by more than the no-answer threshold. Moving the cursor posts `CandidateChosen`.
    With `show_sources` (corpus mode) a Source column names each span's file, and `CandidateChosen` carries it.
    `a` and `u` annotate the question (`AnnotateRequested`); any other printable key starts a new question in
    `typing_target` (the question input, which the screen sets).
    Comparing two models, each has a `compact` table (no Prob and Chars columns) and `agreed` holds the spans
    (`comparison.span_key`) that the other model lists too: their rank is marked with "=".
    """

    BORDER_TITLE = "Candidates"
    BINDINGS = [
        Binding("a", "accept", "Accept", tooltip="Annotate: the chosen candidate is the answer (∅: no answer)"),
        Binding("u", "unanswerable", "No answer", tooltip="Annotate: this context does not answer the question"),
        Binding("c", "copy", "Copy span", show=False, tooltip="Copy the span's text (OSC 52: works over SSH)"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._spans: dict[str, tuple[int, int, str] | None] = {}
        self._sources: dict[str, str] = {}
        self.show_sources = False
        self.compact = False
        self.typing_target: Any = None  # the input that keys typed here go to (a QuestionInput)
        self._typing = False  # a new question is being typed from here: every printable key goes to it
        self.agreed: set = set()
        self.agreed_no_answer = False
        self.answer: Any = None
        self.stale = False
        self._text_width = MIN_TEXT_WIDTH

    def on_mount(self) -> None:
        self._add_columns()

    def _fixed_columns(self) -> tuple[tuple[str, str, int], ...]:
        return (COMPACT_COLUMNS if self.compact else FIXED_COLUMNS) + ((SOURCE_COLUMN,) if self.show_sources else ())

    def _fit_text_width(self) -> int:
        """The span column's width: what the fixed columns, cell padding and a scrollbar leave."""
        columns = self._fixed_columns()
        fixed = sum(width for _, _, width in columns)
        padding = 2 * self.cell_padding * (len(columns) + 1)
        return max(MIN_TEXT_WIDTH, self.scrollable_content_region.width - fixed - padding - 2)

    def _add_columns(self) -> None:
        (rank, rank_key, rank_width), *numbers = self._fixed_columns()
        self.add_column(rank, key=rank_key, width=rank_width)
        self.add_column("Answer", key="text", width=self._text_width)
        for label, key, width in numbers:
            self.add_column(label, key=key, width=width)

    def set_compact(self, compact: bool) -> None:
        """Side by side with another model's table (or back to one table): fewer columns, agreement marks."""
        if compact == self.compact:
            return
        self.compact = compact
        self.agreed, self.agreed_no_answer = set(), False
        self._rebuild_columns(force=True)

    def set_show_sources(self, show: bool) -> None:
        """Corpus mode on or off: add or drop the Source column (and forget the answer shown)."""
        if show == self.show_sources:
            return
        self.show_sources = show
        self.clear_answer()
        self._rebuild_columns(force=True)

    def on_resize(self) -> None:
        self._rebuild_columns()

    def _rebuild_columns(self, force: bool = False) -> None:
        width = self._fit_text_width()
        if width == self._text_width and not force:
            return
        self._text_width = width
        row = self.cursor_row
        self.clear(columns=True)
        self._add_columns()
        if self.answer is not None:
            self._fill(self.answer)
            self.move_cursor(row=row, animate=False)

    def show_answer(self, answer: Any, null_threshold: float | None = None, agreed: set | None = None,
                    agreed_no_answer: bool = False, title: str | None = None, post: bool = True) -> None:
        """Fill the table from an `Answer` and put the cursor on the verdict (posting `CandidateChosen`).

        Compare mode: `agreed` / `agreed_no_answer` are what the other model shares, `title` replaces the verdict's,
        and the second model's table does not `post` (the first one's verdict is the one highlighted).
        """
        self.answer = answer
        self.agreed, self.agreed_no_answer = agreed or set(), agreed_no_answer
        self.stale = False
        self._fill(answer)
        self.border_title = title or self._title(answer, null_threshold)
        self.border_subtitle = ""
        self.move_cursor(row=0, animate=False)
        if post:
            self._post_chosen(0)

    def _fill(self, answer: Any) -> None:
        self.clear()
        self._spans.clear()
        self._sources.clear()
        no_answer_row = self._no_answer_row(answer)
        if answer.is_impossible:
            self._add(NO_ANSWER_KEY, no_answer_row, None)
        for rank, span in enumerate(answer.answers, start=1):
            verdict = rank == 1 and not answer.is_impossible
            mark = self._mark(span_key(span) in self.agreed)
            source = getattr(span, "source", "")
            cells = {
                "rank": Text(f"{'▶' if verdict else ' '}{rank}{mark}", style="bold" if verdict else ""),
                "text": Text(one_line(span.text, self._text_width), style="bold" if verdict else ""),
                "score": Text(f"{span.score:.2f}", justify="right"),
                "prob": Text(f"{span.probability:.1%}", justify="right"),
                "chars": Text(f"{span.start}-{span.end}", justify="right"),
                "source": Text(one_line(Path(source).name, SOURCE_COLUMN[2]), style="italic"),
            }
            self._sources[f"span-{rank}"] = source
            self._add(f"span-{rank}", self._row(cells), (span.start, span.end, span.text))
        if not answer.is_impossible:
            self._add(NO_ANSWER_KEY, no_answer_row, None)

    def _no_answer_row(self, answer: Any) -> tuple[Text, ...]:
        wins = answer.is_impossible
        style = "bold italic" if wins else "italic dim"
        mark = self._mark(self.agreed_no_answer)
        return self._row({
            "rank": Text(f"{'▶' if wins else ' '}∅{mark}", style=style),
            "text": Text("(no answer)" + ("  ◀ wins" if wins else ""), style=style),
            "score": Text(f"{answer.no_answer.score:.2f}", justify="right", style=style),
            "prob": Text(f"{answer.no_answer.probability:.1%}", justify="right", style=style),
            "chars": Text("-", justify="right", style=style),
            "source": Text(""),
        })

    def _mark(self, agreed: bool) -> str:
        """The agreement mark after a rank: only when comparing two models."""
        if not self.compact:
            return ""
        return AGREES if agreed else " "

    def _row(self, cells: dict[str, Text]) -> tuple[Text, ...]:
        """The cells of the columns shown, in their order (rank, text, then the fixed ones)."""
        (_, rank_key, _), *numbers = self._fixed_columns()
        return (cells[rank_key], cells["text"], *(cells[key] for _, key, _ in numbers))

    @staticmethod
    def _title(answer: Any, null_threshold: float | None) -> str:
        if answer.is_impossible:
            verdict = "no answer"
        else:
            verdict = f"“{one_line(answer.answers[0].text, 40)}”"
        threshold = "" if null_threshold is None else f" (threshold {null_threshold:g})"
        return f"Candidates · {verdict}{threshold}"

    def _add(self, key: str, cells: tuple, span: tuple[int, int, str] | None) -> None:
        self._spans[key] = span
        self.add_row(*cells, key=key)

    def mark_stale(self) -> None:
        """The context changed after this answer: its character ranges no longer point at the spans."""
        if self.answer is not None and not self.stale:
            self.stale = True
            self.border_subtitle = "context edited: ask again (ctrl+r)"

    def clear_answer(self) -> None:
        self.clear()
        self._spans.clear()
        self._sources.clear()
        self.answer = None
        self.stale = False
        self.border_title = "Candidates"
        self.border_subtitle = ""

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._post_chosen(event.cursor_row)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self._post_chosen(event.cursor_row)

    def _post_chosen(self, row: int) -> None:
        span = self.span_at(row)
        if span is None:
            self.post_message(CandidateChosen(None, None))
        else:
            self.post_message(CandidateChosen(*span, source=self.source_at(row)))

    def source_at(self, row: int) -> str:
        """The file of the span on `row` (corpus mode); "" for the no-answer row or a single context."""
        if not 0 <= row < self.row_count:
            return ""
        return self._sources.get(self.coordinate_to_cell_key((row, 0)).row_key.value, "")

    def span_at(self, row: int) -> tuple[int, int, str] | None:
        """(start, end, text) of the span on `row`; None for the no-answer row or an empty table."""
        if not 0 <= row < self.row_count:
            return None
        key = self.coordinate_to_cell_key((row, 0)).row_key.value
        return self._spans.get(key)

    def on_key(self, event: events.Key) -> None:
        """Printable keys that are no binding here (a, u, c, ? ...) begin a new question; then every key goes to it.

        Keys are handed over here, in the order they come, and the focus moves only after the keys already queued
        for this table (a fast typist's, or tmux's) have been handed over too, so none is lost or reordered and
        no `a` in the new question annotates the old one.
        """
        target = self.typing_target
        if target is None or not event.is_printable or not event.character:
            return
        if not self._typing and event.key in self.screen.active_bindings:
            return
        event.stop()
        event.prevent_default()
        target.type_ahead(event.character, first=not self._typing)
        if not self._typing:
            self._typing = True
            self.call_later(self._hand_over_focus)

    def _hand_over_focus(self) -> None:
        self.screen.set_focus(self.typing_target)

    def on_focus(self) -> None:
        self._typing = False

    def action_accept(self) -> None:
        if self.answer is None:
            self.app.bell()
            return
        span = self.span_at(self.cursor_row)
        if span is None:
            self.post_message(AnnotateRequested(unanswerable=True))
        else:
            self.post_message(AnnotateRequested(span[0], span[1], source=self.source_at(self.cursor_row)))

    def action_unanswerable(self) -> None:
        if self.answer is None:
            self.app.bell()
            return
        span = self.span_at(self.cursor_row)  # in corpus mode its passage is the context marked
        start, end = (span[0], span[1]) if span is not None else (None, None)
        self.post_message(AnnotateRequested(start, end, source=self.source_at(self.cursor_row), unanswerable=True))

    def action_copy(self) -> None:
        span = self.span_at(self.cursor_row)
        if span is not None:
            self.app.copy_to_clipboard(span[2])
            self.notify(f"Copied “{one_line(span[2], 40)}”", timeout=2)
