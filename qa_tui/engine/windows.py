"""Cutting (question, context) pairs into the overlapping model windows that both reading and training use.

A context longer than one window is split into several, each holding the question, then a slice of the context;
neighbouring slices share `doc_stride` tokens (transformers' `stride`) so that an answer cut by one window's edge
is whole in the next. Questions longer than `max_query_length` tokens are cut to that length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class WindowSettings:
    max_seq_length: int = 384
    doc_stride: int = 128
    max_query_length: int = 64

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
