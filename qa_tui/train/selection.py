"""The selection set of a training run: the SQuAD 2.0 file that picks the best checkpoint and the no-answer threshold.

It replaces `--holdout` (held-out training articles, whose negatives are synthetic and much easier to spot than
written ones): a file of realistic unanswerable questions beside answerable ones on paragraphs that training never
sees. Its articles are kept out of the training files by title and by context (`KeptOut`), so that a selection
paragraph cannot leak in under another title. Test sets never take this role.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

from qa_tui.data.features import KeptOut
from qa_tui.data.train_files import parse_train_file
from qa_tui.data.squad import QARecord, read_records
from qa_tui.errors import UserError


def load_selection(path: str, train_specs: Sequence[str]) -> list[QARecord]:
    """The selection file's records, refused (UserError, one line) if it is also a training file or lacks either
    answerable or unanswerable questions: a threshold needs both sides to be chosen."""
    selection = Path(path)
    for spec in train_specs:
        train_path = Path(parse_train_file(spec)[0])
        if train_path.exists() and selection.exists() and os.path.samefile(train_path, selection):
            raise UserError(f"--selection-file {path} is also a --train-file: a selection set must not be trained on")
    records = list(read_records(path))
    answerable = sum(not record.is_impossible for record in records)
    unanswerable = len(records) - answerable
    if not answerable or not unanswerable:
        raise UserError(
            f"--selection-file {path}: {answerable} answerable and {unanswerable} unanswerable questions; "
            "choosing a no-answer threshold needs both"
        )
    return records


def count_overlap(train_specs: Sequence[str], reference: Sequence[QARecord]) -> tuple[int, int]:
    """(paragraphs, questions) of the training files that share an article title or a context with `reference`."""
    kept_out = KeptOut.of(reference)
    paragraphs: set[tuple[str, str]] = set()
    questions = 0
    for spec in train_specs:
        path, _ = parse_train_file(spec)
        for record in read_records(path):
            if kept_out.holds(record):
                questions += 1
                paragraphs.add((path, record.context))
    return len(paragraphs), questions


THRESHOLD_RULE = (
    "the threshold at which the answer-or-abstain decision is best there, as balanced accuracy (share of answerable "
    "questions answered plus share of unanswerable ones refused, halved): best_balanced_accuracy_thresh"
)


def choose_threshold(metrics: dict) -> float:
    """The no-answer threshold by the stated rule (README, "Choosing the no-answer threshold"), from the SQuAD 2.0
    metrics of the whole selection set. Not best_f1_thresh: with one reference per answer, a selection set scores
    right spans low and so makes abstaining look better than it is on a set with several references. A held-out set
    without unanswerable questions has no balanced accuracy; best_f1_thresh (answer everything) stands in."""
    return float(metrics.get("best_balanced_accuracy_thresh", metrics.get("best_f1_thresh", 0.0)))


def warn_dev_overlap(train_specs: Sequence[str], dev_records: Sequence[QARecord], dev_file: str,
                     say: Callable[[str, str], None]) -> None:
    paragraphs, questions = count_overlap(train_specs, dev_records)
    if questions:
        say(f"warning: {dev_file} shares {paragraphs} paragraphs ({questions} questions) with the training files "
            "(same title or same context): its scores will flatter the model", "yellow")
