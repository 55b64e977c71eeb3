"""The workbench: a context, a question, the ranked answers, and the chosen one highlighted in the context."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, TextArea
from textual.worker import get_current_worker

from qa_tui.errors import UserError
from qa_tui.tui.messages import (
    AnswerFailed,
    AnswerReady,
    AskRequest,
    CandidateChosen,
    ContextChosen,
    QuestionAsked,
)
from qa_tui.tui.samples import sample_files, sample_title
from qa_tui.tui.state import ModelState, Settings
from qa_tui.tui.widgets import CandidatesTable, ContextPane, QuestionInput, StatusBar

NO_MODEL_HINT = "Load one with ctrl+p → “Model: load…”, or start qa-tui with --model DIR."


class WorkbenchScreen(Screen):
    """Ask questions about a context; model work runs in thread workers, so typing never waits for the model."""

    SUB_TITLE = "workbench"

    BINDINGS = [
        Binding("ctrl+o", "open_file", "Open", tooltip="Open a text file as the context (type a path or browse)"),
        Binding("f2", "samples", "Samples", tooltip="Choose one of the sample contexts"),
        Binding("ctrl+n", "next_sample", "Next sample", show=False, tooltip="Open the next sample context"),
        Binding("ctrl+r", "ask_again", "Ask again", tooltip="Ask the last question again (after editing the context)"),
        Binding("ctrl+l", "focus_question", "Question", show=False, tooltip="Go to the question input"),
        Binding("ctrl+g", "focus_candidates", "Candidates", show=False, tooltip="Go to the candidates table"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._serial = 0  # the newest question's number: answers to older ones are dropped
        self._answered: AskRequest | None = None
        self._pending: str | None = None  # a question asked while the model was loading
        self._last_question: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield ContextPane(
            placeholder="Type or paste a context here, or press ctrl+o to open a file, F2 for the samples.",
            id="context",
        )
        yield QuestionInput(id="question")
        yield CandidatesTable(id="candidates")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "model_state", self._model_state_changed, init=False)
        self.watch(self.app, "settings", self._settings_changed, init=False)
        initial = getattr(self.app, "initial_context", None)
        if initial is not None:
            self.open_context(Path(initial))
        self.query_one(QuestionInput).focus()

    # --- the context ---------------------------------------------------------------------------------------

    def open_context(self, path: Path) -> bool:
        """Load a text file into the context pane; a file that cannot be read becomes an error notification."""
        from qa_tui.inputs import read_context

        try:
            text = read_context(str(path))
        except UserError as exc:
            self.notify(str(exc), title="Cannot open the file", severity="error")
            return False
        except Exception as exc:  # anything else the file system throws: still no crash
            self.notify(f"{path}: {exc}", title="Cannot open the file", severity="error")
            return False
        self.query_one(ContextPane).show_text(text, path.name)
        self.query_one(CandidatesTable).clear_answer()
        self._answered = None
        self.query_one(QuestionInput).focus()
        return True

    @on(ContextChosen)
    def _context_chosen(self, message: ContextChosen) -> None:
        self.open_context(message.path)

    def action_open_file(self) -> None:
        self._open_dialog(focus_shortcuts=False)

    def action_samples(self) -> None:
        self._open_dialog(focus_shortcuts=True)

    def _open_dialog(self, focus_shortcuts: bool) -> None:
        from qa_tui.tui.screens.file_open import FileOpenScreen

        samples = [(sample_title(path), path) for path in sample_files()]
        dialog = FileOpenScreen(
            "Open a context" if not focus_shortcuts else "Sample contexts",
            shortcuts=samples,
            shortcuts_title="Samples",
            focus_shortcuts=focus_shortcuts,
        )
        self.app.push_screen(dialog, self._dialog_closed)

    def _dialog_closed(self, path: Path | None) -> None:
        if path is not None:
            self.open_context(path)

    def action_next_sample(self) -> None:
        samples = sample_files()
        if not samples:
            self.notify("No sample contexts are installed.", severity="warning")
            return
        names = [path.name for path in samples]
        current = self.query_one(ContextPane).source
        following = (names.index(current) + 1) % len(samples) if current in names else 0
        self.open_context(samples[following])

    @on(TextArea.Changed, "#context")
    def _context_edited(self) -> None:
        answered = self._answered
        if answered is not None and self.query_one(ContextPane).text != answered.context:
            self.query_one(CandidatesTable).mark_stale()

    # --- asking ----------------------------------------------------------------------------------------------

    @on(QuestionAsked)
    def _question_asked(self, message: QuestionAsked) -> None:
        self.ask(message.question)

    def action_ask_again(self) -> None:
        if self._last_question is None:
            self.notify("Ask a question first.", severity="warning")
            return
        self.ask(self._last_question)

    def ask(self, question: str) -> None:
        """Answer `question` over the context pane's text in a worker; a newer question supersedes it."""
        self._last_question = question
        context = self.query_one(ContextPane).text
        if not context.strip():
            self.notify("The context is empty: type one, open a file (ctrl+o) or a sample (F2).", severity="warning")
            return
        state: ModelState = self.app.model_state
        engine = self.app.engine
        if state.status == "loading":
            self._pending = question
            self.query_one(StatusBar).busy = "waiting for the model…"
            return
        if engine is None or state.status != "ready":
            why = state.message or "No model is loaded."
            self.notify(f"{why}\n{NO_MODEL_HINT}", title="No model", severity="error")
            return
        self._serial += 1
        request = AskRequest(self._serial, question, context, self.app.settings.top_k)
        self.query_one(StatusBar).busy = "answering…"
        self.query_one(CandidatesTable).loading = True
        self._answer(engine, request)

    @work(thread=True, exclusive=True, group="answer", exit_on_error=False)
    def _answer(self, engine, request: AskRequest) -> None:
        """Runs in a thread: the engine serialises model work, so a stale run just finishes and is ignored."""
        worker = get_current_worker()
        clock = self.app.clock
        started = clock()
        try:
            answer = engine.answer(request.question, request.context, top_k=request.top_k)
        except Exception as exc:  # a UserError (empty input) or a model failure: a notification, not a crash
            if not worker.is_cancelled:
                self.post_message(AnswerFailed(request, str(exc) or type(exc).__name__))
            return
        if not worker.is_cancelled:
            self.post_message(AnswerReady(request, answer, clock() - started))

    @on(AnswerReady)
    def _answer_ready(self, message: AnswerReady) -> None:
        if message.request.serial != self._serial:
            return
        self._answered = message.request
        table = self.query_one(CandidatesTable)
        table.loading = False
        status = self.query_one(StatusBar)
        status.busy = ""
        status.latency = message.latency
        table.show_answer(message.answer, self.app.model_state.null_threshold)
        if self.query_one(ContextPane).text != message.request.context:
            table.mark_stale()

    @on(AnswerFailed)
    def _answer_failed(self, message: AnswerFailed) -> None:
        if message.request.serial != self._serial:
            return
        self.query_one(CandidatesTable).loading = False
        self.query_one(StatusBar).busy = ""
        self.notify(message.error, title="Could not answer", severity="error")

    @on(CandidateChosen)
    def _candidate_chosen(self, message: CandidateChosen) -> None:
        pane = self.query_one(ContextPane)
        if self.query_one(CandidatesTable).stale:
            return
        if message.is_span:
            pane.highlight_span(message.start, message.end)
        else:
            pane.clear_highlight()

    # --- the model and settings ------------------------------------------------------------------------------

    def _model_state_changed(self, state: ModelState) -> None:
        if state.status == "loading":
            return
        question, self._pending = self._pending, None
        self.query_one(StatusBar).busy = ""
        if question is not None:
            self.ask(question)

    def _settings_changed(self, old: Settings, new: Settings) -> None:
        changed = old.top_k != new.top_k or old.null_threshold != new.null_threshold
        if changed and self._answered is not None and self.app.model_state.status == "ready":
            self.ask(self._answered.question)

    def action_focus_question(self) -> None:
        self.query_one(QuestionInput).focus()

    def action_focus_candidates(self) -> None:
        self.query_one(CandidatesTable).focus()
