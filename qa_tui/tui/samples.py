"""The sample contexts shipped with qa-tui (`sample_contexts/` at the repository root, package data when installed)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def sample_dir() -> Path | None:
    """The folder of sample contexts: inside the installed package, else the source checkout's; None if missing.

    In a checkout `qa_tui/sample_contexts` is a symbolic link to `../sample_contexts`; a built wheel holds copies.
    """
    for candidate in (_PACKAGE_DIR / "sample_contexts", _PACKAGE_DIR.parent / "sample_contexts"):
        if candidate.is_dir():
            return candidate
    return None


def sample_files() -> list[Path]:
    """The sample texts (`*.txt`), sorted by name; empty when none are installed."""
    folder = sample_dir()
    if folder is None:
        return []
    return sorted(path for path in folder.glob("*.txt") if path.is_file())


def sample_title(path: Path) -> str:
    """A readable name for a sample file: `cord19-paper-safe-patient-transport.txt` -> `cord19 paper safe ...`."""
    return path.stem.replace("-", " ")
