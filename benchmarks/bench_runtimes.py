"""Which runtime should answer on a CPU: the current engine against ONNX Runtime, torch.compile, bf16 weights and
int8, on start-up, speed, memory and SQuAD 2.0 F1, in one run on the same questions.

    python benchmarks/bench_runtimes.py                          # -> benchmarks/results/runtimes.{json,md}
    python benchmarks/bench_runtimes.py --questions 200 --f1-questions 400 --variants torch,onnx-fp32,onnx-int8

The model is the bundled one (--model for another): trained, so that F1 means something, and the MiniLM
architecture (BERT, 6 layers, hidden 384) of the other answering benchmarks. Each variant answers through the
engine's `answer_batch` (tokenize, forward, decode) with the model's own windows and the engine's batch size:

- torch: the current engine, `--runtime torch --precision auto` (bf16 autocast on a CPU with native bf16, else
  fp32): the baseline of every ratio;
- onnx-fp32, onnx-int8: `--runtime onnx --precision fp32`, and `int8` (ONNX Runtime's dynamic quantization);
- torch-compile: the current engine with its encoder under `torch.compile(dynamic=True)`;
- torch-bf16-sdpa: bf16 weights (`model.to(torch.bfloat16)`) with SDPA attention, under bf16 autocast; left out
  where the CPU has no native bf16, which makes bf16 some 30 times slower (benchmarks/README.md);
- torch-int8: `--precision int8`, torch's dynamic quantization of the linear layers.

Each variant runs in a process of its own (this script with `--serve VARIANT`), because peak RSS is a per-process
high-water mark: in one process every variant after the largest would report the largest's memory, and each would
also find the others' libraries already imported. The processes start one after another; start-up is the time from
spawning one to its engine being ready (imports included) and `QAEngine.load` alone; then one warm-up batch (where
torch.compile compiles: `first_answer_s`). All then take turns on the same `--rounds` chunks of the first
`--questions`, so that a change of load on the machine hits all alike. After that each answers the rest of the
first `--f1-questions` untimed, and they are scored with the project's `squad_v2_metrics` at the model's threshold
and compared answer by answer with the current engine's.

ONNX start-up is also measured cold: before the timed processes start, a process per ONNX variant loads from an
empty export cache (export, fusions, int8 quantization, session). So that this starts from nothing, the model is
copied into a temporary folder first: its exports go beside the copy, and both are deleted at the end.

With the defaults each variant answers 2,000 questions; at the speeds benchmarks/README.md reports for 2 cores that
is well under 30 minutes in all, torch.compile's compilation (a minute or more) included. It refuses to start beside
a training run (quiet_cpu.py).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from quiet_cpu import claim_cpu, machine

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_SQUAD = ROOT.parent / "shared" / "data" / "squad2" / "dev-v2.0.json"
BASELINE = "torch"
VARIANTS = {
    "torch": "current engine: PyTorch, --precision auto",
    "onnx-fp32": "ONNX Runtime, fp32 export (--runtime onnx --precision fp32)",
    "onnx-int8": "ONNX Runtime, int8 dynamic quantization (--runtime onnx --precision int8)",
    "torch-compile": "current engine, encoder under torch.compile(dynamic=True)",
    "torch-bf16-sdpa": "PyTorch, bf16 weights, SDPA attention",
    "torch-int8": "PyTorch, int8 dynamic quantization (--precision int8)",
}
WARM_UP_QUESTIONS = 16
TOP_K = 5


# --- a variant's process ------------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def load_variant(variant: str, model_dir: str):
    """The engine of `variant` (see the module docstring), on the CPU."""
    import torch

    from qa_tui.engine import QAEngine

    runtime, precision = {
        "torch": ("torch", "auto"),
        "onnx-fp32": ("onnx", "fp32"),
        "onnx-int8": ("onnx", "int8"),
        "torch-compile": ("torch", "auto"),
        "torch-bf16-sdpa": ("torch", "bf16"),
        "torch-int8": ("torch", "int8"),
    }[variant]
    engine = QAEngine.load(model_dir, device="cpu", runtime=runtime, precision=precision)
    model = getattr(engine.runner, "model", None)
    if variant == "torch-compile":
        setattr(model, model.base_model_prefix, torch.compile(model.base_model, dynamic=True))
    if variant == "torch-bf16-sdpa":
        model.set_attn_implementation("sdpa")
        model.to(torch.bfloat16)
    return engine


def serve(variant: str, model_dir: str, questions_file: Path, cold: bool) -> None:
    """Load `variant`, say so on the protocol line, then answer the parent's requests until it says finish.

    Replies go to the original stdout; fd 1 then points at stderr, so that nothing a library prints can get into
    the protocol."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    started = time.perf_counter()
    from qa_tui.loading import quiet_transformers

    quiet_transformers()
    import qa_tui.engine  # noqa: F401  (torch, transformers: what every variant imports)

    imported = time.perf_counter()
    if cold:
        from qa_tui.engine.export_cache import SUBFOLDER

        shutil.rmtree(Path(model_dir) / SUBFOLDER, ignore_errors=True)
    engine = load_variant(variant, model_dir)
    loaded = time.perf_counter()
    pairs = [(row["question"], row["context"]) for row in map(json.loads, questions_file.open(encoding="utf-8"))]
    ready = {"import_s": imported - started, "load_s": loaded - imported, "describe": engine.describe(),
             "peak_rss_after_load_mb": peak_rss_mb()}
    if not cold:
        engine.answer_batch(pairs[:WARM_UP_QUESTIONS], top_k=TOP_K)
        ready["first_answer_s"] = time.perf_counter() - loaded
    protocol.write(json.dumps(ready) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "finish":
            break
        start = time.perf_counter()
        answers = engine.answer_batch(pairs[request["start"] : request["end"]], top_k=TOP_K)
        seconds = time.perf_counter() - start
        protocol.write(json.dumps({"seconds": seconds, "best": [answer.best_text for answer in answers]}) + "\n")
    protocol.write(json.dumps({"peak_rss_mb": peak_rss_mb()}) + "\n")


# --- the parent ------------------------------------------------------------------------------------------------------


class Variant:
    """One `--serve` process, spoken to over stdin/stdout."""

    def __init__(self, name: str, model_dir: Path, questions_file: Path, cold: bool = False):
        self.name = name
        command = [sys.executable, __file__, "--serve", name, "--model", str(model_dir),
                   "--questions-file", str(questions_file), *(["--cold"] if cold else [])]
        spawned = time.perf_counter()
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.ready = self._read()
        self.ready["startup_s"] = time.perf_counter() - spawned - self.ready.get("first_answer_s", 0.0)

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"{self.name}: its process stopped (exit code {self.process.wait()}); see above")
        return json.loads(line)

    def ask(self, **request) -> dict:
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return self._read()

    def finish(self) -> float:
        """Peak RSS in MB, once the process is done."""
        peak = self.ask(op="finish")["peak_rss_mb"]
        self.process.wait()
        return peak


def first_records(path: Path, limit: int) -> list:
    from qa_tui.data.squad import read_records

    return list(itertools.islice(read_records(path), limit))


def scores(records, best: list[str]) -> dict:
    from qa_tui.metrics import squad_v2_metrics

    gold = {record.id: [answer["text"] for answer in record.answers] for record in records}
    metrics = squad_v2_metrics(gold, {record.id: text for record, text in zip(records, best)})
    return {key: metrics[key] for key in ("f1", "exact", "HasAns_f1", "NoAns_f1", "total") if key in metrics}


def ratio(value: float | None, baseline: float | None) -> float | None:
    return None if value is None or not baseline else value / baseline


def markdown_table(results: dict) -> str:
    def cell(value, pattern="{:.2f}"):
        return "-" if value is None else pattern.format(value)

    lines = [
        f"{results['questions']:,} SQuAD 2.0 dev questions timed, F1 on the first {results['f1_questions']:,}; "
        f"{results['machine']['cpu']}; x = ratio to `{BASELINE}`",
        "",
        "| variant | questions/s | x | start-up s (warm) | cold start s | peak RSS MB | x | F1 | F1 - torch "
        "| same answer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in results["variants"].items():
        if "skipped" in row:
            lines.append(f"| {name} | skipped: {row['skipped']} |||||||||")
            continue
        cold = row["startup"].get("cold", {}).get("startup_s")
        lines.append(
            f"| {name} ({row['runtime']} {row['precision']}) | {cell(row['questions_per_s'], '{:.1f}')} "
            f"| {cell(row['speed_ratio'])} | {cell(row['startup']['startup_s'], '{:.1f}')} | {cell(cold, '{:.1f}')} "
            f"| {cell(row['peak_rss_mb'], '{:.0f}')} | {cell(row['rss_ratio'])} | {cell(row['squad']['f1'], '{:.2f}')} "
            f"| {cell(row['f1_difference'], '{:+.2f}')} | {cell(row['same_best_answer'] * 100, '{:.1f}%')} |"
        )
    return "\n".join(lines) + "\n"


def run(args) -> None:
    import onnxruntime
    import transformers

    from qa_tui.engine.device import cpu_has_bf16
    from qa_tui.engine.model_files import resolve_model

    if not args.squad.is_file():
        raise SystemExit(f"{args.squad}: SQuAD 2.0 dev file not found (pass --squad)")
    names = args.variants.split(",")
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown or BASELINE not in names:
        raise SystemExit(f"--variants: {', '.join(unknown) or 'no ' + BASELINE} (choose from {', '.join(VARIANTS)}; "
                         f"{BASELINE} is the baseline and always runs)")
    skipped = {}
    if "torch-bf16-sdpa" in names and not cpu_has_bf16() and not args.force_bf16:
        skipped["torch-bf16-sdpa"] = "no native bf16 on this CPU (--force-bf16 runs it anyway)"
    names = [name for name in names if name not in skipped]
    records = first_records(args.squad, max(args.questions, args.f1_questions))
    if len(records) < max(args.questions, args.f1_questions):
        raise SystemExit(f"{args.squad}: only {len(records)} questions")

    workdir = Path(tempfile.mkdtemp(prefix="bench-runtimes-"))
    try:
        model_dir = Path(shutil.copytree(resolve_model(args.model), workdir / "model"))
        questions_file = workdir / "questions.jsonl"
        questions_file.write_text("".join(json.dumps({"question": r.question, "context": r.context}) + "\n"
                                          for r in records), encoding="utf-8")
        load_before = os.getloadavg()[0]
        cold = {}
        for name in [name for name in names if name.startswith("onnx")]:
            print(f"{name}: cold start (export into an empty cache)", file=sys.stderr)
            variant = Variant(name, model_dir, questions_file, cold=True)
            cold[name] = {**variant.ready, "peak_rss_mb": variant.finish()}
        variants = {}
        for name in names:
            variants[name] = Variant(name, model_dir, questions_file)
            ready = variants[name].ready
            print(f"{name}: ready in {ready['startup_s']:.1f} s, first answer {ready['first_answer_s']:.1f} s",
                  file=sys.stderr)

        seconds = {name: 0.0 for name in names}
        best: dict[str, list[str]] = {name: [] for name in names}
        bounds = [round(i * args.questions / args.rounds) for i in range(args.rounds + 1)]
        for first, last in zip(bounds, bounds[1:]):
            for name, variant in variants.items():
                reply = variant.ask(op="answer", start=first, end=last)
                seconds[name] += reply["seconds"]
                best[name] += reply["best"]
            print(f"{last}/{args.questions}: q/s " + ", ".join(f"{name} {last / s:.1f}" for name, s in seconds.items()),
                  file=sys.stderr)
        if args.f1_questions > args.questions:
            for name, variant in variants.items():
                best[name] += variant.ask(op="answer", start=args.questions, end=args.f1_questions)["best"]
        peaks = {name: variant.finish() for name, variant in variants.items()}
        load_after = os.getloadavg()[0]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    f1_records = records[: args.f1_questions]
    rows = {}
    for name in names:
        ready = variants[name].ready
        startup = {key: ready[key] for key in ("startup_s", "import_s", "load_s", "first_answer_s")}
        if name in cold:
            startup["cold"] = {key: cold[name][key] for key in ("startup_s", "import_s", "load_s", "peak_rss_mb")}
        rows[name] = {
            "description": VARIANTS[name],
            "runtime": ready["describe"]["runtime"],
            "precision": ready["describe"]["precision"],
            "seconds": seconds[name],
            "questions_per_s": args.questions / seconds[name],
            "startup": startup,
            "peak_rss_mb": peaks[name],
            "peak_rss_after_load_mb": ready["peak_rss_after_load_mb"],
            "squad": scores(f1_records, best[name][: args.f1_questions]),
            "same_best_answer": sum(a.strip() == b.strip() for a, b in zip(best[name], best[BASELINE]))
            / len(best[BASELINE]),
        }
    baseline = rows[BASELINE]
    for row in rows.values():
        row["speed_ratio"] = ratio(row["questions_per_s"], baseline["questions_per_s"])
        row["rss_ratio"] = ratio(row["peak_rss_mb"], baseline["peak_rss_mb"])
        row["f1_difference"] = row["squad"]["f1"] - baseline["squad"]["f1"]
    rows.update({name: {"description": VARIANTS[name], "skipped": why} for name, why in skipped.items()})

    describe = variants[BASELINE].ready["describe"]
    results = {
        "machine": {
            **machine(),
            "python": platform.python_version(),
            "transformers": transformers.__version__,
            "onnxruntime": onnxruntime.__version__,
            "load_average_1min": {"before": load_before, "after": load_after},
        },
        "model": args.model or "the bundled model",
        "windows": {"max_seq_length": describe["max_seq_length"], "doc_stride": describe["doc_stride"]},
        "questions": args.questions,
        "f1_questions": args.f1_questions,
        "rounds": args.rounds,
        "top_k": TOP_K,
        "variants": rows,
        "command": "python " + " ".join([os.path.relpath(__file__, ROOT), *sys.argv[1:]]),
    }
    table = markdown_table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(table, encoding="utf-8")
    print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--squad", type=Path, default=DEFAULT_SQUAD, help="SQuAD 2.0 dev JSON")
    parser.add_argument("--model", default=None, help="model directory or hub id (default: the bundled model)")
    parser.add_argument("--questions", type=int, default=1000, help="questions timed (the first N of the file)")
    parser.add_argument("--f1-questions", type=int, default=2000, help="questions scored (the first N)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated; torch always runs")
    parser.add_argument("--rounds", type=int, default=4, help="chunks the variants take turns on")
    parser.add_argument("--force-bf16", action="store_true", help="run torch-bf16-sdpa without native bf16")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "runtimes.json", help="and .md beside it")
    parser.add_argument("--allow-busy", action="store_true", help="time even while a training run shares the CPU")
    parser.add_argument("--serve", metavar="VARIANT", help=argparse.SUPPRESS)  # a variant's process
    parser.add_argument("--questions-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.model, args.questions_file, args.cold)
        return
    if min(args.questions, args.f1_questions, args.rounds) < 1 or args.rounds > args.questions:
        raise SystemExit("--questions, --f1-questions and --rounds must be at least 1, --rounds at most --questions")
    claim_cpu(args.allow_busy)
    run(args)


if __name__ == "__main__":
    main()
