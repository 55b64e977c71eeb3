"""The QA engine every face of qa-tui shares: one loaded model on one device, batched `answer()`.

Fast on purpose: all windows of a batch of questions are tokenized in one call to the Rust tokenizer, sorted by
length so that each forward batch pads little, run by a runner (PyTorch under `torch.inference_mode` and autocast,
or ONNX Runtime: onnx_runtime.py) on numpy arrays, and decoded by the pure `decode_spans`. One lock serializes
model work, so threads (the TUI's workers) may share one engine. torch is imported by the PyTorch runner only.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol, Sequence

import numpy as np

from qa_tui.engine.decoding import Answer, Window, decode_spans
from qa_tui.engine.device import autocast, pick_device, pick_precision, pick_runtime, quantize_int8
from qa_tui.engine.model_files import read_model_settings, resolve_model
from qa_tui.engine.windows import WindowSettings, context_mask, reading_windows, tokenize_windows
from qa_tui.errors import UserError

if TYPE_CHECKING:
    import torch


def default_batch_size(device: str | torch.device) -> int:
    """Windows per forward pass on `device` ("cpu", "cuda:1"...). Small on a CPU, where they keep the activations
    in cache: on SQuAD-sized windows 8 does ~30% more per CPU second than 32 (benchmarks/README.md); GPUs want
    larger ones."""
    return 8 if str(device).partition(":")[0] == "cpu" else 32


@dataclass(frozen=True)
class DecodeSettings:
    n_best: int = 20
    max_answer_tokens: int = 30


def load_tokenizer(name: str):
    """The model's fast tokenizer; a clear error when it is not there or not a fast one."""
    tokenizer = None
    named = named_tokenizer_class(name)
    if named is not None:
        try:
            tokenizer = named.from_pretrained(name)
        except Exception:  # AutoTokenizer may still know better (transformers' own overrides): it decides below
            tokenizer = None
    try:
        if not getattr(tokenizer, "is_fast", False):
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(name, use_fast=True)
    except Exception as exc:  # transformers raises OSError, ValueError, HTTP errors... for a missing model
        raise UserError(f"--model {name}: cannot load its tokenizer ({_first_line(exc)})") from exc
    if not getattr(tokenizer, "is_fast", False):
        raise UserError(f"--model {name}: qa-tui needs a fast (Rust) tokenizer for character offsets")
    return tokenizer


def named_tokenizer_class(name: str) -> type | None:
    """The tokenizer class that a model folder's tokenizer_config.json names (its fast variant where there is one)
    when transformers has it and it belongs to the model's own family (config.json's model_type: BertTokenizer for
    bert); None otherwise (a hub id, a missing file or name, a class of another family, where AutoTokenizer applies
    its own corrections). The class AutoTokenizer picks, found without importing AutoTokenizer, whose module imports
    the model configurations and through them torch: about a second of every start on the ONNX path."""
    try:
        folder = Path(name)
        named = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8")).get("tokenizer_class")
        model_type = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError):
        return None
    if not (isinstance(named, str) and named.isidentifier() and isinstance(model_type, str) and model_type):
        return None
    import transformers

    family = f"transformers.models.{model_type.replace('-', '_')}."
    for candidate in (f"{named}Fast", named):
        found = getattr(transformers, candidate, None)
        if isinstance(found, type) and found.__module__.startswith(family):
            return found
    return None


def load_qa_model(name: str, dtype: torch.dtype | None = None, **options):
    """AutoModelForQuestionAnswering in `dtype` (fp32 unless given; `options` go to from_pretrained); a clear
    error when it has no QA head."""
    import torch
    from transformers import AutoModelForQuestionAnswering

    dtype = torch.float32 if dtype is None else dtype

    try:
        model, info = AutoModelForQuestionAnswering.from_pretrained(
            name, dtype=dtype, output_loading_info=True, **options
        )
    except Exception as exc:
        raise UserError(f"--model {name}: cannot load it as a question-answering model ({_first_line(exc)})") from exc
    missing_head = [key for key in info.get("missing_keys", []) if "qa_outputs" in key]
    if missing_head:
        raise UserError(
            f"--model {name}: has no question-answering head ({', '.join(sorted(missing_head))} missing); "
            "fine-tune it first with `qa-tui train --model ...`"
        )
    return model


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class Runner(Protocol):
    """Runs the model on a padded batch: numpy int64 arrays by input name (`input_ids`, `attention_mask`, and
    `token_type_ids` where the tokenizer makes them) -> (start logits, end logits), float32 [batch, tokens]."""

    runtime: str  # "torch" or "onnx"
    device: str  # "cpu", "cuda", "cuda:1", "mps"
    precision: str

    def __call__(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]: ...


class TorchRunner:
    """A PyTorch model on its device, in its precision: autocast for bf16/fp16, linear layers quantized for int8."""

    runtime = "torch"

    def __init__(self, model, device: torch.device, precision: str):
        model = model.to(device).eval()
        self.model = quantize_int8(model) if precision == "int8" else model
        self.torch_device = device
        self.device = str(device)
        self.precision = precision

    def __call__(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        import torch

        tensors = {name: torch.from_numpy(array).to(self.torch_device) for name, array in inputs.items()}
        with torch.inference_mode(), autocast(self.torch_device, self.precision):
            outputs = self.model(**tensors)
            return outputs.start_logits.float().cpu().numpy(), outputs.end_logits.float().cpu().numpy()


def precision_label(runtime: str, precision: str) -> str:
    """How a status line names the set-up: the precision alone on PyTorch (`bf16`), with the runtime otherwise
    (`onnx int8`), so that what every earlier line said stays as it was."""
    return precision if runtime == "torch" else f"{runtime} {precision}"


class QAEngine:
    """A QA model ready to answer: `answer()` for one question, `answer_batch()` for many."""

    # Pairs tokenized and run together: large enough for length sorting to pay, small enough for a live
    # progress bar and for other threads to get the model between chunks.
    CHUNK = 256

    def __init__(
        self,
        runner: Runner,
        tokenizer,
        *,
        model_name: str,
        null_threshold: float = 0.0,
        windows: WindowSettings = WindowSettings(),
        decoding: DecodeSettings = DecodeSettings(),
        batch_size: int | None = None,
    ):
        windows.check()
        if batch_size is not None and batch_size < 1:
            raise UserError("--batch-size must be at least 1")
        self.runner = runner
        self.tokenizer = tokenizer
        self.model_name = model_name
        self.runtime = runner.runtime
        self.device = runner.device
        self.precision = runner.precision
        self.null_threshold = null_threshold
        self.windows = windows
        self.decoding = decoding
        self.batch_size = batch_size or default_batch_size(self.device)
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        model: str | None = None,
        *,
        device: str = "auto",
        precision: str = "auto",
        runtime: str = "auto",
        null_threshold: float | None = None,
        max_seq_length: int | None = None,
        doc_stride: int | None = None,
        **settings,
    ) -> "QAEngine":
        """Load a model directory or hub id (None: the bundled model) on the best device there is.

        `runtime` torch runs the PyTorch model; onnx its ONNX export (made on first use and cached: onnx_runtime.py)
        on the CPU, without loading the PyTorch model once the export exists; auto is `AUTO_RUNTIME_ON_CPU`
        (device.py: ONNX Runtime int8) on a CPU where onnxruntime is installed.

        The no-answer threshold and `max_seq_length` are the ones given, else those saved with the model by
        `qa-tui train` (with its `max_query_length`), else 0 and 384 (and 64): a threshold holds for the windows it
        was chosen with. `doc_stride` is the one given, else the model's with the model's window, else
        `default_stride` for the window (`reading_windows`).
        """
        name = resolve_model(model)
        chosen_runtime, chosen_device = pick_runtime(runtime, device, precision)
        if chosen_runtime == "onnx":
            from qa_tui.engine.onnx_runtime import load_onnx_runner

            chosen_precision = pick_precision(None, precision, runtime="onnx")
            tokenizer = load_tokenizer(name)
            runner = load_onnx_runner(name, chosen_precision, tokenizer, load_qa_model)
        else:
            torch_device = pick_device(chosen_device)
            chosen_precision = pick_precision(torch_device, precision)
            tokenizer = load_tokenizer(name)
            runner = TorchRunner(load_qa_model(name), torch_device, chosen_precision)
        saved = read_model_settings(name)
        if null_threshold is None:
            null_threshold = float(saved.get("null_threshold", 0.0))
        if "windows" not in settings:
            settings["windows"] = reading_windows(saved, max_seq_length, doc_stride)
        return cls(runner, tokenizer, model_name=name, null_threshold=null_threshold, **settings)

    def describe(self) -> dict:
        return {"model": self.model_name, "device": self.device, "runtime": self.runtime,
                "precision": self.precision, "max_seq_length": self.windows.max_seq_length,
                "doc_stride": self.windows.doc_stride}

    def answer(self, question: str, context: str, top_k: int = 5) -> Answer:
        return self.answer_batch([(question, context)], top_k=top_k)[0]

    def answer_batch(
        self,
        pairs: Sequence[tuple[str, str]],
        top_k: int = 5,
        progress: Callable[[int], None] | None = None,
    ) -> list[Answer]:
        """Answers for (question, context) pairs, in their order; `progress(n)` after each n pairs decoded."""
        if top_k < 1:
            raise UserError("--top-k must be at least 1")
        if not pairs:
            return []
        for question, context in pairs:
            if not question.strip():
                raise UserError("the question is empty")
            if not context.strip():
                raise UserError("the context is empty")
        answers: list[Answer] = []
        for chunk_start in range(0, len(pairs), self.CHUNK):
            chunk = pairs[chunk_start : chunk_start + self.CHUNK]
            with self._lock:
                answers.extend(self._answer_locked(chunk, top_k))
            if progress is not None:
                progress(len(chunk))
        return answers

    def _answer_locked(self, pairs, top_k) -> list[Answer]:
        questions = [question for question, _ in pairs]
        contexts = [context for _, context in pairs]
        encoding = tokenize_windows(self.tokenizer, questions, contexts, self.windows)
        pair_of_window = encoding["overflow_to_sample_mapping"]
        start_logits, end_logits = self._forward(encoding)

        windows_of_pair: list[list[Window]] = [[] for _ in pairs]
        for window_index, pair_index in enumerate(pair_of_window):
            windows_of_pair[pair_index].append(
                Window(
                    start_logits=start_logits[window_index],
                    end_logits=end_logits[window_index],
                    offsets=np.asarray(encoding["offset_mapping"][window_index]),
                    context_mask=context_mask(encoding, window_index),
                )
            )
        answers = []
        for pair_index, (question, context) in enumerate(pairs):
            answers.append(
                decode_spans(
                    question,
                    context,
                    windows_of_pair[pair_index],
                    top_k=top_k,
                    n_best=self.decoding.n_best,
                    max_answer_tokens=self.decoding.max_answer_tokens,
                    null_threshold=self.null_threshold,
                )
            )
        return answers

    def _forward(self, encoding) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Start and end logits of every window, unpadded, running length-sorted padded batches."""
        input_ids = encoding["input_ids"]
        token_type_ids = encoding.get("token_type_ids")
        order = sorted(range(len(input_ids)), key=lambda i: len(input_ids[i]))
        start_logits: list[np.ndarray] = [np.empty(0)] * len(input_ids)
        end_logits: list[np.ndarray] = [np.empty(0)] * len(input_ids)
        pad_id = self.tokenizer.pad_token_id or 0
        for batch_start in range(0, len(order), self.batch_size):
            batch = order[batch_start : batch_start + self.batch_size]
            width = max(len(input_ids[i]) for i in batch)
            ids = np.full((len(batch), width), pad_id, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            types = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                n = len(input_ids[i])
                ids[row, :n] = input_ids[i]
                mask[row, :n] = 1
                if token_type_ids is not None:
                    types[row, :n] = token_type_ids[i]
            inputs = {"input_ids": ids, "attention_mask": mask}
            if token_type_ids is not None:
                inputs["token_type_ids"] = types
            starts, ends = self.runner(inputs)
            for row, i in enumerate(batch):
                n = len(input_ids[i])
                start_logits[i] = starts[row, :n]
                end_logits[i] = ends[row, :n]
        return start_logits, end_logits
