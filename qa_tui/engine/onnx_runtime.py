"""ONNX Runtime as the engine's runner on the CPU (`--runtime onnx`): the model is exported once per model and
variant (fp32, int8) and cached (export_cache.py); an InferenceSession then runs it on the engine's numpy arrays,
with no torch on the answering path and, once the export exists, no PyTorch model in memory.

The export is torch's TorchScript exporter (`dynamo=False`) on the model with eager attention, then onnxruntime's
BERT fusions (one Attention node per layer, SkipLayerNormalization, BiasGelu, EmbedLayerNormalization) at
opt_level 0, so that the file holds no CPU-specific kernels. The dynamo exporter exports BertForQuestionAnswering
as well, with the same logits, but the fusions find no attention in its graph (nor in either exporter's graph of
SDPA attention): on the bundled model its graph keeps 182 nodes after ORT's own optimizations, the fused one 54.
The int8 variant is `quantize_dynamic` of the fused graph: int8 weights per output channel (on a few windows of the
bundled model its logits correlated 0.998 with fp32's, against 0.982 with one scale per tensor), activations
quantized per batch, which uses VNNI or AMX where the CPU has them.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np

from qa_tui.engine.export_cache import ExportCache
from qa_tui.engine.model_files import DEFAULT_MODEL_DIR
from qa_tui.errors import UserError

if TYPE_CHECKING:
    import torch

EXPORT_FORMAT = "1"  # part of every export's key: bump it when the export changes, and old exports are rebuilt
MODEL_FILE = "model.onnx"
OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAMES = ["start_logits", "end_logits"]
INSTALL_HINT = "pip install onnxruntime onnx (qa-tui's own dependencies: reinstall it)"


def import_onnxruntime(for_export: bool = False):
    """onnxruntime (with onnx, which export and quantization need, when `for_export`), or a UserError saying how
    to get them. onnx is left out of an answering start: it takes about 0.6 s to import."""
    try:
        if for_export:
            import onnx  # noqa: F401
        import onnxruntime
    except ImportError as exc:
        missing = exc.name or "onnxruntime"
        raise UserError(f"--runtime onnx needs {missing}, which is not installed here: {INSTALL_HINT}") from exc
    onnxruntime.set_default_logger_severity(3)  # errors only: its warnings are about its own graph rewrites
    return onnxruntime


class OnnxRunner:
    """An InferenceSession with the engine's runner call: numpy batches in, start and end logits out."""

    runtime = "onnx"
    device = "cpu"

    def __init__(self, session, precision: str):
        self.session = session
        self.precision = precision
        self.input_names = [graph_input.name for graph_input in session.get_inputs()]

    def __call__(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        starts, ends = self.session.run(OUTPUT_NAMES, {name: inputs[name] for name in self.input_names})
        return starts, ends


def load_onnx_runner(name: str, precision: str, tokenizer, load_model: Callable[..., torch.nn.Module]) -> OnnxRunner:
    """The `precision` variant (fp32 or int8) of model `name`, exported first unless a good export is cached.

    `load_model(name, **from_pretrained_options)` loads the PyTorch model (the engine's `load_qa_model`, passed in
    because the engine imports this module); only an export needs it.
    """
    onnxruntime = import_onnxruntime()
    folder, beside = model_folder(name)
    tools = {"format": EXPORT_FORMAT, "onnxruntime": onnxruntime.__version__}
    session = cached_session(ExportCache(folder, beside=beside, tools=tools), precision)
    if session is None:
        import_onnxruntime(for_export=True)
        with quiet_export():
            exported = export_variant(name, precision, tokenizer, load_model, folder, beside, tools)
        session = open_session(exported / MODEL_FILE)
    return OnnxRunner(session, precision)


def export_variant(name, precision, tokenizer, load_model, folder: Path, beside: bool, tools: dict) -> Path:
    """Export the model (int8: quantize its fp32 export, made first unless a good one is cached); its folder."""
    cache = ExportCache(folder, beside=beside, tools=tools)
    fp32 = cache.find("fp32") if precision == "int8" and cached_session(cache, "fp32") is not None else None
    if fp32 is None:
        model = load_model(name, attn_implementation="eager")  # the attention that ORT's fusions recognise
        cache = ExportCache(folder, beside=beside, tools=tools)  # read again: a hub model's weights may be new
        fp32 = cache.build("fp32", partial(export_model, model, tokenizer))
    return fp32 if precision == "fp32" else cache.build("int8", partial(quantize_export, fp32 / MODEL_FILE))


def model_folder(name: str) -> tuple[Path, bool]:
    """The folder of the model's files, and whether it is the user's own: not the bundled model (a folder of the
    installed package) nor a hub model (a snapshot in the Hugging Face cache), so that an export may go beside it."""
    path = Path(name)
    if path.is_dir():
        return path, path.resolve() != DEFAULT_MODEL_DIR.resolve()
    from transformers.utils import cached_file

    return Path(cached_file(name, "config.json")).parent, False


def open_session(path: Path):
    """An InferenceSession on the CPU; graph optimizations at their highest, made when it opens."""
    onnxruntime = import_onnxruntime()
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def cached_session(cache: ExportCache, variant: str):
    """A session on the cached `variant`, or None when there is none, it is stale, or ONNX Runtime cannot load it
    (a corrupt file): then it is exported again."""
    found = cache.find(variant)
    if found is None:
        return None
    try:
        return open_session(found / MODEL_FILE)
    except Exception:  # onnxruntime's exception types (Fail, InvalidProtobuf, NoSuchFile...) derive from Exception
        return None


def export_model(model: torch.nn.Module, tokenizer, folder: Path) -> None:
    """The model as ONNX with dynamic batch and sequence axes, then fused by onnxruntime's BERT optimizer."""
    import torch
    from onnxruntime.transformers.optimizer import optimize_model

    model = model.float().eval()
    sample = tokenizer(
        ["Who built it?", "When?"], ["Gustave Eiffel's company built the tower.", "In 1889."],
        padding=True, return_tensors="pt",
    )
    # Graph inputs come in the order of forward()'s parameters, whatever order the names are given in.
    names = [name for name in inspect.signature(model.forward).parameters if name in INPUT_NAMES and name in sample]
    traced = folder / "traced.onnx"
    torch.onnx.export(
        model,
        (),
        str(traced),
        kwargs={name: sample[name] for name in names},
        input_names=names,
        output_names=OUTPUT_NAMES,
        dynamic_axes={name: {0: "batch", 1: "sequence"} for name in [*names, *OUTPUT_NAMES]},
        opset_version=OPSET,
        dynamo=False,
    )
    fused = optimize_model(
        str(traced), model_type="bert", num_heads=model.config.num_attention_heads,
        hidden_size=model.config.hidden_size, opt_level=0,
    )
    fused.save_model_to_file(str(folder / MODEL_FILE))
    traced.unlink()


def quantize_export(fp32_model: Path, folder: Path) -> None:
    """Dynamic quantization: int8 weights per output channel, activations quantized per batch at run time."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32_model), str(folder / MODEL_FILE), weight_type=QuantType.QInt8, per_channel=True,
        # The fused ops (Attention, SkipLayerNormalization) have no ONNX shape inference; their outputs are float.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


@contextmanager
def quiet_export() -> Iterator[None]:
    """Silence the exporter's and the quantizer's warnings (tracer notes, a hint to pre-process), which speak to
    their developers rather than to qa-tui's users. quantize_dynamic logs through the root logger, which without a
    handler would install a stderr handler for the whole process: a NullHandler stands in while it runs."""
    root = logging.getLogger()
    standin = logging.NullHandler()
    disabled_before = logging.root.manager.disable
    root.addHandler(standin)
    logging.disable(max(disabled_before, logging.WARNING))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(disabled_before)
        root.removeHandler(standin)
