"""The output directory's safety rules and the choice of a checkpoint to resume from."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from qa_tui.errors import UserError

CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
RUN_MARKERS = ("events.jsonl", "train_settings.json")


def prepare_output_dir(output_dir: Path, overwrite: bool, resume: bool) -> None:
    """Refuse a non-empty directory unless told to overwrite or resume; touch nothing when refusing."""
    if output_dir.exists() and not output_dir.is_dir():
        raise UserError(f"--output-dir {output_dir}: is a file")
    contents = list(output_dir.iterdir()) if output_dir.is_dir() else []
    if not contents or resume:
        output_dir.mkdir(parents=True, exist_ok=True)
        return
    if not overwrite:
        raise UserError(
            f"--output-dir {output_dir}: is not empty; add --resume to go on with that run, "
            "or --overwrite-output-dir to start again"
        )
    if not any((output_dir / marker).exists() for marker in RUN_MARKERS):
        raise UserError(
            f"--output-dir {output_dir}: --overwrite-output-dir deletes only qa-tui run directories, "
            "and this one holds no events.jsonl"
        )
    for path in contents:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def checkpoint_problem(path: Path) -> str | None:
    """Why a checkpoint cannot be resumed from (a partial write, say), or None when it looks whole."""
    try:
        state = json.loads((path / "trainer_state.json").read_text())
        if "global_step" not in state:
            return "trainer_state.json has no global_step"
    except (OSError, json.JSONDecodeError) as exc:
        return f"trainer_state.json unreadable ({exc.__class__.__name__})"
    weights = path / "model.safetensors"
    try:
        from safetensors import safe_open

        with safe_open(str(weights), framework="pt") as handle:
            for key in handle.keys():
                handle.get_slice(key)
    except Exception as exc:  # safetensors raises its own error types for a truncated file
        return f"model.safetensors unreadable ({exc.__class__.__name__})"
    for name in ("optimizer.pt", "scheduler.pt"):
        if not (path / name).is_file() or (path / name).stat().st_size == 0:
            return f"{name} missing or empty"
    try:
        import torch

        torch.load(path / "optimizer.pt", map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated zip archive
        return f"optimizer.pt unreadable ({exc.__class__.__name__})"
    return None


def checkpoints(output_dir: Path) -> list[Path]:
    """The checkpoint-N directories, newest (highest step) first."""
    found = [path for path in output_dir.glob("checkpoint-*") if path.is_dir() and CHECKPOINT.match(path.name)]
    return sorted(found, key=lambda path: int(CHECKPOINT.match(path.name).group(1)), reverse=True)


def latest_good_checkpoint(output_dir: Path, warn=print) -> Path | None:
    """The newest checkpoint that is whole; broken newer ones are named and skipped."""
    for path in checkpoints(output_dir):
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        warn(f"skipping {path}: {problem}")
    return None
