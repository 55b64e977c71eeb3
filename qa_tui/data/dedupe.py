"""Duplicate and contradictory questions in a training set.

SubjQA, the one source of human-written unanswerable questions here, repeats (question, review) pairs, and about
a third of its distinct pairs in the train files appear both with an answer and as unanswerable. Training on both
labels teaches the model nothing but noise, so such pairs are dropped, and plain repeats are merged into one
record carrying all their answers. The whole set is held in memory: this is for files of SubjQA's size, not for
SQuAD train (which needs neither).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

from qa_tui.data.squad import QARecord


@dataclass
class DedupeSummary:
    read: int = 0
    kept: int = 0
    merged: int = 0  # records folded into an earlier one with the same question and context
    conflicting_pairs: int = 0  # (question, context) pairs labelled both answerable and unanswerable
    conflicting_records: int = 0  # the records those pairs had, all dropped

    def line(self) -> str:
        return (f"{self.read} records read: {self.kept} kept, {self.merged} repeats merged, "
                f"{self.conflicting_records} dropped from {self.conflicting_pairs} pairs labelled both ways")


def pair_key(record: QARecord) -> tuple[str, str]:
    """Same context, same question up to case and white space."""
    return record.context, " ".join(record.question.lower().split())


def drop_conflicting_labels(records: Iterable[QARecord]) -> tuple[list[QARecord], DedupeSummary]:
    """One record per (question, context) pair, in order of first appearance; pairs labelled both ways dropped."""
    summary = DedupeSummary()
    groups: dict[tuple[str, str], list[QARecord]] = {}
    for record in records:
        summary.read += 1
        groups.setdefault(pair_key(record), []).append(record)
    kept = []
    for group in groups.values():
        if len({record.is_impossible for record in group}) > 1:
            summary.conflicting_pairs += 1
            summary.conflicting_records += len(group)
            continue
        answers, seen = [], set()
        for answer in (answer for record in group for answer in record.answers):
            if (answer["text"], answer["answer_start"]) not in seen:
                seen.add((answer["text"], answer["answer_start"]))
                answers.append(answer)
        kept.append(replace(group[0], answers=answers))
        summary.merged += len(group) - 1
    summary.kept = len(kept)
    return kept, summary
