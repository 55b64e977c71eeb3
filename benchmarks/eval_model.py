"""Accuracy of a QA model on the test sets, through `qa-tui eval` (the same engine and metric users get).

    python benchmarks/eval_model.py [--model DIR] [--limit-covid N] [--limit-shifts N] [--only NAME ...]

Test sets (never used for training or for any choice): SQuAD 2.0 dev (all 11,873 questions), SQuADShifts
new_wiki (answerable only: F1/EM), COVID-QA (whole papers as contexts: F1/EM). Each run's metrics.json is copied
into benchmarks/results/model_eval.json with the command, the seconds it took and the machine.
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
DATA = HERE.parents[1] / "shared" / "data"
TEST_SETS = {
    "squad2_dev": DATA / "squad2" / "dev-v2.0.json",
    "squadshifts_new_wiki": DATA / "squadshifts" / "new_wiki_v1.0.json",
    "covid_qa": DATA / "covid-qa" / "covid-qa-2020-04-23.json",
}


def run_eval(name: str, data: Path, model: str | None, limit: int | None, workdir: Path, precision: str,
             runtime: str = "auto") -> dict:
    command = [sys.executable, "-m", "qa_tui", "eval", "--data", str(data), "--output-dir", str(workdir / name), "--json"]
    if model:
        command += ["--model", model]
    if precision != "auto":
        command += ["--precision", precision]
    if runtime != "auto":
        command += ["--runtime", runtime]
    if limit:
        command += ["--limit", str(limit)]
    started = time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"{name}: qa-tui eval failed:\n{completed.stderr[-2000:]}")
    seconds = time.monotonic() - started
    metrics = json.loads(completed.stdout)
    shown = ["qa-tui", *("OUT_DIR" if part == str(workdir / name) else part for part in command[3:])]
    return {"command": " ".join(shown).replace(str(DATA) + "/", "../shared/data/"), "seconds": round(seconds, 1),
            "questions_per_s": round(metrics["total"] / seconds, 2), "metrics": metrics}


def markdown(results: dict) -> str:
    """The test-set table for the README and the model card."""
    rows = [
        "## Test sets (measured with `qa-tui eval`, never used for training or choices)",
        "",
        f"Machine: {results.get('machine')}.",
        "",
        "| test set | questions | EM | F1 | HasAns F1 | NoAns F1 | best F1 (threshold) | q/s | command |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name in TEST_SETS:
        if name not in results:
            continue
        run, m = results[name], results[name]["metrics"]
        cell = lambda key: f"{m[key]:.1f}" if key in m else "-"  # noqa: E731
        best = f"{m['best_f1']:.1f} ({m['best_f1_thresh']:.2f})" if "best_f1" in m else "-"
        rows.append(
            f"| {name} | {m['total']} | {cell('exact')} | {cell('f1')} | {cell('HasAns_f1')} | {cell('NoAns_f1')} "
            f"| {best} | {run['questions_per_s']} | `{run['command']}` |"
        )
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="Model directory (default: the bundled model).")
    parser.add_argument("--limit-covid", type=int, help="First N COVID-QA questions (whole papers are slow on a CPU).")
    parser.add_argument("--limit-shifts", type=int, help="First N SQuADShifts questions.")
    parser.add_argument("--limit-squad2", type=int, help="First N SQuAD 2.0 dev questions.")
    parser.add_argument("--only", nargs="*", choices=sorted(TEST_SETS), help="Run only these test sets.")
    parser.add_argument("--precision", default="auto", help="Passed to qa-tui eval (e.g. int8 on a CPU).")
    parser.add_argument("--runtime", default="auto", help="Passed to qa-tui eval (torch: the figures before ONNX int8 was the default).")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "model_eval.json")
    parser.add_argument("--allow-busy", action="store_true", help="time even while a training run shares the CPU")
    args = parser.parse_args()
    claim_cpu(args.allow_busy)
    limits = {"squad2_dev": args.limit_squad2, "squadshifts_new_wiki": args.limit_shifts, "covid_qa": args.limit_covid}
    results = json.loads(args.out.read_text()) if args.out.is_file() else {}
    about = machine()
    results["machine"] = (
        f"{about['cpu']}, torch {about['torch']}" + (f", GPU {about['cuda']}" if about["cuda"] else "")
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only or TEST_SETS:
            results[name] = run_eval(name, TEST_SETS[name], args.model, limits[name], Path(tmp), args.precision,
                                     args.runtime)
            args.out.parent.mkdir(exist_ok=True)
            args.out.write_text(json.dumps(results, indent=2) + "\n")
            shown = {key: results[name]["metrics"].get(key) for key in ("total", "exact", "f1", "HasAns_f1", "NoAns_f1", "best_f1")}
            print(name, json.dumps(shown), f"{results[name]['seconds']} s", flush=True)
    args.out.with_suffix(".md").write_text(markdown(results))


if __name__ == "__main__":
    main()
