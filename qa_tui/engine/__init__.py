"""The shared QA engine: model loading, devices, runtimes and precision, windows, batched answering, span
decoding."""

from qa_tui.engine.decoding import Answer, NoAnswer, Span, Window, decode_spans
from qa_tui.engine.engine import (
    DecodeSettings,
    QAEngine,
    TorchRunner,
    load_qa_model,
    load_tokenizer,
    precision_label,
)
from qa_tui.engine.windows import WindowSettings

__all__ = [
    "Answer",
    "DecodeSettings",
    "NoAnswer",
    "QAEngine",
    "Span",
    "TorchRunner",
    "Window",
    "WindowSettings",
    "decode_spans",
    "load_qa_model",
    "load_tokenizer",
    "precision_label",
]
