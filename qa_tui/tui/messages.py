"""The custom messages that widgets, screens and workers send each other.

Widgets never reach into their siblings: they post one of these, and the screen (or the app) that owns both
decides what happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.message import Message


class QuestionAsked(Message):
    """The question input was submitted (Enter)."""

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question


class CandidateChosen(Message):
    """The cursor of the candidates table moved to a row: a span (`start`, `end` into the context) or no answer."""

    def __init__(self, start: int | None, end: int | None, text: str = "", source: str = "") -> None:
        super().__init__()
        self.start = start
        self.end = end
        self.text = text
        self.source = source  # corpus mode: the file the offsets point into

    @property
    def is_span(self) -> bool:
        return self.start is not None and self.end is not None


@dataclass(frozen=True)
class AskRequest:
    """One question put to the engine: `serial` tells a fresh answer from a stale one.

    In corpus mode `corpus` is the `CorpusIndex` asked (and `context` is empty); `retriever` and `passages` say how.
    In compare mode `compare` is the second engine, asked the same question.
    """

    serial: int
    question: str
    context: str
    top_k: int
    corpus: Any = None
    retriever: str = "hybrid"
    passages: int = 5
    compare: Any = None


class AnswerReady(Message):
    """A worker answered `request` (an `qa_tui.engine.Answer`) in `latency` seconds; `compare_answer` is the
    second model's answer in compare mode."""

    def __init__(self, request: AskRequest, answer: Any, latency: float, compare_answer: Any = None) -> None:
        super().__init__()
        self.request = request
        self.answer = answer
        self.latency = latency
        self.compare_answer = compare_answer


class AnswerFailed(Message):
    """A worker could not answer `request`."""

    def __init__(self, request: AskRequest, error: str) -> None:
        super().__init__()
        self.request = request
        self.error = error


class ModelLoaded(Message):
    """The model worker finished loading `engine` (load number `serial`)."""

    def __init__(self, serial: int, engine: Any) -> None:
        super().__init__()
        self.serial = serial
        self.engine = engine


class ModelLoadFailed(Message):
    """The model worker could not load a model: `error` says why; `user_error` when it is the user's input."""

    def __init__(self, serial: int, error: str, user_error: bool) -> None:
        super().__init__()
        self.serial = serial
        self.error = error
        self.user_error = user_error


class LoadModelRequested(Message):
    """Someone (the training screen, the command palette) wants this model in the workbench."""

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model


class ContextChosen(Message):
    """A file was chosen as the context (a sample from the command palette): the workbench opens it."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path


class RunUpdated(Message):
    """The training run being watched has new events (or its process ended)."""

    def __init__(self, status: str, previous_status: str) -> None:
        super().__init__()
        self.status = status
        self.previous_status = previous_status


class CorpusChosen(Message):
    """A folder was chosen to be searched as a corpus (from the open dialog or the command palette)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path


class CorpusReady(Message):
    """The indexing worker opened `index` (a `CorpusIndex`) for the folder `path` (open number `serial`)."""

    def __init__(self, serial: int, path: Path, index: Any, notes: list[str]) -> None:
        super().__init__()
        self.serial = serial
        self.path = path
        self.index = index
        self.notes = notes


class CorpusFailed(Message):
    """The indexing worker could not open the folder `path` as a corpus: `error` says why."""

    def __init__(self, serial: int, path: Path, error: str) -> None:
        super().__init__()
        self.serial = serial
        self.path = path
        self.error = error


class AnnotateRequested(Message):
    """Annotate the question answered last: the span `start`-`end` is its answer, or (`unanswerable`) it has none.

    Offsets point into the text the context pane shows; `source` names its file in corpus mode.
    """

    def __init__(self, start: int | None = None, end: int | None = None, source: str = "",
                 unanswerable: bool = False) -> None:
        super().__init__()
        self.start = start
        self.end = end
        self.source = source
        self.unanswerable = unanswerable


class CompareLoaded(Message):
    """The second model (compare mode) finished loading: `engine`, load number `serial`."""

    def __init__(self, serial: int, engine: Any) -> None:
        super().__init__()
        self.serial = serial
        self.engine = engine


class CompareLoadFailed(Message):
    """The second model could not be loaded: `error` says why."""

    def __init__(self, serial: int, error: str) -> None:
        super().__init__()
        self.serial = serial
        self.error = error
