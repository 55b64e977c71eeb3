"""The bundled default model: fp16, small, carrying its threshold, shipped in the wheel and found by a
non-editable install, and the article's worked examples (tests/fixtures/covid_examples.json) it gets right."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from qa_tui.engine.model_files import DEFAULT_MODEL_DIR, SETTINGS_FILE

from conftest import FIXTURES

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bundled_engine():
    from qa_tui.engine import QAEngine

    return QAEngine.load(None, device="cpu")


WORKED_EXAMPLES = {
    example["expected"]: example for example in json.loads((FIXTURES / "covid_examples.json").read_text())["examples"]
}
# The third ("What kind of cytokines play a major role in host response?" -> "pro - inflammatory") is met by no model
# trained here: every version's top span is "cellular immune (response)" (model card, issue 4).
MET_BY_THE_BUNDLED_MODEL = ("44. 4 %", "all patients died")


@pytest.mark.parametrize("expected", MET_BY_THE_BUNDLED_MODEL)
def test_the_top_span_of_a_worked_example_is_the_articles_answer(bundled_engine, expected):
    """The best span (whether or not the no-answer score beats it) is the answer the article's BioBERT gave."""
    from qa_tui.metrics import normalize_answer

    example = WORKED_EXAMPLES[expected]
    answer = bundled_engine.answer(example["question"], example["context"])
    assert normalize_answer(answer.answers[0].text) == normalize_answer(expected)


def test_the_bundled_model_is_small_fp16_and_carries_its_threshold():
    weights = DEFAULT_MODEL_DIR / "model.safetensors"
    assert weights.stat().st_size <= 50 * 1024 * 1024
    from safetensors import safe_open

    with safe_open(str(weights), framework="pt") as handle:
        dtypes = {str(handle.get_slice(key).get_dtype()) for key in handle.keys()}
    assert dtypes == {"F16"}
    settings = json.loads((DEFAULT_MODEL_DIR / SETTINGS_FILE).read_text())
    assert isinstance(settings["null_threshold"], float)


def test_the_engine_loads_it_by_default_with_its_threshold(bundled_engine):
    settings = json.loads((DEFAULT_MODEL_DIR / SETTINGS_FILE).read_text())
    assert Path(bundled_engine.model_name) == DEFAULT_MODEL_DIR
    assert bundled_engine.null_threshold == settings["null_threshold"]
    # On a CPU the default runtime is ONNX Runtime in int8 (device.AUTO_RUNTIME_ON_CPU, chosen by bench_runtimes.py).
    assert (bundled_engine.describe()["runtime"], bundled_engine.precision) == ("onnx", "int8")


def test_a_wheel_install_finds_the_model_and_the_samples(tmp_path):
    """`pip install .` (not editable) must carry the model and the sample contexts as package data."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(REPO)],
        check=True, capture_output=True,
    )
    wheel = next(tmp_path.glob("qa_tui-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "qa_tui/models/default/model.safetensors" in names
    assert "qa_tui/models/default/qa_tui.json" in names
    assert any(name.startswith("qa_tui/sample_contexts/") and name.endswith(".txt") for name in names)
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)],
        check=True, capture_output=True,
    )
    probe = (
        "import qa_tui, json; from qa_tui.engine import QAEngine; e = QAEngine.load(None, device='cpu'); "
        "context = 'The mortality of patients with severe ARDS was 44.4 %.'; "
        "a = e.answer('What is the mortality for ARDS?', context); "
        "print(json.dumps({'file': qa_tui.__file__, 'model': e.model_name, 'in_context': a.answers[0].text in context}))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(target)},
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["file"].startswith(str(target)), "the installed copy, not the source tree, was imported"
    assert result["model"].startswith(str(target))
    assert result["in_context"]
