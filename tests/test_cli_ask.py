"""`qa-tui ask` through Typer's test runner: the JSON formats, the table, the JSONL batch, and every bad input.

Typer's CliRunner keeps stdout and stderr apart (`result.stdout`, `result.stderr`; `result.output` mixes them).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qa_tui.cli import app

CONTEXT = "The Eiffel Tower is in Paris. Gustave Eiffel's company built it in 1889 for the World's Fair."
QUESTION = "Who built the tower?"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def context_file(tmp_path):
    path = tmp_path / "context.txt"
    path.write_text(CONTEXT, encoding="utf-8")
    return path


@pytest.fixture
def ask(runner, tiny_model_dir):
    """Run `qa-tui ask ARGS` with the tiny model (unless `model=None`) on the CPU."""

    def run(*args, model=str(tiny_model_dir), stdin=None):
        extra = ["--model", model] if model is not None else []
        return runner.invoke(app, ["ask", *map(str, args), *extra, "--device", "cpu"], input=stdin)

    return run


def assert_one_line_error(result, *fragments, code=2):
    """Exit `code`, exactly one line on stderr naming every fragment, nothing on stdout, no traceback."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in result.output
    assert result.stdout == ""
    return lines[0]


ANSWER_KEYS = ["question", "answers", "no_answer", "is_impossible", "model", "device"]
SPAN_KEYS = ["text", "start", "end", "score", "probability"]


def check_answer_record(record: dict, question: str, context: str, top_k: int, model: str):
    assert list(record)[-len(ANSWER_KEYS) :] == ANSWER_KEYS
    assert record["question"] == question
    assert record["model"] == model and record["device"] == "cpu"
    assert isinstance(record["is_impossible"], bool)
    assert set(record["no_answer"]) == {"score", "probability"}
    assert 1 <= len(record["answers"]) <= top_k
    for span in record["answers"]:
        assert list(span) == SPAN_KEYS
        assert context[span["start"] : span["end"]] == span["text"]
        assert isinstance(span["start"], int) and isinstance(span["end"], int)
        assert isinstance(span["score"], float) and 0.0 <= span["probability"] <= 1.0
    scores = [span["score"] for span in record["answers"]]
    assert scores == sorted(scores, reverse=True)


# --- output formats ---------------------------------------------------------------------------------------------


def test_ask_json(ask, context_file, tiny_model_dir):
    result = ask("--question", QUESTION, "--context", context_file, "--json", "--top-k", 3)
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert list(record) == ANSWER_KEYS
    check_answer_record(record, QUESTION, CONTEXT, 3, str(tiny_model_dir))
    assert len(record["answers"]) == 3
    assert result.stderr == ""


def test_ask_json_from_stdin(ask, tiny_model_dir):
    result = ask("-q", QUESTION, "-c", "-", "--json", stdin=CONTEXT)
    assert result.exit_code == 0, result.output
    check_answer_record(json.loads(result.stdout), QUESTION, CONTEXT, 5, str(tiny_model_dir))


def test_ask_null_threshold_flag(ask, context_file):
    always = json.loads(ask("-q", QUESTION, "-c", context_file, "--json", "--null-threshold", "-1e9").stdout)
    never = json.loads(ask("-q", QUESTION, "-c", context_file, "--json", "--null-threshold", "1e9").stdout)
    assert always["is_impossible"] is True and never["is_impossible"] is False


def test_ask_table(ask, context_file, tiny_model_dir):
    result = ask("-q", QUESTION, "-c", context_file, "-k", 2)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"Q: {QUESTION}" in out
    assert "<no answer>" in out
    assert "score" in out and "prob" in out
    assert str(tiny_model_dir) in out.replace("\n", "") or tiny_model_dir.name in out
    assert "cpu" in out
    assert ("answer: " in out) or ("no answer in this context" in out)
    rows = [line for line in out.splitlines() if line.startswith("│ ")]
    assert [row.split("│")[1].strip() for row in rows] == ["1", "2", "-"]


def write_jsonl(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_questions_jsonl_batch(ask, tmp_path, tiny_model_dir):
    contexts = [CONTEXT, "Marie Curie won two Nobel prizes.", "Rivers flow to the sea. " * 200]
    records = [
        {"id": "q-a", "question": "Who built it?", "context": contexts[0]},
        {"question": "How many prizes?", "context": contexts[1]},  # no id: null
        {"id": 7, "question": "Where do rivers flow?", "context": contexts[2]},
        {"id": "q-d", "question": "When was it built?", "context": contexts[0]},
    ]
    path = write_jsonl(tmp_path / "questions.jsonl", [json.dumps(record) for record in records[:2]] + [""] + [json.dumps(record) for record in records[2:]])
    result = ask("--questions", path, "--top-k", 2)
    assert result.exit_code == 0, result.output
    out_lines = result.stdout.splitlines()
    assert len(out_lines) == 4
    for record, line in zip(records, out_lines):
        answer = json.loads(line)
        assert answer["id"] == record.get("id")
        assert list(answer) == ["id", *ANSWER_KEYS]
        check_answer_record(answer, record["question"], record["context"], 2, str(tiny_model_dir))
    assert "Traceback" not in result.stderr


def test_progress_bar_goes_to_stderr_only(ask, tmp_path, monkeypatch):
    from rich.console import Console

    import qa_tui.cli as cli

    # a terminal on stderr (as in real use), so that the bar is drawn
    monkeypatch.setattr(cli, "err_console", Console(stderr=True, force_terminal=True, width=100))
    lines = [json.dumps({"id": i, "question": QUESTION, "context": CONTEXT}) for i in range(5)]
    result = ask("--questions", write_jsonl(tmp_path / "q.jsonl", lines))
    assert result.exit_code == 0, result.output
    assert "answering" in result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == list(range(5))


# --- bad input: one line on stderr, exit 2 ----------------------------------------------------------------------


def test_missing_context_file(ask, tmp_path):
    assert_one_line_error(ask("-q", QUESTION, "-c", tmp_path / "nope.txt"), "nope.txt", "no such file")


def test_context_is_a_directory(ask, tmp_path):
    assert_one_line_error(ask("-q", QUESTION, "-c", tmp_path), "is a directory")


@pytest.mark.parametrize("text", ["", "   \n\t\n  "])
def test_empty_context(ask, tmp_path, text):
    path = tmp_path / "empty.txt"
    path.write_text(text)
    assert_one_line_error(ask("-q", QUESTION, "-c", path), "context is empty")


def test_empty_context_on_stdin(ask):
    assert_one_line_error(ask("-q", QUESTION, "-c", "-", stdin="  \n"), "<stdin>", "context is empty")


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question(ask, context_file, question):
    assert_one_line_error(ask("-q", question, "-c", context_file), "question is empty")


def test_not_utf8_then_encoding_flag(ask, tmp_path):
    path = tmp_path / "latin1.txt"
    context = "Le café crème est servi à Zürich. Gustave Eiffel a construit la tour."
    path.write_bytes(context.encode("latin-1"))
    line = assert_one_line_error(ask("-q", "Qui a construit la tour?", "-c", path), "latin1.txt", "utf-8", "--encoding")
    assert "byte" in line
    result = ask("-q", "Qui a construit la tour?", "-c", path, "--encoding", "latin-1", "--json")
    assert result.exit_code == 0, result.output
    for span in json.loads(result.stdout)["answers"]:
        assert context[span["start"] : span["end"]] == span["text"]


def test_unknown_encoding(ask, context_file):
    assert_one_line_error(ask("-q", QUESTION, "-c", context_file, "--encoding", "klingon-8"), "--encoding", "klingon-8")


def test_binary_file(ask, tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(bytes(range(256)) * 64)
    assert_one_line_error(ask("-q", QUESTION, "-c", path), "model.bin", "binary")


def test_bad_jsonl_lines_are_named_and_the_others_answered(ask, tmp_path):
    good = json.dumps({"id": "good-1", "question": QUESTION, "context": CONTEXT})
    lines = [
        good,
        "{this is not json",
        json.dumps({"id": "no-context", "question": QUESTION}),
        json.dumps({"id": "no-question", "context": CONTEXT}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "empty-q", "question": " ", "context": CONTEXT}),
        json.dumps({"id": "good-2", "question": "When?", "context": CONTEXT}),
    ]
    path = write_jsonl(tmp_path / "batch.jsonl", lines)
    result = ask("--questions", path)
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == len(lines)  # one output line per input line, in order
    assert [record["id"] for record in out] == ["good-1", None, "no-context", "no-question", None, "empty-q", "good-2"]
    assert "answers" in out[0] and "answers" in out[6]
    for number, record in enumerate(out[1:6], start=2):
        assert record["line"] == number and record["error"]
    err = result.stderr.strip().splitlines()
    for number in range(2, 7):
        assert any(f"batch.jsonl:{number}:" in line for line in err), (number, err)
    assert "not JSON" in err[0]
    assert "'context'" in err[1] and "'question'" in err[2]
    assert err[-1].startswith("error: ") and "5 line(s)" in err[-1]
    assert len(err) == 6


def test_questions_file_missing_or_empty(ask, tmp_path):
    assert_one_line_error(ask("--questions", tmp_path / "none.jsonl"), "none.jsonl", "no such file")
    blank = write_jsonl(tmp_path / "blank.jsonl", ["", "  "])
    assert_one_line_error(ask("--questions", blank), "no questions")


def test_model_path_that_does_not_exist(ask, context_file, tmp_path):
    missing = tmp_path / "no-such-model"
    assert_one_line_error(ask("-q", QUESTION, "-c", context_file, model=str(missing)), str(missing), "no such directory")


def test_model_name_that_is_neither_a_directory_nor_reachable(ask, context_file, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert_one_line_error(ask("-q", QUESTION, "-c", context_file, model="no-such-model-xyz"), "no-such-model-xyz", "no such directory")


def test_model_directory_without_config(ask, context_file, tmp_path):
    assert_one_line_error(ask("-q", QUESTION, "-c", context_file, model=str(tmp_path)), "config.json")


def test_model_without_a_qa_head(ask, context_file, tmp_path):
    from transformers import AutoTokenizer, BertConfig, BertModel

    from qa_tui.engine.model_files import base_encoder_path

    tokenizer = AutoTokenizer.from_pretrained(base_encoder_path())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    plain = tmp_path / "plain-encoder"
    BertModel(config).save_pretrained(plain)
    tokenizer.save_pretrained(plain)
    assert_one_line_error(ask("-q", QUESTION, "-c", context_file, model=str(plain)), "no question-answering head", "qa_outputs")


@pytest.mark.parametrize("top_k", ["0", "-3"])
def test_top_k_must_be_positive(ask, context_file, top_k):
    assert_one_line_error(ask("-q", QUESTION, "-c", context_file, "--top-k", top_k), "--top-k")


def test_no_bundled_model(ask, context_file, tmp_path, monkeypatch):
    import qa_tui.engine.model_files as model_files

    empty = tmp_path / "no-default-model"
    empty.mkdir()
    monkeypatch.setattr(model_files, "DEFAULT_MODEL_DIR", empty)
    assert_one_line_error(ask("-q", QUESTION, "-c", context_file, model=None), "no bundled QA model", "--model")


def test_question_and_context_are_needed(ask, context_file, tmp_path):
    assert_one_line_error(ask("-q", QUESTION), "--context")
    assert_one_line_error(ask("-c", context_file), "--question")
    jsonl = write_jsonl(tmp_path / "q.jsonl", [json.dumps({"question": QUESTION, "context": CONTEXT})])
    assert_one_line_error(ask("--questions", jsonl, "-q", QUESTION), "--questions")


def test_device_and_precision_errors(runner, context_file, tiny_model_dir):
    base = ["ask", "-q", QUESTION, "-c", str(context_file), "-m", str(tiny_model_dir)]
    assert_one_line_error(runner.invoke(app, [*base, "--device", "cpu", "--precision", "fp16"]), "fp16")
    assert_one_line_error(runner.invoke(app, [*base, "--device", "cpu", "--precision", "fp64"]), "--precision")
    assert_one_line_error(runner.invoke(app, [*base, "--device", "quantum"]), "--device")


def test_window_and_batch_options_are_checked(ask, context_file):
    assert_one_line_error(ask("-q", QUESTION, "-c", context_file, "--doc-stride", "500"), "--doc-stride")
    assert_one_line_error(ask("-q", QUESTION, "-c", context_file, "--batch-size", "0"), "--batch-size")
