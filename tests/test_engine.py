"""The engine end to end on the tiny random QA model; device and precision selection."""

from __future__ import annotations

import random
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from qa_tui.engine import QAEngine, WindowSettings
from qa_tui.engine import device as device_module
from qa_tui.engine.device import autocast, pick_device, pick_precision
from qa_tui.engine.model_files import write_model_settings
from qa_tui.engine.windows import tokenize_windows
from qa_tui.errors import UserError

WORDS = (
    "the of and river city was built in 1889 by Gustave Eiffel museum Paris London north king war "
    "Zoë's café naïve — (Brazil) São Paulo 9:30, e.g. U.S.A. 3.14 «quoted» 東京 tower"
).split()


def make_pairs(n: int, seed: int = 0, max_words: int = 700) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    pairs = []
    for i in range(n):
        question = f"Q{i}: who built the {rng.choice(WORDS)} {rng.choice(WORDS)}?"
        separators = [" ", "  ", "\n", "\t", " \n\n "]
        context = "".join(rng.choice(WORDS) + rng.choice(separators) for _ in range(rng.randint(3, max_words)))
        pairs.append((question, context))
    return pairs


def assert_same_answer(a, b, tolerance=1e-4):
    """Equal up to float noise (padding to another batch width changes the last bits of the logits)."""
    assert a.question == b.question
    assert a.is_impossible == b.is_impossible
    assert a.no_answer.score == pytest.approx(b.no_answer.score, abs=tolerance)
    assert [(s.text, s.start, s.end) for s in a.answers] == [(s.text, s.start, s.end) for s in b.answers]
    assert [s.score for s in a.answers] == pytest.approx([s.score for s in b.answers], abs=tolerance)
    assert [s.probability for s in a.answers] == pytest.approx([s.probability for s in b.answers], abs=tolerance)


def assert_spans_are_slices(answer, context):
    assert answer.answers, "the tiny model always has some candidate span"
    for span in answer.answers:
        assert 0 <= span.start < span.end <= len(context)
        assert context[span.start : span.end] == span.text
        assert span.text == span.text.strip()
        assert 0.0 <= span.probability <= 1.0
    scores = [span.score for span in answer.answers]
    assert scores == sorted(scores, reverse=True)


def test_every_span_is_the_exact_slice_of_its_context(tiny_engine):
    pairs = make_pairs(24, seed=1)
    answers = tiny_engine.answer_batch(pairs, top_k=20)
    assert len(answers) == len(pairs)
    for (question, context), answer in zip(pairs, answers):
        assert answer.question == question
        assert 1 <= len(answer.answers) <= 20
        assert_spans_are_slices(answer, context)


def test_batch_keeps_input_order_and_matches_one_by_one(tiny_engine):
    pairs = make_pairs(16, seed=2, max_words=450)  # mixed lengths: length sorting reorders the windows internally
    batched = tiny_engine.answer_batch(pairs, top_k=5)
    for (question, context), answer in zip(pairs, batched):
        assert_same_answer(answer, tiny_engine.answer(question, context, top_k=5))


def test_batch_order_survives_chunks_and_small_forward_batches(tiny_model_dir, monkeypatch):
    engine = QAEngine.load(str(tiny_model_dir), device="cpu", precision="fp32", batch_size=3)
    monkeypatch.setattr(engine, "CHUNK", 7)
    pairs = make_pairs(17, seed=3, max_words=300)
    seen = []
    answers = engine.answer_batch(pairs, progress=seen.append)
    assert sum(seen) == len(pairs) and len(seen) == 3
    for (question, context), answer in zip(pairs, answers):
        assert_same_answer(answer, engine.answer(question, context))


def test_concurrent_calls_from_threads_match_sequential(tiny_engine):
    pairs = make_pairs(16, seed=4, max_words=400)
    sequential = [tiny_engine.answer(question, context) for question, context in pairs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda pair: tiny_engine.answer(*pair), pairs))
        batches = list(pool.map(lambda i: tiny_engine.answer_batch(pairs[i : i + 4]), range(0, 16, 4)))
    for expected, got in zip(sequential, concurrent):
        assert_same_answer(expected, got)
    for expected, got in zip(sequential, [answer for batch in batches for answer in batch]):
        assert_same_answer(expected, got)


def test_a_one_megabyte_context_works(tiny_engine, monkeypatch):
    import qa_tui.engine.engine as engine_module

    rng = random.Random(5)
    parts, size = [], 0
    while size < 1_000_000:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 25))) + ". "
        parts.append(sentence)
        size += len(sentence)
    context = "".join(parts) + "The answer is at the very end: Ultima Thule."
    assert len(context) >= 1_000_000
    encodings = []

    def spy(*args, **kwargs):
        encodings.append(tokenize_windows(*args, **kwargs))
        return encodings[-1]

    monkeypatch.setattr(engine_module, "tokenize_windows", spy)
    answer = tiny_engine.answer("Where is the answer?", context, top_k=10)
    assert_spans_are_slices(answer, context)
    # the windows cover the context to its last character
    (encoding,) = encodings
    assert len(encoding["input_ids"]) > 1000
    assert max(end for _, end in encoding["offset_mapping"][-1]) == len(context)


def test_long_question_is_cut_and_still_answered(tiny_engine):
    question = "why " * 500 + "?"
    context = "Because the river flows north. " * 60
    answer = tiny_engine.answer(question, context)
    assert answer.question == question
    assert_spans_are_slices(answer, context)


def test_bad_arguments_are_user_errors(tiny_engine):
    with pytest.raises(UserError, match="top-k"):
        tiny_engine.answer("q?", "some context", top_k=0)
    with pytest.raises(UserError, match="question is empty"):
        tiny_engine.answer("  \n", "some context")
    with pytest.raises(UserError, match="context is empty"):
        tiny_engine.answer("q?", " \t\n ")
    assert tiny_engine.answer_batch([]) == []


def test_null_threshold_comes_from_the_model_dir_unless_overridden(tiny_model_dir, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    assert QAEngine.load(str(model_dir), device="cpu").null_threshold == 0.0  # no qa_tui.json: 0
    write_model_settings(model_dir, {"null_threshold": 1e6})
    engine = QAEngine.load(str(model_dir), device="cpu")
    assert engine.null_threshold == 1e6
    assert not engine.answer("Who?", "Gustave Eiffel built it.").is_impossible
    overridden = QAEngine.load(str(model_dir), device="cpu", null_threshold=-1e6)
    assert overridden.null_threshold == -1e6
    assert overridden.answer("Who?", "Gustave Eiffel built it.").is_impossible
    zero = QAEngine.load(str(model_dir), device="cpu", null_threshold=0.0)  # 0 is an override too
    assert zero.null_threshold == 0.0


def test_windows_come_from_the_model_dir_unless_given(tiny_model_dir, tmp_path):
    """A threshold chosen on 256-token windows is only right for 256-token windows: use the model's own."""
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    assert QAEngine.load(str(model_dir), device="cpu").windows == WindowSettings()  # no qa_tui.json: 384 / 128
    write_model_settings(model_dir, {"null_threshold": 1.5, "max_seq_length": 256, "doc_stride": 96})
    assert QAEngine.load(str(model_dir), device="cpu").windows == WindowSettings(256, 96)
    given = QAEngine.load(str(model_dir), device="cpu", max_seq_length=200, doc_stride=0)
    assert given.windows == WindowSettings(200, 0)
    assert QAEngine.load(str(model_dir), device="cpu", doc_stride=64).windows == WindowSettings(256, 64)
    write_model_settings(model_dir, {"max_seq_length": 96, "doc_stride": 32, "max_query_length": 24})
    assert QAEngine.load(str(model_dir), device="cpu").windows == WindowSettings(96, 32, 24)


def test_a_broken_settings_file_is_a_user_error(tiny_model_dir, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    (model_dir / "qa_tui.json").write_text("{not json")
    with pytest.raises(UserError, match="qa_tui.json"):
        QAEngine.load(str(model_dir), device="cpu")


def test_window_settings_are_checked(tiny_model_dir):
    with pytest.raises(UserError, match="doc-stride"):
        QAEngine.load(str(tiny_model_dir), device="cpu", windows=WindowSettings(max_seq_length=128, doc_stride=100))
    with pytest.raises(UserError, match="max-seq-length"):
        WindowSettings(max_seq_length=60).check()


def test_batch_size_default_and_check(tiny_model_dir):
    from qa_tui.engine.engine import default_batch_size

    assert QAEngine.load(str(tiny_model_dir), device="cpu").batch_size == default_batch_size("cpu") == 8
    assert default_batch_size(torch.device("cpu")) == 8
    assert default_batch_size("cuda:1") == default_batch_size(torch.device("cuda")) == 32
    assert QAEngine.load(str(tiny_model_dir), device="cpu", batch_size=5).batch_size == 5
    with pytest.raises(UserError, match="--batch-size"):
        QAEngine.load(str(tiny_model_dir), device="cpu", batch_size=0)


def test_describe(tiny_engine, tiny_model_dir):
    assert tiny_engine.describe() == {
        "model": str(tiny_model_dir), "device": "cpu", "runtime": "torch", "precision": "fp32", "max_seq_length": 384,
        "doc_stride": 128,
    }


# --- device and precision -------------------------------------------------------------------------------------


def test_pick_device():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("CPU") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert pick_device("auto").type == expected
    assert pick_device(None).type == expected
    with pytest.raises(UserError, match="not a device"):
        pick_device("tpu9")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_pick_device_refuses_a_missing_gpu():
    with pytest.raises(UserError, match="no CUDA GPU"):
        pick_device("cuda")
    with pytest.raises(UserError, match="no CUDA GPU"):
        pick_device("cuda:1")


def test_cpu_description_says_how_many_cores_and_whether_bf16_is_native(monkeypatch):
    import os

    monkeypatch.setattr(device_module, "cpu_has_bf16", lambda: True)
    assert device_module.cpu_description().endswith(f"({os.cpu_count()} cores, native bf16)")
    monkeypatch.setattr(device_module, "cpu_has_bf16", lambda: False)
    assert device_module.cpu_description().endswith(f"({os.cpu_count()} cores, no native bf16)")


def test_pick_precision_on_cpu(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setattr(device_module, "cpu_has_bf16", lambda: False)
    assert pick_precision(cpu) == "fp32"
    assert pick_precision(cpu, "auto") == "fp32"
    monkeypatch.setattr(device_module, "cpu_has_bf16", lambda: True)
    assert pick_precision(cpu) == "bf16"
    # explicit choices win over detection
    assert pick_precision(cpu, "fp32") == "fp32"
    assert pick_precision(cpu, "BF16") == "bf16"
    with pytest.raises(UserError, match="fp16 needs a GPU"):
        pick_precision(cpu, "fp16")
    with pytest.raises(UserError, match="choose one of"):
        pick_precision(cpu, "int4")
    # int8 is asked for, never picked, and only for answering on the CPU
    assert pick_precision(cpu, "int8") == "int8"
    with pytest.raises(UserError, match="answering on the CPU only"):
        pick_precision(cpu, "int8", training=True)
    with pytest.raises(UserError, match="answering on the CPU only"):
        pick_precision(torch.device("cuda"), "int8")


def test_pick_precision_on_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    assert pick_precision(torch.device("cuda")) == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    assert pick_precision(torch.device("cuda")) == "fp16"
    assert pick_precision(torch.device("cuda"), "fp16") == "fp16"
    assert pick_precision(torch.device("mps")) == "fp32"


def test_cpu_bf16_detection_reads_cpuinfo():
    device_module.cpu_has_bf16.cache_clear()
    flags = open("/proc/cpuinfo").read() if __import__("os").path.exists("/proc/cpuinfo") else ""
    assert device_module.cpu_has_bf16() == ("avx512_bf16" in flags or "amx_bf16" in flags)


def test_autocast_is_a_no_op_in_fp32():
    with autocast(torch.device("cpu"), "fp32"):
        assert not torch.is_autocast_enabled("cpu")
    with autocast(torch.device("cpu"), "bf16"):
        assert torch.is_autocast_enabled("cpu")


def test_the_engine_runs_under_bf16_autocast(tiny_model_dir):
    engine = QAEngine.load(str(tiny_model_dir), device="cpu", precision="bf16")
    context = "Gustave Eiffel built the tower in 1889."
    assert engine.precision == "bf16"
    assert_spans_are_slices(engine.answer("Who built it?", context), context)


def test_int8_engine_quantizes_the_linear_layers_and_answers_like_fp32(tiny_model_dir):
    """Dynamic int8 changes the numbers a little, not the contract: exact context slices, the same best span."""
    fp32 = QAEngine.load(str(tiny_model_dir), device="cpu", precision="fp32")
    int8 = QAEngine.load(str(tiny_model_dir), device="cpu", precision="int8", runtime="torch")
    def linear_kinds(engine):
        return {type(m).__module__ for m in engine.runner.model.modules() if type(m).__name__ == "Linear"}

    assert linear_kinds(fp32) == {"torch.nn.modules.linear"}
    assert linear_kinds(int8) == {"torch.ao.nn.quantized.dynamic.modules.linear"}
    context = "The river Thames flows through London. It is 346 kilometres long and reaches the North Sea."
    expected, got = fp32.answer("How long is the Thames?", context), int8.answer("How long is the Thames?", context)
    for span in got.answers:
        assert context[span.start : span.end] == span.text
    assert got.answers[0].text == expected.answers[0].text
    assert got.answers[0].score == pytest.approx(expected.answers[0].score, abs=0.05)
    assert int8.describe()["precision"] == "int8"
