"""`qa-tui train` / `eval` end to end on the tiny model: outputs, events, refusal, resume, torchrun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from qa_tui.cli import app
from qa_tui.events import EventReader, RunState
from qa_tui.train.checkpoints import checkpoints, latest_good_checkpoint

from conftest import FIXTURES

TRAIN_FILE = FIXTURES / "train_tiny.json"


def train_args(model_dir, output_dir, cache_dir, *extra, train_file=TRAIN_FILE):
    return [
        "train", "--train-file", str(train_file), "--model", str(model_dir), "--output-dir", str(output_dir),
        "--cache-dir", str(cache_dir), "--max-seq-length", "96", "--doc-stride", "32", "--max-query-length", "24",
        "--batch-size", "8", "--learning-rate", "1e-3", "--negatives", "0.5", "--holdout", "0.5",
        "--logging-steps", "1", "--device", "cpu", "--precision", "fp32",
        "--seed", "0",  # with this seed, --holdout 0.5 holds out one of the fixture's two articles
        *extra,
    ]


def events_of(output_dir: Path) -> list[dict]:
    return EventReader(output_dir / "events.jsonl").poll()


def test_train_writes_model_metrics_events_and_card(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, train_args(tiny_model_dir, out, tmp_path / "cache", "--max-steps", "6", "--save-steps", "3",
                        "--eval-steps", "3", "--dev-file", str(TRAIN_FILE))
    )
    assert result.exit_code == 0, result.output
    for name in ("model.safetensors", "config.json", "tokenizer.json", "qa_tui.json", "metrics.json", "README.md"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"holdout", "dev", "null_threshold"} <= set(metrics)
    assert metrics["dev"]["total"] == 13 and 0 <= metrics["dev"]["f1"] <= 100
    saved = json.loads((out / "qa_tui.json").read_text())
    assert saved == {"null_threshold": metrics["null_threshold"], "max_seq_length": 96, "doc_stride": 32,
                     "max_query_length": 24}
    kinds = [event["event"] for event in events_of(out)]
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert {"log", "eval", "checkpoint"} <= set(kinds)
    state = RunState()
    for event in events_of(out):
        state.apply(event)
    assert state.status == "finished" and state.step == 6 and len(state.losses) >= 3
    assert "qa-tui train" in (out / "README.md").read_text()

    # The trained model answers through `qa-tui eval`, which writes the SQuAD 2.0 outputs.
    eval_out = tmp_path / "eval"
    result = CliRunner().invoke(
        app, ["eval", "--data", str(TRAIN_FILE), "--model", str(out), "--output-dir", str(eval_out),
              "--device", "cpu", "--json", "--limit", "5"]
    )
    assert result.exit_code == 0, result.output
    predictions = json.loads((eval_out / "predictions.json").read_text())
    assert len(predictions) == 5
    assert set(json.loads((eval_out / "null_odds.json").read_text())) == set(predictions)
    written = json.loads((eval_out / "metrics.json").read_text())
    assert written["total"] == 5 and "best_f1_thresh" in written
    assert (written["max_seq_length"], written["doc_stride"]) == (96, 32)  # the windows it was trained on


def test_non_empty_output_dir_is_refused_and_left_alone(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = CliRunner().invoke(app, train_args(tiny_model_dir, out, tmp_path / "cache", "--max-steps", "1"))
    assert result.exit_code == 2
    assert "not empty" in result.output
    assert [path.name for path in out.iterdir()] == ["notes.txt"]
    # --overwrite-output-dir only ever deletes a qa-tui run directory.
    result = CliRunner().invoke(
        app, train_args(tiny_model_dir, out, tmp_path / "cache", "--max-steps", "1", "--overwrite-output-dir")
    )
    assert result.exit_code == 2 and (out / "notes.txt").read_text() == "mine"


def test_empty_training_set_says_why(tiny_model_dir, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "1", "context": "abc", "question": "q?", "answers": [{"text": "zzz", "answer_start": 0}]}) + "\n")
    result = CliRunner().invoke(app, train_args(tiny_model_dir, tmp_path / "run", tmp_path / "cache", train_file=bad))
    assert result.exit_code == 2
    assert "no training examples" in result.output


def test_a_training_file_that_is_not_json_lines_is_named_in_one_line(tiny_model_dir, tmp_path):
    # A SQuAD JSON file saved as .jsonl: its first line is not a JSON object. The reader's error must come out
    # as the one clear line, not as the traceback of the `datasets` generator that wraps it.
    misnamed = tmp_path / "squad.jsonl"
    misnamed.write_text('{"version": "v2.0", "data": [\n{"title": "t", "paragraphs": []}\n]}\n')
    result = CliRunner().invoke(app, train_args(tiny_model_dir, tmp_path / "run", tmp_path / "cache", train_file=misnamed))
    assert result.exit_code == 2
    assert "squad.jsonl: line 1: not valid JSON" in result.output
    assert "Traceback" not in result.output and "DatasetGenerationError" not in result.output


def _spawn_training(model_dir, out, cache, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "qa_tui", *train_args(model_dir, out, cache, *extra)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _wait_for_checkpoint(out: Path, process, timeout=180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(event["event"] == "checkpoint" for event in events_of(out)):
            return
        assert process.poll() is None, process.stdout.read()
        time.sleep(0.2)
    raise AssertionError("no checkpoint was written in time")


def _stop_with_sigterm(model_dir, out: Path, cache: Path, eval_steps: str) -> int:
    """Start a long run, SIGTERM it after its first checkpoint; returns the step it stopped at."""
    process = _spawn_training(model_dir, out, cache, "--max-steps", "100000", "--save-steps", "2",
                              "--eval-steps", eval_steps)
    _wait_for_checkpoint(out, process)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 130, output
    stopped = [event for event in events_of(out) if event["event"] == "stopped"]
    assert stopped and stopped[-1]["reason"] == "SIGTERM"
    return stopped[-1]["step"]


def test_sigterm_saves_a_checkpoint_and_resume_goes_on(tiny_model_dir, tmp_path):
    out, cache = tmp_path / "run", tmp_path / "cache"
    stopped_step = _stop_with_sigterm(tiny_model_dir, out, cache, eval_steps="0")
    assert latest_good_checkpoint(out).name == f"checkpoint-{stopped_step}"

    result = CliRunner().invoke(
        app, train_args(tiny_model_dir, out, cache, "--resume", "--max-steps", str(stopped_step + 2),
                        "--save-steps", "2", "--eval-steps", "0")
    )
    assert result.exit_code == 0, result.output
    events = events_of(out)
    resumed_logs = [event["step"] for event in events[[e["event"] for e in events].index("stopped"):] if event["event"] == "log"]
    assert resumed_logs and min(resumed_logs) > stopped_step, "resume must go on from the checkpoint, not step 0"
    assert events[-1]["event"] == "end"


def test_resume_to_the_stopped_step_finishes_the_run_without_training(tiny_model_dir, tmp_path):
    """A run stopped early is finished as it stands with `--resume --max-steps <the stopped step>`: no more steps,
    but the best checkpoint, the held-out threshold, the model and its card, as at a normal end."""
    out, cache = tmp_path / "run", tmp_path / "cache"
    stopped_step = _stop_with_sigterm(tiny_model_dir, out, cache, eval_steps="2")
    assert not (out / "qa_tui.json").exists()

    result = CliRunner().invoke(
        app, train_args(tiny_model_dir, out, cache, "--resume", "--max-steps", str(stopped_step), "--save-steps", "2",
                        "--eval-steps", "2")
    )
    assert result.exit_code == 0, result.output
    events = events_of(out)
    after_stop = events[[event["event"] for event in events].index("stopped") + 1:]
    assert not [event for event in after_stop if event["event"] == "log"], "no step may be trained after the stop"
    assert after_stop[-1]["event"] == "end" and after_stop[-1]["train"]["steps"] == stopped_step
    assert "holdout" in json.loads((out / "metrics.json").read_text())
    for name in ("model.safetensors", "qa_tui.json", "README.md"):
        assert (out / name).is_file(), name
    best = json.loads((out / f"checkpoint-{stopped_step}" / "trainer_state.json").read_text())["best_model_checkpoint"]
    final, chosen = load_file(out / "model.safetensors"), load_file(Path(best) / "model.safetensors")
    assert final.keys() == chosen.keys()
    assert all(torch.equal(final[key].float(), chosen[key].float()) for key in final), "the model is the best checkpoint"
    assert f"The model is the best checkpoint on held-out articles: `{best}`" in (out / "README.md").read_text()


def test_resume_saves_at_the_new_interval(tiny_model_dir, tmp_path):
    """The Trainer restores the checkpoint's save interval on resume; this invocation's --save-steps must win."""
    out, cache = tmp_path / "run", tmp_path / "cache"
    first = CliRunner().invoke(
        app, train_args(tiny_model_dir, out, cache, "--max-steps", "4", "--save-steps", "2", "--eval-steps", "0")
    )
    assert first.exit_code == 0, first.output
    resumed = CliRunner().invoke(
        app, train_args(tiny_model_dir, out, cache, "--resume", "--max-steps", "9", "--save-steps", "3",
                        "--eval-steps", "0")
    )
    assert resumed.exit_code == 0, resumed.output
    events = events_of(out)
    second_start = [index for index, event in enumerate(events) if event["event"] == "start"][1]
    saved_after_resume = [event["step"] for event in events[second_start:] if event["event"] == "checkpoint"]
    assert saved_after_resume == [6, 9]


def test_resume_after_sigkill_skips_a_broken_checkpoint(tiny_model_dir, tmp_path):
    out, cache = tmp_path / "run", tmp_path / "cache"
    process = _spawn_training(tiny_model_dir, out, cache, "--max-steps", "100000", "--save-steps", "2",
                              "--eval-steps", "0")
    _wait_for_checkpoint(out, process)
    while len(checkpoints(out)) < 2:
        time.sleep(0.2)
    process.kill()
    process.communicate()
    good = checkpoints(out)
    newest, older = good[0], good[1]
    (newest / "model.safetensors").write_bytes(b"truncated")  # what a kill in the middle of a save leaves
    warnings = []
    assert latest_good_checkpoint(out, warn=warnings.append) == older
    assert str(newest) in warnings[0]
    older_step = int(older.name.split("-")[1])
    result = CliRunner().invoke(
        app, train_args(tiny_model_dir, out, cache, "--resume", "--max-steps", str(older_step + 2),
                        "--save-steps", "100", "--eval-steps", "0")
    )
    assert result.exit_code == 0, result.output
    assert f"skipping {newest}" in result.output


def test_torchrun_two_processes_write_one_model(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
         "-m", "qa_tui", *train_args(tiny_model_dir, out, tmp_path / "cache", "--max-steps", "3",
                                     "--save-steps", "100", "--eval-steps", "0")],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert (out / "model.safetensors").is_file()
    starts = [event for event in events_of(out) if event["event"] == "start"]
    ends = [event for event in events_of(out) if event["event"] == "end"]
    assert len(starts) == 1 and len(ends) == 1, "only the main process writes events"
    assert ends[0]["train"]["steps"] == 3


def test_a_dev_file_without_answerable_questions_is_scored_with_a_warning(tiny_model_dir, tmp_path):
    dev = tmp_path / "dev.jsonl"
    dev.write_text(json.dumps({"id": "u1", "context": "Nothing to see here.", "question": "Who won?", "answers": []}) + "\n")
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, train_args(tiny_model_dir, out, tmp_path / "cache", "--max-steps", "2", "--save-steps", "100",
                        "--eval-steps", "0", "--dev-file", str(dev))
    )
    assert result.exit_code == 0, result.output
    assert "no answerable questions" in result.output
    dev_metrics = json.loads((out / "metrics.json").read_text())["dev"]
    assert dev_metrics["total"] == 1 and dev_metrics["HasAns_total"] == 0 and dev_metrics["NoAns_total"] == 1


def test_training_a_half_precision_model_further_keeps_fp32_master_weights(tiny_model_dir, tmp_path):
    """The bundled model ships in fp16; training it further in fp16 weights would lose AdamW's small updates."""
    import torch
    from safetensors import safe_open
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    half = tmp_path / "half"
    AutoModelForQuestionAnswering.from_pretrained(tiny_model_dir).to(torch.float16).save_pretrained(half)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(half)
    out = tmp_path / "run"
    result = CliRunner().invoke(app, train_args(half, out, tmp_path / "cache", "--max-steps", "2", "--eval-steps", "0"))
    assert result.exit_code == 0, result.output
    with safe_open(str(out / "model.safetensors"), "pt") as saved:
        assert {saved.get_tensor(name).dtype for name in saved.keys()} == {torch.float32}


def test_a_negative_rate_outside_zero_to_one_is_refused_by_name(tiny_model_dir, tmp_path):
    for command, flag in (("train", "--antonym-negatives"), ("prepare", "--negation-negatives"), ("train", "--holdout")):
        args = (
            train_args(tiny_model_dir, tmp_path / "run", tmp_path / "cache", flag, "1.5")
            if command == "train"
            else ["prepare", "--data", str(TRAIN_FILE), "--cache-dir", str(tmp_path / "cache"), flag, "1.5"]
        )
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert f"Invalid value for '{flag}'" in result.output
        assert not (tmp_path / "run").exists() and not (tmp_path / "cache").exists(), "refused before any work"


def selection_file(tmp_path, answerable=True, unanswerable=True) -> Path:
    """A selection set on the fixture's first article (Marie_Curie), its context re-wrapped, so it must be kept out."""
    article = json.loads(TRAIN_FILE.read_text())["data"][0]
    paragraph = article["paragraphs"][0]
    qas = [dict(paragraph["qas"][0], is_impossible=False)] if answerable else []
    if unanswerable:
        qas.append({"id": "sel-u1", "question": "Who was Curie's third husband?", "answers": [], "is_impossible": True})
    data = {"version": "v2.0", "data": [{"title": "Selection article", "paragraphs": [
        {"context": "  " + paragraph["context"].replace(" ", "\n", 3), "qas": qas}]}]}
    path = tmp_path / "selection.json"
    path.write_text(json.dumps(data))
    return path


def test_a_selection_file_picks_the_threshold_and_its_paragraphs_stay_out_of_training(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    args = [arg for arg in train_args(tiny_model_dir, out, tmp_path / "cache", "--max-steps", "4", "--save-steps", "2",
                                      "--eval-steps", "2", "--selection-file", str(selection_file(tmp_path)))]
    args[args.index("--holdout") + 1] = "0"
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    first_paragraph = len(json.loads(TRAIN_FILE.read_text())["data"][0]["paragraphs"][0]["qas"])
    # Matched by context (re-wrapped, under another title): that paragraph's questions, none of the others.
    assert f"kept out of training: 1 paragraphs ({first_paragraph} questions)" in result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert "holdout" not in metrics and metrics["selection"]["total"] == 2
    assert metrics["null_threshold"] == metrics["selection"]["best_balanced_accuracy_thresh"]  # the stated rule
    assert json.loads((out / "qa_tui.json").read_text())["null_threshold"] == metrics["null_threshold"]
    card = (out / "README.md").read_text()
    assert "--selection-file" in card and "Kept out of training as the selection set's: 1 paragraphs" in card
    summary = json.loads(next((tmp_path / "cache").glob("*/summary.json")).read_text())
    assert summary["train_examples"] - summary["train_unanswerable"] == 13 - first_paragraph


def test_a_selection_file_without_one_kind_of_question_or_that_is_trained_on_is_refused(tiny_model_dir, tmp_path):
    def run(*extra, holdout="0"):
        args = train_args(tiny_model_dir, tmp_path / "run", tmp_path / "cache", "--max-steps", "1", *extra)
        args[args.index("--holdout") + 1] = holdout
        return CliRunner().invoke(app, args)

    only_answerable = selection_file(tmp_path, unanswerable=False)
    result = run("--selection-file", str(only_answerable))
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "1 answerable and 0 unanswerable questions" in result.output
    result = run("--selection-file", str(TRAIN_FILE))
    assert result.exit_code == 2 and "is also a --train-file" in result.output
    result = run("--selection-file", str(selection_file(tmp_path)), holdout="0.5")
    assert result.exit_code == 2 and "not both" in result.output
    assert not (tmp_path / "run").exists() and not (tmp_path / "cache").exists(), "refused before any work"


def test_a_dev_file_that_shares_paragraphs_with_training_is_named_in_a_warning(tiny_model_dir, tmp_path):
    result = CliRunner().invoke(
        app, train_args(tiny_model_dir, tmp_path / "run", tmp_path / "cache", "--max-steps", "1", "--eval-steps", "0",
                        "--dev-file", str(TRAIN_FILE))
    )
    assert result.exit_code == 0, result.output
    assert f"warning: {TRAIN_FILE} shares 6 paragraphs (13 questions) with the training files" in result.output


def test_a_model_trained_further_without_a_selection_set_keeps_its_threshold(tiny_model_dir, tmp_path):
    import shutil

    base = Path(shutil.copytree(tiny_model_dir, tmp_path / "base"))
    (base / "qa_tui.json").write_text(json.dumps({"null_threshold": 2.5}))
    out = tmp_path / "run"
    args = train_args(base, out, tmp_path / "cache", "--max-steps", "2")
    at = args.index("--holdout")
    del args[at:at + 2]  # nothing to choose a threshold on
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "qa_tui.json").read_text())["null_threshold"] == 2.5
    assert json.loads((out / "metrics.json").read_text())["null_threshold_from"] == str(base)

    # Chosen for other windows, it does not hold for these: 0, as for an encoder.
    (base / "qa_tui.json").write_text(json.dumps({"null_threshold": 2.5, "max_seq_length": 384}))
    result = CliRunner().invoke(app, args + ["--overwrite-output-dir"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "qa_tui.json").read_text())["null_threshold"] == 0.0


def test_a_run_shorter_than_its_logging_interval_ends_at_its_last_step():
    state = RunState()
    state.apply({"event": "start", "max_steps": 3})
    state.apply({"event": "end", "model_dir": "runs/x", "metrics": {}, "train": {"steps": 3, "epochs": 1.0}})
    assert state.status == "finished" and state.progress == 1.0 and state.epoch == 1.0
