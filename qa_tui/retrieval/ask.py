"""`qa-tui ask --docs`: answer a question from a folder or files, printing a table or JSON (with `source`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from qa_tui.engine import Answer, QAEngine, precision_label
from qa_tui.errors import UserError
from qa_tui.loading import quiet_transformers
from qa_tui.retrieval.index import RETRIEVERS, CorpusIndex, IndexSettings
from qa_tui.retrieval.reader import WHOLE, CorpusReader

AUTO = "auto"
CHOICES = (AUTO, *RETRIEVERS, WHOLE)
# `auto` is hybrid retrieval, for a folder and for one long paper alike. For one paper the alternative is to read
# it whole in model windows, which can reach every answer (only 88.5% of COVID-QA's answers lie in the top 5 hybrid
# passages of their paper). The rule set before measuring: retrieval becomes the one-paper default if it comes
# within a point of reading whole. On all 1,380 COVID-QA questions with bundled model v3 it scored higher (F1 30.6
# against 27.4) in an eighth of the time; see the README, "Retrieval". `--retriever whole` still reads whole.
AUTO_RETRIEVER = "hybrid"


def choose_retriever(requested: str) -> str:
    """The retriever to use: the one asked for, `auto` being hybrid."""
    if requested not in CHOICES:
        raise UserError(f"--retriever {requested}: expected one of {', '.join(CHOICES)}")
    return AUTO_RETRIEVER if requested == AUTO else requested


def display_path(source: str) -> str:
    """A source as the user would type it: relative to the working folder when inside it."""
    try:
        return os.path.relpath(source) if Path(source).is_relative_to(Path.cwd()) else source
    except ValueError:  # another drive (Windows)
        return source


def ask_docs(
    docs: Sequence[str],
    question: str | None,
    *,
    load_engine: Callable[[], QAEngine],
    passages: int = 5,
    retriever: str = AUTO,
    index_dir: str | None = None,
    top_k: int = 5,
    encoding: str = "utf-8",
    device: str = "auto",
    verbose: bool = False,
    as_json: bool = False,
    err_console: Console,
) -> None:
    """Index `docs` (cached), retrieve `passages` passages, read them, print the merged answer."""
    from qa_tui.ask import answer_record, stdout_json

    if question is None or not question.strip():
        raise UserError("--docs needs a non-empty --question")
    if passages < 1:
        raise UserError("--passages must be at least 1")

    quiet_transformers()  # sentence-transformers loads through transformers too

    def note(message: str) -> None:
        err_console.print(f"note: {message}", style="yellow", highlight=False, soft_wrap=True)

    chosen = choose_retriever(retriever)
    engine = load_engine()  # before the index: a bad model or window setting fails in seconds, not after indexing
    needs_vectors = chosen in ("dense", "hybrid")  # `bm25` and `whole` need none
    with _progress(err_console) as progress:
        index = CorpusIndex.open(
            docs,
            index_dir,
            retriever="hybrid" if needs_vectors else "bm25",
            settings=IndexSettings(encoding=encoding),
            device=device,
            note=note,
            progress=progress,
        )
    _report_index(index, verbose, err_console)
    reader = CorpusReader(engine, index, chosen)
    answer = reader.answer(question, k=passages, top_k=top_k)
    answer.extra["skipped"] = len(index.skipped)
    if as_json:
        stdout_json(answer_record(answer, engine))
    else:
        render_corpus_answer(answer, engine, Console(), verbose)


def _report_index(index: CorpusIndex, verbose: bool, err_console: Console) -> None:
    report = index.report
    changes = [f"re-indexed {report.changed} changed file(s)"] if report.changed else []
    changes += [f"dropped {report.removed} removed file(s)"] if report.removed else []
    if changes:
        err_console.print(f"note: {', '.join(changes)}", style="yellow", highlight=False)
    if report.skipped:
        how = ":" if verbose else " (--verbose names them)"
        err_console.print(
            f"skipped {len(report.skipped)} of {report.files} file(s){how}",
            style="yellow",
            highlight=False,
        )
        if verbose:
            for skipped in report.skipped:
                err_console.print(f"  {display_path(skipped.path)}: {skipped.reason}", highlight=False, soft_wrap=True)
    if verbose:
        err_console.print(
            f"[dim]index {report.directory}: {len(index.documents)} document(s), {len(index.passages)} passages; "
            f"{report.new} new, {report.changed} changed, {report.removed} removed; {report.seconds:.2f} s[/]",
            highlight=False,
            soft_wrap=True,
        )


def render_corpus_answer(answer: Answer, engine: QAEngine, console: Console, verbose: bool = False) -> None:
    """The table of `ask --docs`: answers from all passages, ranked, with their file and character range."""
    table = Table(title=f"Q: {escape(answer.question)}", title_justify="left", expand=False)
    for name, justify in (("#", "right"), ("answer", "left"), ("source", "left"), ("score", "right"),
                          ("prob", "right"), ("chars", "right")):
        table.add_column(name, justify=justify, overflow="fold")
    for rank, span in enumerate(answer.answers, start=1):
        chosen = rank == 1 and not answer.is_impossible
        text = escape(span.text)
        table.add_row(
            str(rank),
            f"[bold green]{text}[/]" if chosen else text,
            escape(display_path(getattr(span, "source", ""))),
            f"{span.score:.2f}",
            f"{span.probability:.3f}",
            f"{span.start}-{span.end}",
        )
    table.add_row(
        "-",
        "[bold yellow]<no answer>[/]" if answer.is_impossible else "[dim]<no answer>[/]",
        "",
        f"{answer.no_answer.score:.2f}",
        f"{answer.no_answer.probability:.3f}",
        "",
    )
    console.print(table)
    passages = answer.extra.get("passages", [])
    if verbose:
        for passage in passages:
            console.print(
                f"[dim]passage {passage['rank']}: {escape(display_path(passage['source']))} "
                f"{passage['start']}-{passage['end']} (score {passage['score']:.3f})[/]",
                highlight=False,
            )
    verdict = "no answer in these documents" if answer.is_impossible else f"answer: {escape(answer.best_text)}"
    files = len({p["source"] for p in passages})
    setup = precision_label(engine.runtime, engine.precision)
    console.print(
        f"{verdict}\n[dim]{len(passages)} passage(s) from {files} file(s), retriever {answer.extra.get('retriever')}; "
        f"model {escape(engine.model_name)} on {engine.device} ({setup})[/]",
        highlight=False,
    )


class _progress:
    """A transient progress bar on stderr for slow indexing steps (shown only once one is under way)."""

    MIN_TOTAL = {"reading files": 50, "embedding passages": 200}  # smaller jobs take a moment: no bar

    def __init__(self, console: Console):
        self.console = console
        self.bar = None
        self.tasks: dict[str, int] = {}

    def __enter__(self):
        return self

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.console.is_terminal or total < self.MIN_TOTAL.get(stage, 1_000_000):
            return
        if self.bar is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                console=self.console, transient=True,
            )
            self.bar.start()
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total)
        self.bar.update(self.tasks[stage], completed=done, total=total)

    def __exit__(self, *exc_info):
        if self.bar is not None:
            self.bar.stop()
        return False
