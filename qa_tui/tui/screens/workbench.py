"""The workbench: a context, a question, the ranked answers, and the chosen one highlighted in the context."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, TextArea
from textual.worker import get_current_worker

from qa_tui.errors import UserError
from qa_tui.tui.annotating import AnnotationTarget
from qa_tui.tui.messages import (
    AnnotateRequested,
    AnswerFailed,
    AnswerReady,
    AskRequest,
    CandidateChosen,
    ContextChosen,
    CorpusChosen,
    CorpusFailed,
    CorpusReady,
    QuestionAsked,
)
from qa_tui.tui.samples import sample_files, sample_title
from qa_tui.tui.state import ModelState, Settings, annotation_label
from qa_tui.tui.widgets import CandidatesTable, ContextPane, QuestionInput, StatusBar

NO_MODEL_HINT = "Load one with ctrl+p → “Model: load…”, or start qa-tui with --model DIR."


class WorkbenchScreen(Screen):
    """Ask questions about a context; model work runs in thread workers, so typing never waits for the model."""

    SUB_TITLE = "workbench"

    BINDINGS = [
        Binding("ctrl+o", "open_file", "Open", tooltip="Open a text file as the context (type a path or browse)"),
        Binding("f2", "samples", "Samples", tooltip="Choose one of the sample contexts"),
        Binding("ctrl+n", "next_sample", "Next sample", show=False, tooltip="Open the next sample context"),
        Binding("f3", "open_corpus", "Corpus", show=False,
                tooltip="Open a folder as a corpus: ask all its files at once (ctrl+o or F2 goes back to one file)"),
        Binding("ctrl+r", "ask_again", "Ask again", tooltip="Ask the last question again (after editing the context)"),
        Binding("ctrl+l", "focus_question", "Question", show=False, tooltip="Go to the question input"),
        Binding("ctrl+g", "focus_candidates", "Candidates", show=False, tooltip="Go to the candidates table"),
        Binding("ctrl+z", "undo_annotation", "Undo", tooltip="Take back the last annotation (a, u)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._serial = 0  # the newest question's number: answers to older ones are dropped
        self._answered: AskRequest | None = None
        self._pending: str | None = None  # a question asked while the model was loading
        self._last_question: str | None = None
        self.corpus = None  # corpus mode: the CorpusIndex asked instead of the context pane
        self.corpus_path: Path | None = None
        self._corpus_serial = 0  # the newest folder opened: an older indexing run that finishes late is dropped
        self.shown_source = ""  # corpus mode: the file the context pane shows

    def compose(self) -> ComposeResult:
        yield Header()
        yield ContextPane(
            placeholder="Type or paste a context here, or press ctrl+o to open a file, F2 for the samples.",
            id="context",
        )
        yield QuestionInput(id="question")
        with Horizontal(id="answers"):
            yield CandidatesTable(id="candidates")
            yield CandidatesTable(id="compare-candidates")  # shown in compare mode only
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "model_state", self._model_state_changed, init=False)
        self.watch(self.app, "settings", self._settings_changed, init=False)
        self.watch(self.app, "compare_state", self._compare_state_changed, init=False)
        initial = getattr(self.app, "initial_context", None)
        if initial is not None:
            self.open_context(Path(initial))
        self._show_annotation_count()
        question = self.query_one(QuestionInput)
        for table in self.query(CandidatesTable):
            table.typing_target = question  # a key typed there begins a new question
        question.focus()

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
        self.leave_corpus(quiet=True)
        self.query_one(ContextPane).show_text(text, path.name)
        for table in self.query(CandidatesTable):
            table.clear_answer()
        self._set_answered(None)
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
        if self.corpus is not None or (answered is not None and answered.corpus is not None):
            return  # corpus mode: the pane shows (read-only) the file of the chosen answer
        if answered is not None and self.query_one(ContextPane).text != answered.context:
            for table in self.query(CandidatesTable):
                table.mark_stale()
            self.query_one(ContextPane).annotating = False

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
        context = self.query_one(ContextPane).text if self.corpus is None else ""
        if self.corpus is None and not context.strip():
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
        settings: Settings = self.app.settings
        request = AskRequest(self._serial, question, context, settings.top_k, corpus=self.corpus,
                             retriever=settings.retriever, passages=settings.passages,
                             compare=self.app.compare_engine)
        self.query_one(StatusBar).busy = "searching and reading…" if self.corpus is not None else "answering…"
        for table in self.query(CandidatesTable):
            table.loading = True
        self._answer(engine, request)

    @work(thread=True, exclusive=True, group="answer", exit_on_error=False)
    def _answer(self, engine, request: AskRequest) -> None:
        """Runs in a thread: the engine serialises model work, so a stale run just finishes and is ignored."""
        worker = get_current_worker()
        clock = self.app.clock
        started = clock()
        try:
            answer = self._ask_engine(engine, request)
        except Exception as exc:  # a UserError (empty input) or a model failure: a notification, not a crash
            if not worker.is_cancelled:
                self.post_message(AnswerFailed(request, str(exc) or type(exc).__name__))
            return
        latency = clock() - started  # the first model's: the one the status bar names
        compare_answer = None
        if request.compare is not None:
            try:
                compare_answer = self._ask_engine(request.compare, request)
            except Exception as exc:  # the first model's answer is still shown
                self.notify(str(exc) or type(exc).__name__, title="The compared model could not answer",
                            severity="error")
        if not worker.is_cancelled:
            self.post_message(AnswerReady(request, answer, latency, compare_answer))

    @staticmethod
    def _ask_engine(engine, request: AskRequest):
        if request.corpus is not None:
            from qa_tui.retrieval import CorpusReader

            reader = CorpusReader(engine, request.corpus, retriever=request.retriever)
            return reader.answer(request.question, k=request.passages, top_k=request.top_k)
        return engine.answer(request.question, request.context, top_k=request.top_k)

    @on(AnswerReady)
    def _answer_ready(self, message: AnswerReady) -> None:
        if message.request.serial != self._serial:
            return
        self._set_answered(message.request)
        for table in self.query(CandidatesTable):
            table.loading = False
        table = self.query_one("#candidates", CandidatesTable)
        status = self.query_one(StatusBar)
        status.busy = ""
        status.latency = message.latency
        comparing = message.compare_answer is not None and message.request.compare is self.app.compare_engine
        if comparing:
            self._show_both(message.answer, message.compare_answer)
        else:  # also an answer asked before compare mode ended, or with a compared model since replaced
            table.show_answer(message.answer, self.app.model_state.null_threshold)
        if message.request.corpus is None and self.query_one(ContextPane).text != message.request.context:
            table.mark_stale()
            self.query_one(ContextPane).annotating = False
        focused = self.app.focused
        if isinstance(focused, QuestionInput) and focused.value == message.request.question:
            table.focus()  # the answer's turn: choose, annotate (a, u), or type on; not while a next one is typed

    @on(AnswerFailed)
    def _answer_failed(self, message: AnswerFailed) -> None:
        if message.request.serial != self._serial:
            return
        for table in self.query(CandidatesTable):
            table.loading = False
        self.query_one(StatusBar).busy = ""
        self.notify(message.error, title="Could not answer", severity="error")

    @on(CandidateChosen)
    def _candidate_chosen(self, message: CandidateChosen) -> None:
        pane = self.query_one(ContextPane)
        if self.query_one(CandidatesTable).stale:
            return
        if message.source and self.corpus is not None:
            self._show_document(message.source)
        if message.is_span:
            pane.highlight_span(message.start, message.end)
        else:
            pane.clear_highlight()

    # --- compare mode: a second model's answers beside the first's ---------------------------------------------

    def _compare_state_changed(self, state: ModelState) -> None:
        comparing = state.status == "ready"
        self.query_one("#answers").set_class(comparing, "comparing")
        for table in self.query(CandidatesTable):
            table.set_compact(comparing)
        if not comparing:
            self.query_one("#compare-candidates", CandidatesTable).clear_answer()
        if state.status in ("ready", "none") and self._answered is not None:
            self.ask(self._answered.question)  # show the question asked with (or without) the second model

    def _show_both(self, answer, compare_answer) -> None:
        """Both models' candidates; "=" marks the spans both list, the titles say whether their verdicts agree."""
        from qa_tui.comparison import same_verdict, shared_spans
        from qa_tui.tui.widgets.candidates import one_line

        def title(label: str, model_answer) -> str:
            verdict = "no answer" if model_answer.is_impossible else f"“{one_line(model_answer.best_text, 24)}”"
            return f"{label} · {verdict}"

        shared = shared_spans(answer, compare_answer)
        both_abstain = answer.is_impossible and compare_answer.is_impossible
        agree = "agree" if same_verdict(answer, compare_answer) else "differ"
        compare_table = self.query_one("#compare-candidates", CandidatesTable)
        compare_table.show_answer(compare_answer, agreed=shared, agreed_no_answer=both_abstain, post=False,
                                  title=title(self.app.compare_state.label, compare_answer))
        compare_table.border_subtitle = f"models {agree}"
        self.query_one("#candidates", CandidatesTable).show_answer(
            answer, agreed=shared, agreed_no_answer=both_abstain, title=title(self.app.model_state.label, answer)
        )

    # --- corpus mode: a folder of files asked at once ---------------------------------------------------------

    def action_open_corpus(self) -> None:
        from qa_tui.tui.screens.file_open import FileOpenScreen

        dialog = FileOpenScreen("Open a folder as a corpus", directories=True)
        self.app.push_screen(dialog, self._corpus_dialog_closed)

    def _corpus_dialog_closed(self, path: Path | None) -> None:
        if path is not None:
            self.open_corpus(path)

    @on(CorpusChosen)
    def _corpus_chosen(self, message: CorpusChosen) -> None:
        self.open_corpus(message.path)

    def open_corpus(self, path: Path) -> None:
        """Index the folder `path` in a worker (slow the first time); `CorpusReady` switches to corpus mode."""
        self._corpus_serial += 1
        settings: Settings = self.app.settings
        # "whole" reads documents without searching them: the BM25 index (cheap) is all it needs opened.
        retriever = settings.retriever if settings.retriever in ("bm25", "dense", "hybrid") else "bm25"
        self.query_one(StatusBar).busy = f"indexing {path.name or path}…"
        self._index_corpus(self._corpus_serial, path, retriever, settings.index_dir, settings.device)

    @work(thread=True, exclusive=True, group="corpus", exit_on_error=False)
    def _index_corpus(self, serial: int, path: Path, retriever: str, index_dir: str | None, device: str) -> None:
        """Runs in a thread: opens (builds or refreshes) the cached index; any failure becomes `CorpusFailed`."""
        from qa_tui.retrieval import CorpusIndex

        notes: list[str] = []
        try:
            index = CorpusIndex.open([path], index_dir, retriever=retriever, device=device, note=notes.append)
        except UserError as exc:
            self.post_message(CorpusFailed(serial, path, str(exc)))
        except Exception as exc:  # the file system, the embedding model: still no crash
            self.post_message(CorpusFailed(serial, path, f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(CorpusReady(serial, path, index, notes))

    @on(CorpusReady)
    def _corpus_ready(self, message: CorpusReady) -> None:
        if message.serial != self._corpus_serial:
            return
        index = message.index
        self.corpus, self.corpus_path = index, message.path
        self._serial += 1  # an answer still coming for the single context is dropped
        self._set_answered(None)
        self.shown_source = ""
        files = len(index.documents)
        for table in self.query(CandidatesTable):
            table.loading = False
            table.set_show_sources(True)
        pane = self.query_one(ContextPane)
        pane.read_only = True
        pane.add_class("corpus")
        pane.show_text("")
        pane.border_title = f"Context · corpus {self._corpus_name()}: ask a question, choose an answer to see its file"
        status = self.query_one(StatusBar)
        status.busy = ""
        status.corpus = f"corpus: {files} file{'s' if files != 1 else ''}"
        skipped = len(index.skipped)
        detail = f", {skipped} skipped" if skipped else ""
        self.notify(f"{files} file{'s' if files != 1 else ''} indexed{detail}. Ask a question: answers come from all "
                    f"of them. ctrl+o opens one file again.", title=f"Corpus ready: {message.path.name}")
        for note in message.notes:
            self.notify(note, title="Corpus index", severity="warning")
        self.query_one(QuestionInput).focus()

    @on(CorpusFailed)
    def _corpus_failed(self, message: CorpusFailed) -> None:
        if message.serial != self._corpus_serial:
            return
        self.query_one(StatusBar).busy = ""
        self.notify(message.error, title="Cannot open the folder as a corpus", severity="error")

    def _show_document(self, source: str) -> None:
        """Corpus mode: put the file `source` in the context pane (the text the answer offsets point into)."""
        if source == self.shown_source:
            return
        try:
            text = self.corpus.document_text(source)
        except KeyError:
            self.notify(f"{source} is not in the corpus any more.", severity="warning")
            return
        self.shown_source = source
        pane = self.query_one(ContextPane)
        pane.show_text(text, Path(source).name)
        pane.border_title = f"Context · {pane.source} · corpus {self._corpus_name()}"

    def _corpus_name(self) -> str:
        path = self.corpus_path
        return "" if path is None else (path.name or str(path))

    def leave_corpus(self, quiet: bool = False) -> None:
        """Back to one context (opening a file does it too); the pane keeps the file it shows, editable again."""
        self._corpus_serial += 1  # an indexing run still going is dropped when it ends
        if self.corpus is None:
            return
        self.corpus = self.corpus_path = None
        self.shown_source = ""
        self._serial += 1
        self._set_answered(None)
        pane = self.query_one(ContextPane)
        pane.read_only = False
        pane.remove_class("corpus")
        pane.border_title = f"Context · {pane.source}" if pane.source else "Context"
        for table in self.query(CandidatesTable):
            table.loading = False
            table.set_show_sources(False)
        status = self.query_one(StatusBar)
        status.corpus = ""
        status.busy = ""
        if not quiet:
            self.notify("Back to one context: questions are asked about the context pane.", title="Corpus closed")

    # --- annotating: the answered question's answer (a), or none (u), saved to the annotations file ------------

    def _set_answered(self, request: AskRequest | None) -> None:
        """The question whose answer is shown (None: none); only a fresh answer can be annotated."""
        self._answered = request
        self.query_one(ContextPane).annotating = request is not None and self.app.annotations is not None

    def _show_annotation_count(self) -> None:
        store = self.app.annotations
        self.query_one(StatusBar).annotated = "" if store is None else annotation_label(len(store), store.path)
        self.refresh_bindings()  # ctrl+z shows in the footer while there is something to take back

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "undo_annotation":
            store = self.app.annotations
            return store is not None and store.can_undo
        return True

    @on(AnnotateRequested)
    def _annotate(self, message: AnnotateRequested) -> None:
        store = self.app.annotations
        if store is None:
            self.notify("No annotations file is open.", severity="warning")
            return
        answered = self._answered
        table = self.query_one("#candidates", CandidatesTable)
        if answered is None or table.stale or answered.serial != self._serial:
            self.notify("Annotate a question once its answer is shown (after an edit: ctrl+r asks again).",
                        severity="warning")
            return
        pane = self.query_one(ContextPane)
        answer = table.answer
        try:
            target = AnnotationTarget.for_request(
                answered, message, pane_source=self.shown_source if self.corpus is not None else pane.source,
                pane_text=pane.text, corpus_root=self.corpus_path,
                best_span=answer.answers[0] if answer is not None and answer.answers else None,
            )
            if message.unanswerable:
                record = store.annotate_unanswerable(target.title, target.context, answered.question)
            else:
                record = store.annotate_span(target.title, target.context, answered.question,
                                             message.start - target.offset, message.end - target.offset)
        except UserError as exc:
            self.notify(str(exc), title="Not annotated", severity="error")
            return
        self._show_annotation_count()
        if self.app.focused is pane:  # the pane's own ctrl+z undoes text: the candidates' takes this back
            table.focus()
        what = "no answer" if record.is_impossible else f"“{record.answers[0]['text'][:60]}”"
        self.notify(f"{answered.question}\n→ {what} in {record.title} (ctrl+z takes it back)",
                    title=f"Annotated · {len(store)}", timeout=3)

    def action_undo_annotation(self) -> None:
        """Only offered (check_action) while the store has a change to take back."""
        store = self.app.annotations
        try:
            record = store.undo()
        except UserError as exc:
            self.notify(str(exc), title="Not undone", severity="error")
            return
        self._show_annotation_count()
        self.notify(record.question, title=f"Annotation taken back · {len(store)}", timeout=3)

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
        if self.corpus is not None:
            changed = changed or old.retriever != new.retriever or old.passages != new.passages
        if changed and self._answered is not None and self.app.model_state.status == "ready":
            self.ask(self._answered.question)

    def action_focus_question(self) -> None:
        self.query_one(QuestionInput).focus()

    def action_focus_candidates(self) -> None:
        self.query_one(CandidatesTable).focus()
