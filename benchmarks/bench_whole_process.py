"""Whole processes, model load included: `qa-tui ask --questions` against transformers' pipeline on 1,000 questions.

    python benchmarks/bench_whole_process.py [--questions 1000] [--repeats 2]

What a user waits for: from starting the program to the last answer, on the first N SQuAD 2.0 dev questions
(their contexts), with the bundled model. Measured, taking turns, each `--repeats` times:

- `qa-tui ask --questions FILE` with the default runtime (`auto`: ONNX Runtime int8 on a CPU, its export cached
  by a first, untimed run) and with `--runtime torch` (PyTorch, bf16 where the CPU has it);
- transformers 4.57's QuestionAnsweringPipeline (top_k=5, handle_impossible_answer=True, one question per call, in
  fp32: the bundled model is stored in fp16), through `pipeline_reference.py` under the Python of
  `--reference-python` (see benchmarks/README.md).

Start-up, the same two `qa-tui ask` runs on one question: from starting the program to its answer.

Figures (best of the repeats, and all of them) go to benchmarks/results/whole_process.json, with the machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from quiet_cpu import claim_cpu, machine

HERE = Path(__file__).resolve().parent
SQUAD = HERE.parents[1] / "shared" / "data" / "squad2" / "dev-v2.0.json"


def write_questions(path: Path, limit: int) -> int:
    from bench_answer import first_questions

    rows = first_questions(SQUAD, limit)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return len(rows)


def time_qa_tui(questions: Path, runtime: str) -> float:
    command = [sys.executable, "-m", "qa_tui", "ask", "--questions", str(questions), "--runtime", runtime]
    started = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def time_pipeline(python: Path, model_dir: str, questions: Path, count: int) -> float:
    """Spawn the reference, let it load the pipeline, ask all questions one per call: wall time of the whole."""
    started = time.monotonic()
    process = subprocess.Popen([str(python), str(HERE / "pipeline_reference.py"), model_dir, str(questions)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    process.stdout.readline()  # {"ready": ...}
    process.stdin.write(json.dumps({"mode": "one", "start": 0, "end": count}) + "\n")
    process.stdin.flush()
    process.stdout.readline()
    elapsed = time.monotonic() - started
    process.stdin.close()
    process.wait(timeout=60)
    return elapsed


def main() -> None:
    from qa_tui.engine.model_files import resolve_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--reference-python", type=Path, default=Path(".bench-venv/bin/python"))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "whole_process.json")
    args = parser.parse_args()
    claim_cpu()
    model_dir = resolve_model(None)
    with tempfile.TemporaryDirectory() as tmp:
        questions, one = Path(tmp) / "questions.jsonl", Path(tmp) / "one.jsonl"
        count = write_questions(questions, args.questions)
        write_questions(one, 1)
        time_qa_tui(one, "auto")  # makes the ONNX export if it is not cached yet: a first start, untimed
        runs: dict[str, list[float]] = {"qa-tui (auto: onnx int8)": [], "qa-tui --runtime torch": [], "pipeline": []}
        starts: dict[str, list[float]] = {"qa-tui (auto: onnx int8)": [], "qa-tui --runtime torch": []}
        for _ in range(args.repeats):
            runs["qa-tui (auto: onnx int8)"].append(time_qa_tui(questions, "auto"))
            runs["qa-tui --runtime torch"].append(time_qa_tui(questions, "torch"))
            runs["pipeline"].append(time_pipeline(args.reference_python, model_dir, questions, count))
            starts["qa-tui (auto: onnx int8)"].append(time_qa_tui(one, "auto"))
            starts["qa-tui --runtime torch"].append(time_qa_tui(one, "torch"))
            print({name: round(count / seconds[-1], 1) for name, seconds in runs.items()}, flush=True)
    pipeline = count / min(runs["pipeline"])
    results = {"machine": machine(), "questions": count, "model": "bundled", "runs_seconds": runs,
               "questions_per_s": {name: round(count / min(seconds), 1) for name, seconds in runs.items()},
               "x_pipeline": {name: round(count / min(seconds) / pipeline, 2) for name, seconds in runs.items()},
               "start_up_seconds": {name: round(min(seconds), 2) for name, seconds in starts.items()},
               "start_up_runs_seconds": starts}
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: results[k] for k in ("questions_per_s", "x_pipeline", "start_up_seconds")}, indent=2))


if __name__ == "__main__":
    main()
