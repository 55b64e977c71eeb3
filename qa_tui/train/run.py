"""`qa-tui train`: fine-tune a BERT-style encoder for SQuAD 2.0-style QA with the Hugging Face Trainer.

One path through a run: check the output directory -> build (or reuse) the features, keeping the selection set's
paragraphs out -> Trainer with length-grouped batches and dynamic padding -> evaluate on the selection set (or
held-out articles) every `eval_steps` with the engine's decoding -> keep the best checkpoint -> choose the no-answer
threshold there by the stated rule (`selection.choose_threshold`) -> save model, threshold, metrics and a model card.
Because it is the Trainer, `torchrun -m qa_tui train ...` runs the same code data-parallel.
"""

from __future__ import annotations

import dataclasses
import os
import random
import time
from pathlib import Path

import torch
from rich.console import Console
from transformers import DataCollatorWithPadding, PrinterCallback, Trainer

from qa_tui.data.features import KeptOut
from qa_tui.data.train_files import parse_train_file
from qa_tui.data.squad import read_records
from qa_tui.engine import QAEngine, TorchRunner
from qa_tui.engine.device import cpu_description, pick_device, pick_precision
from qa_tui.engine.model_files import base_encoder_path, read_model_settings, resolve_model, write_model_settings
from qa_tui.engine.windows import WindowSettings
from qa_tui.errors import UserError
from qa_tui.evaluation import evaluate_engine
from qa_tui.events import EVENTS_FILE, EventWriter
from qa_tui.io import write_json_atomic
from qa_tui.train.callbacks import CurrentIntervals, ProgressEvents, StopOnSignal
from qa_tui.train.checkpoints import latest_good_checkpoint, prepare_output_dir
from qa_tui.train.model_card import model_card
from qa_tui.train.selection import THRESHOLD_RULE, choose_threshold, load_selection, warn_dev_overlap
from qa_tui.train.settings import TrainSettings


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))


def _hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU: {cpu_description()}"


def load_eval_records(path: str | None, limit: int | None = None) -> list:
    if not path:
        return []
    records = []
    for record in read_records(path):
        records.append(record)
        if limit and len(records) >= limit:
            break
    return records


def sample_records(records: list, limit: int, seed: int) -> list:
    """At most `limit` records drawn evenly from the whole list, in their order: the held-out file lists each
    article's questions before its negatives, so its head alone would hold no unanswerable question."""
    if len(records) <= limit:
        return records
    chosen = sorted(random.Random(seed).sample(range(len(records)), limit))
    return [records[index] for index in chosen]


class PadCollator:
    """Pads a batch to its longest feature (dynamic padding) and drops the `length` column the sampler used."""

    def __init__(self, tokenizer):
        self.pad = DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8)

    def __call__(self, features):
        return self.pad([{k: v for k, v in feature.items() if k != "length"} for feature in features])


class QATrainer(Trainer):
    """The Trainer, evaluating by SQuAD 2.0 decoding through the engine instead of its loss-only loop.

    Every process evaluates (the held-out set is small) so that all of them agree on the best checkpoint.
    """

    def __init__(self, *args, eval_records: list, windows: WindowSettings, **kwargs):
        super().__init__(*args, eval_dataset=eval_records or None, **kwargs)
        self.eval_records = eval_records
        self.windows = windows

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix="eval"):
        model = self.accelerator.unwrap_model(self.model)
        precision = "bf16" if self.args.bf16 else "fp16" if self.args.fp16 else "fp32"
        engine = QAEngine(
            TorchRunner(model, self.args.device, precision),
            self.processing_class,
            model_name="in-training",
            windows=self.windows,
        )
        result = evaluate_engine(engine, self.eval_records)
        model.train()
        metrics = {f"{metric_key_prefix}_{key}": value for key, value in result.metrics.items()}
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics


def train(settings: TrainSettings, console: Console | None = None) -> dict:
    """Run one training job; returns the final metrics. Raises UserError on bad input."""
    import transformers
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from qa_tui.data.features import prepare_features

    console = console or Console(stderr=True)

    def say(text: str, style: str | None = None) -> None:
        """One message on stderr, never wrapped (paths stay whole for the people and scripts that read them)."""
        if is_main:
            console.print(text, style=style, highlight=False, soft_wrap=True)

    is_main = _rank() == 0
    output_dir = Path(settings.output_dir)
    settings.windows.check()
    if settings.selection_file and settings.holdout:
        raise UserError("give --selection-file or --holdout, not both: each picks the checkpoint and the threshold")
    train_paths = [parse_train_file(spec)[0] for spec in settings.train_files]
    for path in [*train_paths, *(p for p in (settings.dev_file, settings.selection_file) if p)]:
        if not Path(path).is_file():
            raise UserError(f"{path}: no such file")
    selection_records = load_selection(settings.selection_file, settings.train_files) if settings.selection_file else []
    if is_main:
        prepare_output_dir(output_dir, settings.overwrite_output_dir, settings.resume)
    device = pick_device(settings.device)
    precision = pick_precision(device, settings.precision, training=True)
    model_name = resolve_model(settings.model) if settings.model else base_encoder_path()

    resume_from = None
    if settings.resume:
        resume_from = latest_good_checkpoint(output_dir, warn=lambda text: say(text, "yellow"))
        if resume_from is None and is_main:
            say(f"no checkpoint to resume from in {output_dir}: starting from the beginning")

    events = EventWriter(output_dir / EVENTS_FILE) if is_main else None
    started = time.monotonic()
    stopper = StopOnSignal().install()
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_name, use_fast=True)
        if events:
            events.write("start", settings=settings.to_dict(), command=settings.as_command(), output_dir=str(output_dir),
                         resume_from=str(resume_from) if resume_from else None)
        features = settings.features
        kept_out = KeptOut.of(selection_records) if selection_records else None
        if kept_out:
            features = dataclasses.replace(features, kept_out=kept_out)
        prepared = prepare_features(settings.train_files, tokenizer, features, settings.cache_dir, log=say)
        if selection_records:
            say(f"kept out of training: {prepared.summary.get('kept_out_paragraphs', 0):,} paragraphs "
                f"({prepared.summary.get('kept_out_questions', 0):,} questions) of {settings.selection_file}'s "
                f"{len(kept_out.titles)} articles (same title or same context)")
            choosing_records = selection_records
        else:
            choosing_records = load_eval_records(str(prepared.holdout_file) if prepared.holdout_file else None)
        dev_records = load_eval_records(settings.dev_file)
        if settings.dev_file and not any(not record.is_impossible for record in dev_records):
            say(f"{settings.dev_file}: no answerable questions; HasAns metrics will be absent", "yellow")
        if dev_records and is_main:
            warn_dev_overlap(settings.train_files, dev_records, settings.dev_file, say)
        choice_records = sample_records(choosing_records, settings.eval_limit, settings.seed)

        evaluate_during = bool(choice_records) and settings.eval_steps > 0
        # The Trainer takes one step past --max-steps when a checkpoint is already there: a run stopped early is
        # finished from its checkpoints instead (the best one, as at a normal end), with no step trained.
        finished_state = _state_if_finished(resume_from, settings.max_steps)
        weights = model_name
        if finished_state is not None:
            best = finished_state.best_model_checkpoint
            if not (evaluate_during and best and Path(best).is_dir()):
                best = finished_state.best_model_checkpoint = None  # the card then names no best checkpoint
            weights = best or str(resume_from)
            say(f"{resume_from} is at step {finished_state.global_step}, --max-steps {settings.max_steps}: "
                f"finishing the run with {weights}, no step trained")
        # fp32 master weights whatever the checkpoint holds (the bundled model is fp16): bf16/fp16 come from autocast.
        model = AutoModelForQuestionAnswering.from_pretrained(weights, dtype=torch.float32)
        examples_per_step = settings.batch_size * settings.grad_accum * int(os.environ.get("WORLD_SIZE", "1"))
        if evaluate_during and settings.save_steps % settings.eval_steps:
            raise UserError(
                f"--save-steps {settings.save_steps} must be a multiple of --eval-steps {settings.eval_steps}: "
                "the best checkpoint is chosen among evaluated ones"
            )
        args = _training_arguments(settings, output_dir, precision, device, evaluate_during)
        trainer = QATrainer(
            model=model,
            args=args,
            train_dataset=prepared.train,
            eval_records=choice_records,
            windows=settings.windows,
            data_collator=PadCollator(tokenizer),
            processing_class=tokenizer,
            callbacks=[ProgressEvents(events, console if is_main else None, examples_per_step), stopper,
                       CurrentIntervals()],
        )
        trainer.remove_callback(PrinterCallback)  # progress goes to events.jsonl and the progress bar instead
        transformers.logging.set_verbosity_error()
        if finished_state is not None:
            trainer.state, training_loss = finished_state, None
        else:
            training_loss = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None).training_loss

        if stopper.reason is not None:
            if events:
                events.write("stopped", step=trainer.state.global_step, reason=stopper.reason,
                             checkpoint=f"{output_dir}/checkpoint-{trainer.state.global_step}")
            say(f"stopped by {stopper.reason} at step {trainer.state.global_step}; "
                          "run again with --resume to go on")
            return {"stopped": True, "step": trainer.state.global_step}
        if not trainer.is_world_process_zero():
            return {}

        trainer.save_model(str(output_dir))
        tokenizer.save_pretrained(str(output_dir))
        final = QAEngine(TorchRunner(trainer.model, trainer.args.device, precision), tokenizer,
                         model_name=str(output_dir), windows=settings.windows)
        metrics: dict = {}
        # Nothing to choose on: a QA model trained further (on annotations, say) keeps the threshold it came with,
        # if it was chosen for the same windows (a threshold holds for the windows it was chosen with).
        threshold = 0.0
        base = read_model_settings(model_name)
        if "null_threshold" in base and base.get("max_seq_length", settings.max_seq_length) == settings.max_seq_length:
            threshold = float(base["null_threshold"])
            metrics["null_threshold_from"] = model_name
        if choosing_records:
            chosen_on = evaluate_engine(final, choosing_records).metrics
            threshold = choose_threshold(chosen_on)
            metrics["selection" if selection_records else "holdout"] = chosen_on
        write_model_settings(output_dir, {"null_threshold": threshold, "max_seq_length": settings.max_seq_length,
                                          "doc_stride": settings.doc_stride,
                                          "max_query_length": settings.max_query_length})
        metrics["null_threshold"] = threshold
        if dev_records:
            final.null_threshold = threshold
            metrics["dev"] = evaluate_engine(final, dev_records).metrics
        write_json_atomic(output_dir / "metrics.json", metrics)
        train_info = {
            "steps": trainer.state.global_step,
            "epochs": round(trainer.state.epoch or 0, 3),
            "seconds": round(time.monotonic() - started),
            "hardware": _hardware(trainer.args.device),
            "precision": precision,
            "train_loss": training_loss,
            "best_checkpoint": trainer.state.best_model_checkpoint if evaluate_during else None,
            "chosen_on": settings.selection_file or ("held-out articles" if choosing_records else None),
            "threshold_rule": THRESHOLD_RULE if choosing_records else None,
        }
        (output_dir / "README.md").write_text(
            model_card(settings.to_dict(), settings.as_command(), prepared.summary, metrics, train_info), encoding="utf-8"
        )
        if events:
            events.write("end", model_dir=str(output_dir), metrics=metrics, train=train_info)
        return metrics
    except UserError as exc:
        if events:
            events.write("error", message=str(exc))
        raise
    except KeyboardInterrupt:
        if events:
            events.write("stopped", reason="SIGINT (twice: no checkpoint)", step=None, checkpoint=None)
        raise
    except Exception as exc:
        if events:
            events.write("error", message=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        stopper.uninstall()
        if events:
            events.close()


def _state_if_finished(checkpoint: Path | None, max_steps: int):
    """The checkpoint's Trainer state when it has already reached `max_steps` (> 0), else None."""
    from transformers import TrainerState

    if checkpoint is None or max_steps <= 0:
        return None
    state = TrainerState.load_from_json(str(checkpoint / "trainer_state.json"))
    return state if state.global_step >= max_steps else None


def _training_arguments(settings: TrainSettings, output_dir: Path, precision: str, device, evaluate_during: bool):
    from transformers import TrainingArguments

    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    return TrainingArguments(
        output_dir=str(output_dir),
        per_device_train_batch_size=settings.batch_size,
        gradient_accumulation_steps=settings.grad_accum,
        num_train_epochs=settings.epochs,
        max_steps=settings.max_steps,
        learning_rate=settings.learning_rate,
        warmup_steps=settings.warmup_ratio,
        weight_decay=settings.weight_decay,
        logging_steps=settings.logging_steps,
        save_strategy="steps",
        save_steps=settings.save_steps,
        save_total_limit=3,
        eval_strategy="steps" if evaluate_during else "no",
        eval_steps=settings.eval_steps if evaluate_during else None,
        load_best_model_at_end=evaluate_during,
        metric_for_best_model="best_f1" if evaluate_during else None,
        greater_is_better=True,
        seed=settings.seed,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=device.type == "cpu",
        train_sampling_strategy="group_by_length",
        remove_unused_columns=False,
        report_to="none",
        disable_tqdm=True,
        ddp_backend="gloo" if distributed and device.type == "cpu" else None,
    )
