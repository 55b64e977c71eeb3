"""Writing files so that a crash never leaves half of one behind: write a temporary file, then rename it."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterable, Iterator


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file beside `path`; on success it replaces `path`, on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with _ignore_missing():
            os.unlink(tmp_name)
        raise


@contextmanager
def _ignore_missing():
    try:
        yield
    except FileNotFoundError:
        pass


def write_json_atomic(path: str | os.PathLike, data, indent: int | None = 2) -> None:
    with atomic_open(path) as handle:
        json.dump(data, handle, indent=indent, ensure_ascii=False)
        handle.write("\n")


def write_jsonl_atomic(path: str | os.PathLike, rows: Iterable) -> None:
    """One JSON object per line, so a reader can stream it and `grep` can find one question."""
    with atomic_open(path) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
