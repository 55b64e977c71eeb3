"""Reading user files with one clear error per problem: missing, a directory, binary, not in the encoding, empty."""

from __future__ import annotations

import sys
from pathlib import Path

from qa_tui.errors import UserError


def check_readable_file(path: str | Path, what: str = "file") -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise UserError(f"{path}: no such {what}")
    if path.is_dir():
        raise UserError(f"{path}: is a directory, expected a {what}")
    return path


def decode_text(data: bytes, source: str, encoding: str = "utf-8") -> str:
    """Bytes -> text; binary data (NUL bytes) and undecodable bytes are refused with the offending offset."""
    if b"\x00" in data[:65536]:
        raise UserError(f"{source}: looks like a binary file (it contains NUL bytes), not text")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        hint = " (try --encoding latin-1, or the file's real encoding)" if encoding.lower() in ("utf-8", "utf8") else ""
        raise UserError(f"{source}: not valid {encoding} at byte {exc.start}{hint}") from exc
    except LookupError as exc:
        raise UserError(f"--encoding {encoding}: not an encoding Python knows") from exc
    return text.removeprefix("\ufeff")


def read_text(path: str, encoding: str = "utf-8") -> str:
    """A text file's content, or stdin's when `path` is '-'."""
    if path == "-":
        return decode_text(sys.stdin.buffer.read(), "<stdin>", encoding)
    checked = check_readable_file(path)
    try:
        data = checked.read_bytes()
    except OSError as exc:
        raise UserError(f"{checked}: cannot read it ({exc.strerror})") from exc
    return decode_text(data, str(checked), encoding)


def read_context(path: str, encoding: str = "utf-8") -> str:
    text = read_text(path, encoding)
    if not text.strip():
        raise UserError(f"{'<stdin>' if path == '-' else path}: the context is empty")
    return text
