"""The shared QA engine: model loading, devices and precision, windows, batched answering, span decoding."""

from qa_tui.engine.decoding import Answer, NoAnswer, Span, Window, decode_spans
from qa_tui.engine.engine import DecodeSettings, QAEngine, load_qa_model
from qa_tui.engine.windows import WindowSettings

__all__ = [
    "Answer",
    "DecodeSettings",
    "NoAnswer",
    "QAEngine",
    "Span",
    "Window",
    "WindowSettings",
    "decode_spans",
    "load_qa_model",
]
