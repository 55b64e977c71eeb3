"""Choosing where the model runs, on what and in which precision: cuda > mps > cpu; on a CPU ONNX Runtime in int8
when it is installed (the fastest at the same accuracy, measured), else PyTorch; bf16 where the hardware has it;
torch's own int8 (dynamic quantization of the linear layers) on request.

torch is imported only where a choice needs it: answering with ONNX Runtime on a CPU-only install never imports it,
which saves about a second of every start (benchmarks/bench_whole_process.py)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import platform
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from qa_tui.errors import UserError

if TYPE_CHECKING:
    import torch

DEVICES = ("auto", "cuda", "mps", "cpu")
PRECISIONS = ("auto", "bf16", "fp16", "fp32", "int8")
DTYPE_NAMES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}  # torch's names
RUNTIMES = ("auto", "torch", "onnx")
ONNX_PRECISIONS = ("fp32", "int8")

# What `--runtime auto` runs on a CPU where onnxruntime is installed (elsewhere auto is always torch), and in which
# precision `--precision auto` runs there. Chosen by benchmarks/bench_runtimes.py (docs/performance.md): ONNX
# Runtime's int8 answered 1.59x as fast as PyTorch bf16 at SQuAD 2.0 dev F1 -0.41 (first 2,000), in 41% of the memory.
AUTO_RUNTIME_ON_CPU = "onnx"
AUTO_ONNX_PRECISION = "int8"


def pick_device(requested: str = "auto") -> torch.device:
    """The best device there is, or the one asked for (failing clearly when it is not there)."""
    import torch

    requested = (requested or "auto").lower()
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {requested}: no CUDA GPU is visible to torch here")
    if requested == "mps" and not (
        getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    ):
        raise UserError("--device mps: Apple's Metal backend is not available here")
    try:
        return torch.device(requested)
    except RuntimeError as exc:
        raise UserError(f"--device {requested}: not a device torch knows ({', '.join(DEVICES)})") from exc


@lru_cache(maxsize=1)
def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux
        return ""


@lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """True when the CPU computes bf16 natively (AVX-512 BF16 or AMX); elsewhere bf16 autocast is slower."""
    flags = _cpuinfo()
    return "avx512_bf16" in flags or "amx_bf16" in flags


def cpu_description() -> str:
    """E.g. "AMD EPYC (2 cores, native bf16)": what a timing or a model card needs to say about the CPU."""
    model_names = [line.split(":", 1)[1].strip() for line in _cpuinfo().splitlines() if line.startswith("model name")]
    name = model_names[0] if model_names else platform.processor() or platform.machine()
    return f"{name} ({os.cpu_count()} cores, {'native bf16' if cpu_has_bf16() else 'no native bf16'})"


def onnxruntime_installed() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def torch_may_see_a_gpu() -> bool:
    """False when the installed torch is a CPU-only build away from macOS (Metal): then `--device auto` is the CPU,
    known without importing torch. True whenever in doubt, and once torch is imported (then it is asked)."""
    if "torch" in sys.modules or platform.system() == "Darwin":
        return True
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return True
    try:
        version = (Path(next(iter(spec.submodule_search_locations))) / "version.py").read_text(encoding="utf-8")
    except OSError:
        return True
    return builds_for_a_gpu(version)


def builds_for_a_gpu(version_py: str) -> bool:
    """Whether torch's version.py is a CUDA or ROCm build's: a CPU-only build sets both `cuda` and `hip` to None."""
    cpu_only = all(re.search(rf"^{name}\b[^=\n]*=\s*None\s*$", version_py, re.MULTILINE) for name in ("cuda", "hip"))
    return not cpu_only


def device_type(requested: str = "auto") -> str:
    """The type of device `--device` names ("cpu", "cuda", "mps"), importing torch only if a GPU may be there."""
    requested = (requested or "auto").lower()
    if requested == "cpu" or (requested == "auto" and not torch_may_see_a_gpu()):
        return "cpu"
    return pick_device(requested).type


def pick_runtime(requested: str = "auto", device: str = "auto", precision: str = "auto") -> tuple[str, str]:
    """The runtime and the device it runs on (a `--device` name that pick_device takes). ONNX Runtime runs on the
    CPU only: `--device auto` means the CPU for it, and a GPU asked for by name is an error rather than a silent
    move to the CPU. `auto` is AUTO_RUNTIME_ON_CPU on a CPU, unless the precision asked for is one only PyTorch
    runs (bf16) or names the PyTorch computation itself (fp32)."""
    requested = (requested or "auto").lower()
    if requested not in RUNTIMES:
        raise UserError(f"--runtime {requested}: choose one of {', '.join(RUNTIMES)}")
    device = (device or "auto").lower()
    if requested == "auto":
        cpu = device_type(device) == "cpu"
        onnx_precision = (precision or "auto").lower() in ("auto", "int8")
        requested = AUTO_RUNTIME_ON_CPU if cpu and onnx_precision and onnxruntime_installed() else "torch"
    if requested == "torch":
        return "torch", device
    if device != "auto" and device_type(device) != "cpu":
        raise UserError(f"--runtime onnx runs on the CPU only: use --device cpu, or --runtime torch on {device}")
    return "onnx", "cpu"


def pick_precision(
    device: torch.device | None, requested: str = "auto", training: bool = False, runtime: str = "torch"
) -> str:
    """bf16 on GPUs and CPUs that have it, fp16 on older GPUs, fp32 otherwise; int8 only when asked for. ONNX
    Runtime has an fp32 and an int8 export: `auto` is AUTO_ONNX_PRECISION there (and the device plays no part)."""
    requested = (requested or "auto").lower()
    if requested not in PRECISIONS:
        raise UserError(f"--precision {requested}: choose one of {', '.join(PRECISIONS)}")
    if runtime == "onnx":
        if requested == "auto":
            return AUTO_ONNX_PRECISION
        if requested not in ONNX_PRECISIONS:
            raise UserError(f"--precision {requested}: --runtime onnx runs in {' or '.join(ONNX_PRECISIONS)}")
        return requested
    if requested != "auto":
        if requested == "fp16" and device.type == "cpu":
            raise UserError("--precision fp16 needs a GPU; use bf16 or fp32 on the CPU")
        if requested == "int8" and (training or device.type != "cpu"):
            raise UserError("--precision int8 is for answering on the CPU only; use bf16 or fp32 here")
        return requested
    if device.type == "cuda":
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device.type == "cpu" and cpu_has_bf16():
        return "bf16"
    return "fp32"


def autocast(device: torch.device, precision: str):
    """The autocast context for a forward pass (a no-op in fp32 and int8)."""
    if precision in ("fp32", "int8"):
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device_type=device.type, dtype=getattr(torch, DTYPE_NAMES[precision]))


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Dynamic int8 quantization of every nn.Linear (weights int8, activations quantized per batch): the layers
    that take most of a BERT forward pass on the CPU. torch marks this API deprecated in favour of torchao, but it
    is what the installed torch has; its warnings are silenced here."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import torch
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(model.float(), {torch.nn.Linear}, dtype=torch.qint8)
