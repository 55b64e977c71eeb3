"""`--runtime onnx`: the ONNX export against the PyTorch model it came from, its cache, and choosing the runtime.

Every test works on its own copy of the tiny model (the exports go beside it) and on a per-user cache folder in
tmp, so nothing is written outside pytest's temporary folders.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from qa_tui.cli import app
from qa_tui.engine import QAEngine, WindowSettings
from qa_tui.engine import device as device_module
from qa_tui.engine import engine as engine_module
from qa_tui.engine import export_cache, onnx_runtime
from qa_tui.engine.device import pick_precision, pick_runtime
from qa_tui.engine.windows import tokenize_windows
from qa_tui.errors import UserError
from qa_tui.tui.app import QAWorkbenchApp, default_engine_factory
from qa_tui.tui.state import Settings

from conftest import async_test
from pilot_helpers import parts, settle
from test_cli_ask import assert_one_line_error
from test_engine import assert_same_answer
from test_tui import plain

# Windows small enough for the long contexts to make several, of several lengths, so that batches pad.
WINDOWS = WindowSettings(max_seq_length=128, doc_stride=32, max_query_length=32)
TOWER = "Gustave Eiffel's company built the tower in 1889 for the World's Fair in Paris."
RIVER = (
    "The river rises in the northern hills, runs past the old mill and the market town, and reaches the sea after "
    "a long journey through farmland, forests and three large cities built on its banks. "
) * 6
PAIRS = [
    ("Who built the tower?", TOWER),
    ("Where does the river reach the sea?", RIVER),
    ("When?", RIVER[:400]),
    ("Why is the sky blue on a clear day in the northern hills?", RIVER[200:900]),
]


def copy_model(source, destination):
    return shutil.copytree(source, destination, ignore=shutil.ignore_patterns(export_cache.SUBFOLDER))


def load(model_dir, runtime="onnx", precision="fp32"):
    return QAEngine.load(str(model_dir), device="cpu", runtime=runtime, precision=precision, windows=WINDOWS,
                         batch_size=3)


@pytest.fixture(autouse=True)
def user_cache(tmp_path, monkeypatch):
    root = tmp_path / "user-cache"
    monkeypatch.setattr(export_cache, "user_cache_root", lambda: root)
    return root


@pytest.fixture
def exports(monkeypatch):
    """The model folders each export was written into, in order (the real export runs)."""
    made = []
    real_export = onnx_runtime.export_model

    def counted(model, tokenizer, folder):
        made.append(folder.parent)
        real_export(model, tokenizer, folder)

    monkeypatch.setattr(onnx_runtime, "export_model", counted)
    return made


@pytest.fixture(scope="module")
def exported_model(tiny_model_dir, tmp_path_factory):
    """A copy of the tiny model with its fp32 and int8 exports beside it (made once for the module)."""
    model_dir = copy_model(tiny_model_dir, tmp_path_factory.mktemp("onnx") / "model")
    load(model_dir, precision="int8")
    return model_dir


@pytest.fixture(scope="module")
def torch_engine(exported_model):
    return load(exported_model, runtime="torch")


@pytest.fixture(scope="module")
def onnx_engine(exported_model):
    return load(exported_model)


def window_logits(engine):
    """Start and end logits of every window of PAIRS, unpadded, as the engine computes them."""
    encoding = tokenize_windows(engine.tokenizer, [q for q, _ in PAIRS], [c for _, c in PAIRS], engine.windows)
    starts, ends = engine._forward(encoding)
    return np.concatenate(starts + ends)


# --- the export answers like the model -----------------------------------------------------------------------


def test_fp32_logits_match_the_pytorch_model_on_real_windows(torch_engine, onnx_engine):
    encoding = tokenize_windows(onnx_engine.tokenizer, [q for q, _ in PAIRS], [c for _, c in PAIRS], WINDOWS)
    assert len({len(ids) for ids in encoding["input_ids"]}) >= 3  # batches of several widths: padding is tested
    expected, got = window_logits(torch_engine), window_logits(onnx_engine)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_fp32_answers_equal_the_pytorch_engine_s(torch_engine, onnx_engine):
    for expected, got in zip(torch_engine.answer_batch(PAIRS), onnx_engine.answer_batch(PAIRS)):
        assert_same_answer(got, expected, tolerance=1e-4)
    assert onnx_engine.describe()["runtime"] == "onnx" and onnx_engine.describe()["precision"] == "fp32"
    assert torch_engine.describe()["runtime"] == "torch"


def test_the_fp32_export_is_fused_and_int8_is_quantized(exported_model):
    """What makes it fast: one Attention node per layer (ORT's BERT fusions took); int8 matrix products."""
    import onnx

    def op_types(variant):
        graph = onnx.load(str(exported_model / export_cache.SUBFOLDER / variant / onnx_runtime.MODEL_FILE)).graph
        return [node.op_type for node in graph.node]

    layers = json.loads((exported_model / "config.json").read_text())["num_hidden_layers"]
    assert op_types("fp32").count("Attention") == layers
    assert {"MatMulInteger", "QAttention"} <= set(op_types("int8"))


def test_int8_follows_fp32_closely(torch_engine, exported_model):
    int8 = load(exported_model, precision="int8")
    assert int8.describe()["precision"] == "int8"
    correlation = np.corrcoef(window_logits(torch_engine), window_logits(int8))[0, 1]
    assert correlation > 0.99  # 0.9999 on the tiny model
    for (question, context), expected, got in zip(PAIRS, torch_engine.answer_batch(PAIRS), int8.answer_batch(PAIRS)):
        assert all(context[span.start : span.end] == span.text for span in got.answers)
        best = (expected.answers[0].start, expected.answers[0].end)
        assert best in {(span.start, span.end) for span in got.answers}


# --- the cache ------------------------------------------------------------------------------------------------


def test_a_second_load_reuses_the_export_without_the_pytorch_model(tiny_model_dir, tmp_path, exports, monkeypatch):
    model_dir = copy_model(tiny_model_dir, tmp_path / "model")
    load(model_dir)
    assert exports == [model_dir / export_cache.SUBFOLDER]

    def no_pytorch(*args, **kwargs):
        raise AssertionError("a cached export needs no PyTorch model")

    monkeypatch.setattr(engine_module, "load_qa_model", no_pytorch)
    assert load(model_dir).answer(*PAIRS[0]).answers
    assert len(exports) == 1


def test_int8_reuses_a_cached_fp32_export(exported_model, tmp_path, exports):
    model_dir = shutil.copytree(exported_model, tmp_path / "model")  # with its exports, and their times
    shutil.rmtree(model_dir / export_cache.SUBFOLDER / "int8")
    load(model_dir, precision="int8")
    assert exports == []
    assert (model_dir / export_cache.SUBFOLDER / "int8" / onnx_runtime.MODEL_FILE).is_file()


def test_a_changed_model_file_is_exported_again(tiny_model_dir, tmp_path, exports):
    model_dir = copy_model(tiny_model_dir, tmp_path / "model")
    load(model_dir)
    weights = model_dir / "model.safetensors"
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # rewritten, say by training
    load(model_dir)
    assert len(exports) == 2
    key = json.loads((model_dir / export_cache.SUBFOLDER / "fp32" / export_cache.KEY_FILE).read_text())
    assert key["files"]["model.safetensors"] == [stat.st_size, stat.st_mtime_ns + 1_000_000_000]
    assert set(key["files"]) == {"config.json", "model.safetensors"}  # the tokenizer files do not make the export
    load(model_dir)
    assert len(exports) == 2


def test_a_corrupt_export_is_rebuilt(tiny_model_dir, tmp_path, exports):
    model_dir = copy_model(tiny_model_dir, tmp_path / "model")
    load(model_dir)
    exported = model_dir / export_cache.SUBFOLDER / "fp32" / onnx_runtime.MODEL_FILE
    exported.write_bytes(exported.read_bytes()[:1000])  # cut short, its key intact
    engine = load(model_dir)
    assert len(exports) == 2
    assert engine.answer(*PAIRS[0]).answers
    assert not [path.name for path in exported.parent.parent.iterdir() if path.name.startswith(".")]  # no leftovers


def test_an_unwritable_model_folder_exports_to_the_user_cache(tiny_model_dir, tmp_path, exports, user_cache,
                                                             monkeypatch):
    model_dir = copy_model(tiny_model_dir, tmp_path / "model")
    monkeypatch.setattr(export_cache, "can_write", lambda directory: False)  # tests run as root: chmod would not do
    load(model_dir)
    load(model_dir)
    assert exports == [export_cache.user_cache_folder(model_dir)]
    assert exports[0].parent == user_cache and exports[0].name.startswith("model-")
    assert not (model_dir / export_cache.SUBFOLDER).exists()


def test_an_export_beside_a_read_only_model_is_used(exported_model, exports, monkeypatch):
    monkeypatch.setattr(export_cache, "can_write", lambda directory: False)
    load(exported_model)
    assert exports == []


def test_bundled_and_hub_models_keep_their_exports_in_the_user_cache(tmp_path, monkeypatch):
    from transformers import utils as transformers_utils

    from qa_tui.engine.model_files import DEFAULT_MODEL_DIR

    assert onnx_runtime.model_folder(str(DEFAULT_MODEL_DIR)) == (DEFAULT_MODEL_DIR, False)
    snapshot = tmp_path / "snapshots" / "0123abc"
    monkeypatch.setattr(transformers_utils, "cached_file", lambda name, file: str(snapshot / file))
    assert onnx_runtime.model_folder("org/some-model") == (snapshot, False)
    assert onnx_runtime.model_folder(str(tmp_path)) == (tmp_path, True)


# --- choosing the runtime, and what goes wrong -------------------------------------------------------------------


def test_runtime_choice(monkeypatch):
    assert pick_runtime("auto", "cpu") == ("onnx", "cpu")  # device.AUTO_RUNTIME_ON_CPU, as the benchmark chose
    assert pick_runtime("auto", "cpu", "int8") == ("onnx", "cpu")
    assert pick_runtime("auto", "cpu", "bf16") == ("torch", "cpu")  # a precision only torch runs
    assert pick_runtime("auto", "cpu", "fp32") == ("torch", "cpu")
    assert pick_runtime("ONNX", "auto") == ("onnx", "cpu")  # onnx runs on the CPU: auto means the CPU for it
    assert pick_runtime("torch", "cpu") == ("torch", "cpu")
    with pytest.raises(UserError, match="choose one of auto, torch, onnx"):
        pick_runtime("tensorrt")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises(UserError, match="--runtime onnx runs on the CPU only"):
        pick_runtime("onnx", "cuda")
    # Auto is still torch on a GPU and without onnxruntime.
    assert pick_runtime("auto", "cuda")[0] == "torch"
    assert pick_runtime("auto", "auto") == ("torch", "auto")  # torch is imported here, so it is asked: a GPU
    monkeypatch.setattr(device_module, "onnxruntime_installed", lambda: False)
    assert pick_runtime("auto", "cpu") == ("torch", "cpu")


CPU_BUILD = """__version__ = '2.13.0+cpu'
cuda: Optional[str] = None
hip: Optional[str] = None
rocm: Optional[str] = None
"""


def test_a_cpu_only_torch_build_is_known_from_its_version_file():
    assert not device_module.builds_for_a_gpu(CPU_BUILD)
    assert device_module.builds_for_a_gpu(CPU_BUILD.replace("cuda: Optional[str] = None", "cuda: Optional[str] = '12.8'"))
    assert device_module.builds_for_a_gpu(CPU_BUILD.replace("hip: Optional[str] = None", "hip: Optional[str] = '6.4'"))
    assert device_module.builds_for_a_gpu("__version__ = '3.0'\n")  # a layout it does not know: ask torch
    installed = (Path(torch.__file__).parent / "version.py").read_text(encoding="utf-8")
    assert device_module.builds_for_a_gpu(installed) == bool(torch.version.cuda or torch.version.hip)


ANSWER_AND_REPORT_IMPORTS = (
    "import sys, json\n"
    "from qa_tui.engine import QAEngine\n"
    "from qa_tui.engine.device import torch_may_see_a_gpu\n"
    "may_see_a_gpu = torch_may_see_a_gpu()\n"
    "engine = QAEngine.load(sys.argv[1], device=sys.argv[2], runtime='auto')\n"
    "answer = engine.answer('Who built the tower?', sys.argv[3])\n"
    "print(json.dumps({'may_see_a_gpu': may_see_a_gpu, 'runtime': engine.runtime, 'precision': engine.precision,\n"
    "                  'answered': bool(answer.answers), 'torch': 'torch' in sys.modules, 'onnx': 'onnx' in sys.modules}))\n"
)


def answer_in_a_new_process(model_dir, device: str) -> dict:
    result = subprocess.run([sys.executable, "-c", ANSWER_AND_REPORT_IMPORTS, str(model_dir), device, TOWER],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_answering_from_a_cached_export_imports_neither_torch_nor_onnx(exported_model):
    """What makes ONNX Runtime's start quick: torch (about 1 s) and onnx (0.6 s) stay unimported, tokenizer and
    model settings included, once the export exists."""
    gpu_build = bool(torch.version.cuda or torch.version.hip or sys.platform == "darwin")
    report = answer_in_a_new_process(exported_model, "cpu")
    assert report == {"may_see_a_gpu": gpu_build, "runtime": "onnx", "precision": "int8", "answered": True,
                      "torch": False, "onnx": False}
    # --device auto: torch is imported only where it might find a GPU (a CUDA or ROCm build), to ask it.
    report = answer_in_a_new_process(exported_model, "auto")
    assert (report["torch"], report["onnx"]) == (gpu_build, False)


def test_without_onnx_a_cached_export_answers_and_a_new_export_says_what_is_missing(exported_model, tmp_path,
                                                                                    tiny_model_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now fails as if not installed
    assert load(exported_model, precision="int8").answer(*PAIRS[0]).answers
    with pytest.raises(UserError, match=r"--runtime onnx needs onnx, which is not installed here: pip install"):
        load(copy_model(tiny_model_dir, tmp_path / "model"))


def test_the_tokenizer_is_the_class_autotokenizer_picks(tiny_model_dir, tmp_path):
    from transformers import AutoTokenizer

    from qa_tui.engine.model_files import DEFAULT_MODEL_DIR

    for folder in (DEFAULT_MODEL_DIR, tiny_model_dir):
        ours, auto = engine_module.load_tokenizer(str(folder)), AutoTokenizer.from_pretrained(str(folder))
        assert type(ours) is type(auto)
        assert ours("Who built it?", TOWER)["input_ids"] == auto("Who built it?", TOWER)["input_ids"]
    assert engine_module.named_tokenizer_class("org/hub-model") is None  # not a folder: AutoTokenizer

    def relabelled(folder_name, tokenizer_class=None, model_type=None):
        folder = copy_model(tiny_model_dir, tmp_path / folder_name)
        for file, key, value in (("tokenizer_config.json", "tokenizer_class", tokenizer_class),
                                 ("config.json", "model_type", model_type)):
            config = json.loads((folder / file).read_text())
            config[key] = value
            (folder / file).write_text(json.dumps({k: v for k, v in config.items() if v is not None}))
        return str(folder)

    unnamed = relabelled("unnamed", tokenizer_class=None, model_type="bert")
    other_family = relabelled("other-family", tokenizer_class="BertTokenizer", model_type="qwen2")
    unloadable = relabelled("unloadable", tokenizer_class="PythonBackend", model_type="bert")
    for folder in (unnamed, other_family, unloadable):  # AutoTokenizer decides, as it would have
        assert engine_module.named_tokenizer_class(folder) is None
        assert type(engine_module.load_tokenizer(folder)) is type(AutoTokenizer.from_pretrained(folder))


def test_onnx_precisions():
    cpu = torch.device("cpu")
    assert pick_precision(cpu, "auto", runtime="onnx") == "int8"  # device.AUTO_ONNX_PRECISION
    assert pick_precision(cpu, "fp32", runtime="onnx") == "fp32"
    assert pick_precision(cpu, "int8", runtime="onnx") == "int8"
    with pytest.raises(UserError, match="--runtime onnx runs in fp32 or int8"):
        pick_precision(cpu, "bf16", runtime="onnx")


def test_without_onnxruntime_onnx_is_one_clear_error(exported_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` now fails as if not installed
    with pytest.raises(UserError, match=r"--runtime onnx needs onnxruntime, which is not installed here: pip install"):
        load(exported_model)
    result = CliRunner().invoke(app, ["ask", "-q", "Who built it?", "-c", "-", "-m", str(exported_model),
                                      "--runtime", "onnx"], input=TOWER)
    assert_one_line_error(result, "--runtime onnx needs onnxruntime", "pip install onnxruntime onnx")


# --- the faces --------------------------------------------------------------------------------------------------


def test_ask_with_runtime_onnx_answers_like_torch(exported_model, exports):
    def ask(*options):
        result = CliRunner().invoke(app, ["ask", "-q", PAIRS[0][0], "-c", "-", "-m", str(exported_model),
                                          "--device", "cpu", "--json", *options], input=TOWER)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    got, expected = ask("--runtime", "onnx", "--precision", "fp32"), ask("--runtime", "torch", "--precision", "fp32")
    assert [(span["start"], span["end"]) for span in got["answers"]] == [
        (span["start"], span["end"]) for span in expected["answers"]
    ]
    assert [span["score"] for span in got["answers"]] == pytest.approx(
        [span["score"] for span in expected["answers"]], abs=1e-4
    )
    table = CliRunner().invoke(app, ["ask", "-q", PAIRS[0][0], "-c", "-", "-m", str(exported_model),
                                     "--runtime", "onnx", "--precision", "int8"], input=TOWER)
    assert table.exit_code == 0, table.output
    assert "on cpu (onnx int8)" in table.stdout
    assert exports == []  # both variants came from the cache


def test_eval_and_the_workbench_load_with_the_runtime(exported_model, tmp_path):
    data = os.path.join(os.path.dirname(__file__), "fixtures", "squad_v2.json")
    result = CliRunner().invoke(app, ["eval", "--data", data, "-m", str(exported_model), "--limit", "3",
                                      "--runtime", "onnx", "--output-dir", str(tmp_path / "eval")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "eval" / "metrics.json").read_text())["runtime"] == "onnx"
    engine = default_engine_factory(Settings(model=str(exported_model), runtime="onnx", precision="int8"))
    assert (engine.runtime, engine.precision) == ("onnx", "int8")


@async_test
async def test_the_workbench_reloads_on_a_new_runtime_and_says_which(exported_model):
    runtimes = []

    def factory(settings):
        runtimes.append(settings.runtime)
        return load(exported_model, runtime=settings.runtime)

    app = QAWorkbenchApp(Settings(model=str(exported_model), runtime="torch"), engine_factory=factory)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "│ fp32 │" in plain(parts(app)[2])
        app.update_settings(runtime="onnx")
        await settle(pilot)
        assert runtimes == ["torch", "onnx"]
        assert app.model_state.runtime == "onnx" and "│ onnx fp32 │" in plain(parts(app)[2])
