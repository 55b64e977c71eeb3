"""The `qa-tui` command line (Typer): one small function per command; the work lives in the modules they call.

Bad input raises `UserError` anywhere below; `cli_errors` turns it into one line on stderr and exit code 2.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from qa_tui.errors import UserError

app = typer.Typer(
    name="qa-tui",
    help="A terminal workbench for extractive question answering with BERT-style models.\n\n"
    "Run with no command to open the workbench.",
    no_args_is_help=False,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
err_console = Console(stderr=True)

# Options shared by every command that loads a model.
MODEL_HELP = "QA model: a local directory or a Hugging Face hub id. Default: the model bundled with qa-tui."
DEVICE_HELP = "Where the model runs: auto (cuda > mps > cpu), cuda, cuda:N, mps or cpu."
PRECISION_HELP = "auto (bf16 where the CPU/GPU has it, fp16 on older GPUs, else fp32), bf16, fp16 or fp32."
THRESHOLD_HELP = (
    "Say 'no answer' when no-answer score - best span score exceeds this. "
    "Default: the threshold saved with the model, else 0."
)


def cli_errors(command):
    """Turn UserError (and Ctrl-C) into one line on stderr and a non-zero exit, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except UserError as exc:
            err_console.print(f"error: {exc}", style="red", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err_console.print("interrupted", style="red")
            raise typer.Exit(130) from None

    return wrapper


def quiet_transformers() -> None:
    """transformers' load reports and progress bars are noise on a command line."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def load_engine(model, device, precision, null_threshold, **settings):
    quiet_transformers()
    from qa_tui.engine import QAEngine

    return QAEngine.load(model, device=device, precision=precision, null_threshold=null_threshold, **settings)


@app.callback(invoke_without_command=True)
def workbench(
    ctx: typer.Context,
    context: Optional[Path] = typer.Option(None, "--context", "-c", help="Open this text file in the context pane."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help=MODEL_HELP),
    top_k: int = typer.Option(5, "--top-k", "-k", help="How many candidate spans to list."),
    null_threshold: Optional[float] = typer.Option(None, "--null-threshold", help=THRESHOLD_HELP),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    precision: str = typer.Option("auto", "--precision", help=PRECISION_HELP),
):
    """Open the workbench (the TUI) when no command is given."""
    if ctx.invoked_subcommand is not None:
        return
    from qa_tui.tui.launch import run_workbench

    cli_errors(run_workbench)(
        context=context, model=model, top_k=top_k, null_threshold=null_threshold, device=device, precision=precision
    )


@app.command()
@cli_errors
def ask(
    question: Optional[str] = typer.Option(None, "--question", "-q", help="The question to answer."),
    context: Optional[str] = typer.Option(
        None, "--context", "-c", help="Text file holding the context, or - for stdin."
    ),
    questions: Optional[Path] = typer.Option(
        None,
        "--questions",
        help='JSON Lines file of {"id"?, "question", "context"}: answers one JSON line per input line, in order.',
    ),
    model: Optional[str] = typer.Option(None, "--model", "-m", help=MODEL_HELP),
    top_k: int = typer.Option(5, "--top-k", "-k", help="How many candidate spans to return (at least 1)."),
    null_threshold: Optional[float] = typer.Option(None, "--null-threshold", help=THRESHOLD_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (see README) instead of a table."),
    encoding: str = typer.Option("utf-8", "--encoding", help="Text encoding of the context/questions file."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    precision: str = typer.Option("auto", "--precision", help=PRECISION_HELP),
    max_seq_length: int = typer.Option(384, "--max-seq-length", help="Tokens per model window."),
    doc_stride: int = typer.Option(128, "--doc-stride", help="Tokens shared by neighbouring windows."),
    batch_size: int = typer.Option(32, "--batch-size", help="Windows per forward pass."),
):
    """Answer a question over a context file, or a JSON Lines file of questions."""
    from qa_tui.ask import answer_questions_file, answer_record, render_answer, stdout_json
    from qa_tui.engine import WindowSettings
    from qa_tui.inputs import read_context

    if top_k < 1:
        raise UserError("--top-k must be at least 1")
    if questions is None:
        if question is None or context is None:
            raise UserError("give --question and --context, or --questions FILE.jsonl")
        if not question.strip():
            raise UserError("--question is empty")
        text = read_context(context, encoding)
    elif question is not None or context is not None:
        raise UserError("--questions replaces --question and --context: give one or the other")
    windows = WindowSettings(max_seq_length=max_seq_length, doc_stride=doc_stride)
    windows.check()
    engine = load_engine(model, device, precision, null_threshold, windows=windows, batch_size=batch_size)
    if questions is not None:
        failed = answer_questions_file(engine, str(questions), top_k, encoding, sys.stdout, err_console)
        if failed:
            raise UserError(f"{questions}: {failed} line(s) could not be answered (see above)")
        return
    answer = engine.answer(question, text, top_k=top_k)
    if as_json:
        stdout_json(answer_record(answer, engine))
    else:
        render_answer(answer, engine, Console())


def main() -> None:
    app()


if __name__ == "__main__":
    main()
