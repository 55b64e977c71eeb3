"""The workbench's start-up: from starting the program to the first answer on screen, ONNX Runtime against PyTorch.

    python benchmarks/bench_workbench_start.py [--repeats 5]

What a user waits for after typing `qa-tui --context FILE`: the app draws at once and loads the model in a worker;
the first question can be answered when the model is ready. Each run is a new process (imports count) that opens
the workbench headless (`App.run_test`, so the app itself, not a terminal, is measured) on the sample CORD-19
paragraph, waits for the model, types the question and waits for the candidates table to fill. Three moments,
seconds from spawning the process: the screen is up, the model is ready, the first answer is shown. Runtimes take
turns: `auto` (ONNX Runtime int8 on a CPU, its export cached by a first, untimed run of each) and `torch`.

Figures (best of the repeats by first answer, and all of them) go to benchmarks/results/workbench_start.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from quiet_cpu import claim_cpu, machine

HERE = Path(__file__).resolve().parent
CONTEXT = HERE.parent / "sample_contexts" / "cord19-seed-1-chongqing-mortality.txt"
QUESTION = "What is the mortality for ARDS?"
RUNTIMES = ("auto", "torch")

# Runs in the child: prints the system-wide monotonic clock (shared by all processes on Linux) at each moment.
CHILD = """
import asyncio, json, sys, time
from pathlib import Path

async def main(runtime, context, question):
    from qa_tui.tui.app import QAWorkbenchApp
    from qa_tui.tui.state import Settings
    from qa_tui.tui.widgets import CandidatesTable

    app = QAWorkbenchApp(Settings(runtime=runtime), context=Path(context))
    async with app.run_test(size=(120, 40)) as pilot:
        moments = {"screen": time.monotonic()}
        while app.model_state.status not in ("ready", "failed"):
            await asyncio.sleep(0.005)
        if app.model_state.status == "failed":
            sys.exit(app.model_state.message)
        moments["model"] = time.monotonic()
        question_input = app.screen.query_one("#question")
        question_input.focus()
        question_input.value = question
        await pilot.press("enter")
        table = app.screen.query_one(CandidatesTable)
        while table.answer is None:
            await asyncio.sleep(0.005)
        moments["answer"] = time.monotonic()
        moments["top"] = table.answer.answers[0].text if table.answer.answers else None
    print(json.dumps(moments))

asyncio.run(main(*sys.argv[1:4]))
"""


def one_start(runtime: str) -> dict:
    started = time.monotonic()
    completed = subprocess.run([sys.executable, "-c", CHILD, runtime, str(CONTEXT), QUESTION],
                               capture_output=True, text=True, check=True)
    moments = json.loads(completed.stdout.strip().splitlines()[-1])
    return {name: round(moments[name] - started, 3) for name in ("screen", "model", "answer")} | {
        "top": moments["top"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "workbench_start.json")
    args = parser.parse_args()
    claim_cpu()
    for runtime in RUNTIMES:  # untimed: exports (ONNX) and warms the file cache
        one_start(runtime)
    runs: dict[str, list[dict]] = {runtime: [] for runtime in RUNTIMES}
    for _ in range(args.repeats):
        for runtime in RUNTIMES:
            runs[runtime].append(one_start(runtime))
    best = {runtime: min(found, key=lambda run: run["answer"]) for runtime, found in runs.items()}
    results = {"machine": machine(), "context": CONTEXT.name, "question": QUESTION, "best": best, "runs": runs}
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    for runtime, run in best.items():
        print(f"{runtime:>5}: screen {run['screen']:.2f} s, model ready {run['model']:.2f} s, "
              f"first answer {run['answer']:.2f} s ({run['top']!r})")


if __name__ == "__main__":
    main()
