"""Where a model's exports (its ONNX graphs) live, and when one is stale.

An export is a folder `<root>/<variant>/` holding what a runtime loads plus `export.json`, the key it was built
from. The key names each file the export reads (config.json and the weights) with its size and modification time
in nanoseconds, plus the versions of the tools that built it. Not a hash of the contents: hashing BERT-base's
440 MB of weights would cost about half a second at every start, while whatever rewrites a model (`qa-tui train`,
`save_pretrained`, a download) gives its files new times. A copy that loses the times is exported once more, which
costs time, never a wrong answer.

The root is `qa-tui-onnx/` inside the model's folder when that is writable, so that the export goes where the
model goes and is deleted with it; else (and for hub models and the model bundled with qa-tui, whose folders belong
to the Hugging Face cache and to the installed package) a folder per model in the per-user cache. An export beside
a read-only model (made by whoever could write there) is still used.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Callable

from qa_tui.io import atomic_directory, write_json_atomic

SUBFOLDER = "qa-tui-onnx"
KEY_FILE = "export.json"
MODEL_FILE_PATTERNS = ("config.json", "*.safetensors", "*.bin", "*.index.json")


def user_cache_root() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("qa-tui")) / "onnx"


def can_write(directory: Path) -> bool:
    return os.access(directory, os.W_OK)


def model_files_key(model_dir: Path) -> dict[str, list[int]]:
    """File name -> [size, mtime in ns] for each file an export is made from."""
    files = sorted({path for pattern in MODEL_FILE_PATTERNS for path in model_dir.glob(pattern) if path.is_file()})
    return {path.name: [path.stat().st_size, path.stat().st_mtime_ns] for path in files}


def user_cache_folder(model_dir: Path) -> Path:
    """One folder per model folder: its name for people, a digest of its full path so that two never share one."""
    resolved = model_dir.resolve()
    digest = hashlib.sha256(str(resolved).encode("utf-8")).hexdigest()[:16]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", resolved.name).strip("-.") or "model"
    return user_cache_root() / f"{readable}-{digest}"


class ExportCache:
    """The exports of one model folder: looked up by key, built into a temporary folder and then renamed."""

    def __init__(self, model_dir: Path, *, beside: bool, tools: dict[str, str]):
        """`beside`: the folder is the user's own (not a hub snapshot or the bundled model), so an export may live
        in it. `tools`: what built the export (format and library versions), part of the key."""
        self.key = {"tools": tools, "files": model_files_key(model_dir)}
        user_root = user_cache_folder(model_dir)
        self.roots = [model_dir / SUBFOLDER, user_root] if beside else [user_root]
        self.write_root = self.roots[0] if beside and can_write(model_dir) else user_root

    def find(self, variant: str) -> Path | None:
        """The first folder holding `variant` built from the current key, or None (none yet, or all stale)."""
        for root in self.roots:
            folder = root / variant
            if read_key(folder) == self.key:
                return folder
        return None

    def build(self, variant: str, write: Callable[[Path], None]) -> Path:
        """`write(folder)` fills a temporary folder; with the key written last, it replaces `<write root>/<variant>`
        (a stale or corrupt one included) in one rename. Returns where it now is."""
        target = self.write_root / variant
        with atomic_directory(target) as folder:
            write(folder)
            write_json_atomic(folder / KEY_FILE, self.key)
        return target


def read_key(folder: Path) -> dict | None:
    try:
        return json.loads((folder / KEY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
