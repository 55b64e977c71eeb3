"""Plain data the app shares between screens: the user's settings and the state of the loaded model."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """What the user chose on the command line or in the command palette.

    `model` None means the bundled default model; `null_threshold` None means the threshold saved with the model.
    Corpus mode: `retriever` (hybrid, bm25, dense or whole), `passages` read per question, and `index_dir`, where
    corpus indexes are cached (None: the per-user cache folder).
    """

    model: str | None = None
    top_k: int = 5
    null_threshold: float | None = None
    device: str = "auto"
    precision: str = "auto"
    runtime: str = "auto"
    retriever: str = "hybrid"
    passages: int = 5
    index_dir: str | None = None


@dataclass(frozen=True)
class ModelState:
    """The app's model as the status bar shows it.

    `status`: `none` (nothing loaded or asked for), `loading`, `ready` or `failed` (then `message` says why).
    """

    status: str = "none"
    model: str = ""
    device: str = ""
    precision: str = ""
    null_threshold: float | None = None
    message: str = ""
    runtime: str = "torch"

    @property
    def label(self) -> str:
        """A short name for the model: a directory's last two parts, or the hub id."""
        if not self.model:
            return "no model"
        path = Path(self.model)
        if os.sep in self.model and path.name:
            return str(Path(path.parent.name) / path.name) if path.parent.name else path.name
        return self.model


def format_latency(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def short_path(path: Path, limit: int = 40) -> str:
    """A path for a status line: the home folder as ~, and only its last parts when it is long."""
    text = str(path)
    home = str(Path.home())
    if text == home or text.startswith(home + os.sep):
        text = "~" + text[len(home):]
    parts = Path(text).parts
    if len(text) > limit and len(parts) > 2:
        text = str(Path("…", *parts[-2:]))
    return text


def annotation_label(count: int, path: Path) -> str:
    return f"{count} annotated → {short_path(path)}"
