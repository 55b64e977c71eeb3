"""Loading a QA engine for any face (`ask`, `eval`, the workbench): quietly, because transformers' load reports
and progress bars are noise on a command line and in a terminal app alike."""

from __future__ import annotations

import os


def quiet_transformers() -> None:
    """Silence transformers' and the hub's logging and progress bars (sentence-transformers loads through them too)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    import huggingface_hub

    huggingface_hub.utils.logging.set_verbosity_error()  # its retry warnings, one per failed request


def load_engine(model, device, precision, null_threshold, runtime="auto", **settings):
    """`QAEngine.load`, quietly; None for model, threshold or a window setting means the model's own or the default."""
    quiet_transformers()
    from qa_tui.engine import QAEngine

    return QAEngine.load(
        model, device=device, precision=precision, runtime=runtime, null_threshold=null_threshold, **settings
    )
