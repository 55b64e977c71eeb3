"""Cutting (question, context) pairs into the overlapping model windows that both reading and training use.

A context longer than one window is split into several, each holding the question, then a slice of the context;
neighbouring slices share `doc_stride` tokens (transformers' `stride`) so that an answer cut by one window's edge
is whole in the next. Questions longer than `max_query_length` tokens are cut to that length.

A stride the user does not give follows the window (`default_stride`), so that `--max-seq-length` alone always
works; one given is checked as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


STRIDE_CAP = 128  # BERT's SQuAD stride for 384-token windows: what a 384-token window gets by default


def default_stride(max_seq_length: int, max_query_length: int = 64) -> int:
    """The stride for a window when none is given: 128, or half the room the window leaves after the question when
    that is less, so that a small window still moves on by at least half its context each time."""
    room = max_seq_length - max_query_length - 3
    return max(0, min(STRIDE_CAP, room // 2))


@dataclass(frozen=True)
class WindowSettings:
    max_seq_length: int = 384
    doc_stride: int = 128  # default_stride(384, 64)
    max_query_length: int = 64

    @classmethod
    def sized(cls, max_seq_length: int, doc_stride: int | None = None, max_query_length: int = 64) -> "WindowSettings":
        """Windows of `max_seq_length` tokens; a stride of None becomes `default_stride` for them."""
        if doc_stride is None:
            doc_stride = default_stride(max_seq_length, max_query_length)
        return cls(max_seq_length, doc_stride, max_query_length)

    def check(self) -> None:
        from qa_tui.errors import UserError

        room = self.max_seq_length - self.max_query_length - 3
        if self.max_query_length < 1 or room < 1:
            raise UserError(
                f"--max-seq-length {self.max_seq_length} leaves no room for the context after a "
                f"{self.max_query_length}-token question"
            )
        if not 0 <= self.doc_stride < room:
            raise UserError(
                f"--doc-stride {self.doc_stride} must be at least 0 and below {room} "
                f"(max_seq_length - max_query_length - 3)"
            )


def reading_windows(saved: dict, max_seq_length: int | None = None, doc_stride: int | None = None) -> WindowSettings:
    """The windows to read with: the length given, else the model's own (`saved`, from its qa_tui.json), else 384.

    A stride not given is the model's own when the model's own window is used (its no-answer threshold was chosen on
    them), else the default for the window; the question length is always the model's.
    """
    own_length = int(saved.get("max_seq_length", WindowSettings.max_seq_length))
    max_query_length = int(saved.get("max_query_length", WindowSettings.max_query_length))
    length = own_length if max_seq_length is None else int(max_seq_length)
    if doc_stride is None and length == own_length and "doc_stride" in saved:
        doc_stride = int(saved["doc_stride"])
    return WindowSettings.sized(length, doc_stride, max_query_length)


def truncate_questions(tokenizer, questions: Sequence[str], max_query_length: int) -> list[str]:
    """Questions stripped of leading white space and cut after `max_query_length` tokens."""
    stripped = [question.lstrip() for question in questions]
    encoded = tokenizer(stripped, add_special_tokens=False, return_offsets_mapping=True)
    truncated = []
    for question, offsets in zip(stripped, encoded["offset_mapping"]):
        if len(offsets) > max_query_length:
            question = question[: offsets[max_query_length - 1][1]]
        truncated.append(question)
    return truncated


def tokenize_windows(tokenizer, questions: Sequence[str], contexts: Sequence[str], settings: WindowSettings):
    """Tokenize pairs into windows (unpadded); `overflow_to_sample_mapping` says which pair each came from."""
    return tokenizer(
        truncate_questions(tokenizer, questions, settings.max_query_length),
        list(contexts),
        truncation="only_second",
        max_length=settings.max_seq_length,
        stride=settings.doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )


def context_mask(encoding, window_index: int) -> np.ndarray:
    """True for the tokens of window `window_index` that come from the context (sequence 1)."""
    return np.array([sid == 1 for sid in encoding.sequence_ids(window_index)], dtype=bool)
