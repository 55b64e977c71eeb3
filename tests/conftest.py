"""Shared fixtures: a tiny randomly initialised BERT QA model built offline, and the data fixtures folder."""

from __future__ import annotations

import asyncio
import functools
import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# What the tests cache (ONNX exports of the bundled model, features, indexes) and the default annotations file go to
# throwaway folders, never the user's: set before anything asks platformdirs.
_SCRATCH = Path(tempfile.mkdtemp(prefix="qa-tui-tests-"))
os.environ["XDG_CACHE_HOME"] = str(_SCRATCH / "cache")
os.environ["XDG_DATA_HOME"] = str(_SCRATCH / "data")

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def build_tiny_qa_model(directory: Path, seed: int = 0) -> Path:
    """A 2-layer, 32-wide BERT with a QA head and the offline MiniLM tokenizer: fast, random, real."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    from qa_tui.engine.model_files import base_encoder_path

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(base_encoder_path())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    model = BertForQuestionAnswering(config)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return build_tiny_qa_model(tmp_path_factory.mktemp("tiny-qa-model"))


@pytest.fixture(scope="session")
def tiny_engine(tiny_model_dir):
    from qa_tui.engine import QAEngine

    return QAEngine.load(str(tiny_model_dir), device="cpu", precision="fp32")


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    """An engine per test module: the workbench sets its no-answer threshold, which must not leak elsewhere."""
    from qa_tui.engine import QAEngine

    return QAEngine.load(str(tiny_model_dir), device="cpu", precision="fp32")


def async_test(test):
    """Run an async test in a fresh event loop (no pytest plugin needed); fixtures still arrive by name."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


def pytest_collection_modifyitems(config, items):
    """Tests marked `slow` need ../shared/data or minutes of CPU: they run only with QA_TUI_SLOW=1."""
    if os.environ.get("QA_TUI_SLOW") == "1":
        return
    deselected = [item for item in items if "slow" in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if "slow" not in item.keywords]
