"""The context pane: an editable text area that shows the chosen answer span as its selection."""

from __future__ import annotations

from textual import events
from textual.widgets import TextArea
from textual.widgets.text_area import Selection

from qa_tui.tui.messages import AnnotateRequested


class ContextPane(TextArea):
    """The context the questions are asked about: type or paste into it, or open a file.

    The highlighted answer is the text area's selection (drawn whether the pane has focus or not), scrolled into
    the middle of the view. Offsets are character offsets into `text`, the string the engine answered over.
    While `annotating` (a fresh answer is shown), `a` over a selection annotates it instead of typing over it.
    """

    BORDER_TITLE = "Context"

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__(text, soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)
        self.source = ""
        self.annotating = False

    async def _on_key(self, event: events.Key) -> None:
        selected = self.highlighted_range
        if event.character == "a" and self.annotating and selected is not None:
            event.stop()
            event.prevent_default()
            self.post_message(AnnotateRequested(*selected))
            return
        await super()._on_key(event)

    def show_text(self, text: str, source: str = "") -> None:
        """Replace the whole context (a file was opened); `source` names it in the border."""
        self.source = source
        self.load_text(text)
        self.border_title = f"Context · {source}" if source else "Context"
        self.scroll_home(animate=False)

    def highlight_span(self, start: int, end: int) -> bool:
        """Select `text[start:end]` and scroll it into view; False when the range is not in the text any more."""
        document = self.document
        try:
            start_location = document.get_location_from_index(start)
            end_location = document.get_location_from_index(end)
        except ValueError:
            return False
        # Anchored at the end with the cursor at the start, so that scrolling to the cursor shows where the span
        # begins; after the refresh, so that soft wrapping has been computed for the new text.
        self.selection = Selection(end_location, start_location)
        self.call_after_refresh(self.scroll_cursor_visible, center=True, animate=False)
        return True

    def clear_highlight(self) -> None:
        """No span chosen (the no-answer row): drop the selection, keep the cursor where it was."""
        self.selection = Selection.cursor(self.selection.end)

    @property
    def highlighted_range(self) -> tuple[int, int] | None:
        """The selection as (start, end) character offsets into `text`, or None when nothing is selected."""
        start, end = sorted(self.selection)
        if start == end:
            return None
        document = self.document
        return document.get_index_from_location(start), document.get_index_from_location(end)
