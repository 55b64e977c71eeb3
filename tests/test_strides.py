"""A stride the user does not give follows the window, so `--max-seq-length` alone works for every command; an
explicit `--doc-stride` is still checked as given, with the same message."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from qa_tui.cli import app
from qa_tui.engine.model_files import write_model_settings
from qa_tui.engine.windows import WindowSettings, default_stride, reading_windows

from conftest import FIXTURES

TRAIN_FILE = FIXTURES / "train_tiny.json"
# 192 - 64 - 3 leaves 125 tokens of context: the old fixed stride of 128 did not fit.
BAD_STRIDE = "--doc-stride 128 must be at least 0 and below 125 (max_seq_length - max_query_length - 3)"


def invoke(*args):
    return CliRunner().invoke(app, [*map(str, args)])


def test_the_default_stride_is_128_or_half_the_room_left_after_the_question():
    assert default_stride(384) == 128 == WindowSettings().doc_stride  # the default windows are as before
    assert default_stride(512) == 128
    assert default_stride(192) == 62  # (192 - 64 - 3) // 2
    assert default_stride(96, 24) == 34
    assert default_stride(60) == 0  # no room at all: the window check names --max-seq-length
    assert WindowSettings.sized(192) == WindowSettings(192, 62, 64)
    assert WindowSettings.sized(192, 100) == WindowSettings(192, 100, 64)


def test_reading_windows_keep_the_models_stride_only_with_the_models_window():
    saved = {"max_seq_length": 256, "doc_stride": 96, "max_query_length": 64}
    assert reading_windows(saved) == WindowSettings(256, 96, 64)
    assert reading_windows(saved, 256) == WindowSettings(256, 96, 64)
    assert reading_windows(saved, 192) == WindowSettings(192, 62, 64)
    assert reading_windows(saved, 192, 40) == WindowSettings(192, 40, 64)
    assert reading_windows({}, 192) == WindowSettings(192, 62, 64)
    assert reading_windows({"max_query_length": 24}, 96) == WindowSettings(96, 34, 24)


def test_ask_with_only_max_seq_length(tiny_model_dir, tmp_path):
    context = tmp_path / "context.txt"
    context.write_text("The Eiffel Tower is in Paris. Gustave Eiffel's company built it in 1889. " * 20)
    base = ["ask", "-q", "Who built the tower?", "-c", context, "-m", tiny_model_dir, "--device", "cpu", "--json"]
    result = invoke(*base, "--max-seq-length", "192")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["answers"]
    explicit = invoke(*base, "--max-seq-length", "192", "--doc-stride", "128")
    assert explicit.exit_code == 2 and BAD_STRIDE in explicit.stderr


def test_eval_with_only_max_seq_length_records_the_stride(tiny_model_dir, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    write_model_settings(model_dir, {"null_threshold": 0.0, "max_seq_length": 384, "doc_stride": 100})
    base = ["eval", "--data", TRAIN_FILE, "-m", model_dir, "--device", "cpu", "--limit", "3"]
    result = invoke(*base, "--max-seq-length", "192", "--output-dir", tmp_path / "eval")
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert (written["max_seq_length"], written["doc_stride"]) == (192, 62)
    result = invoke(*base, "--output-dir", tmp_path / "own")  # neither given: the model's own windows
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "own" / "metrics.json").read_text())
    assert (written["max_seq_length"], written["doc_stride"]) == (384, 100)
    explicit = invoke(*base, "--max-seq-length", "192", "--doc-stride", "128", "--output-dir", tmp_path / "bad")
    assert explicit.exit_code == 2 and BAD_STRIDE in explicit.stderr


def test_prepare_and_train_with_only_max_seq_length_agree_and_record_the_stride(tiny_model_dir, tmp_path):
    cache = tmp_path / "cache"
    prepared = invoke("prepare", "--data", TRAIN_FILE, "-m", tiny_model_dir, "--cache-dir", cache,
                      "--max-seq-length", "192", "--json")
    assert prepared.exit_code == 0, prepared.output
    out = tmp_path / "run"
    result = invoke("train", "--train-file", TRAIN_FILE, "-m", tiny_model_dir, "--output-dir", out,
                    "--cache-dir", cache, "--max-seq-length", "192", "--max-steps", "1", "--batch-size", "4",
                    "--device", "cpu", "--precision", "fp32")
    assert result.exit_code == 0, result.output
    assert "reusing cached features" in result.output  # the cache `prepare` built: the same stride
    saved = json.loads((out / "qa_tui.json").read_text())
    assert (saved["max_seq_length"], saved["doc_stride"]) == (192, 62)
    start = json.loads((out / "events.jsonl").read_text().splitlines()[0])
    assert start["settings"]["doc_stride"] == 62
    assert "--doc-stride" not in start["command"]  # the default for the window: `--max-seq-length 192` gives it
    card = (out / "README.md").read_text()
    assert '"doc_stride": 62' in card


@pytest.mark.parametrize(
    "command_args",
    [["train", "--train-file", TRAIN_FILE, "--output-dir", "run", "--device", "cpu"], ["prepare", "--data", TRAIN_FILE]],
    ids=["train", "prepare"],
)
def test_an_explicit_stride_that_does_not_fit_still_fails_with_todays_message(
    command_args, tiny_model_dir, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # train's relative --output-dir
    result = invoke(*command_args, "-m", tiny_model_dir, "--cache-dir", tmp_path / "cache",
                    "--max-seq-length", "192", "--doc-stride", "128")
    assert result.exit_code == 2, result.output
    assert BAD_STRIDE in result.stderr
    assert not (tmp_path / "cache").exists()  # refused before any work
