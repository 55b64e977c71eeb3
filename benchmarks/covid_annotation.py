"""What a few annotated questions from one's own papers gain: COVID-QA, split by paper, the bundled model fine-tuned
with the workbench's annotation recipe on 50, 200 and all questions of the first 60 papers, scored on the other 38.

    python benchmarks/covid_annotation.py [--sizes 50 200 all] [--work runs/covid-annotation] [--mix-in FILE:SHARE]
        [--save-steps N]

Papers 1-60 (in the file's order) are the ones a user would annotate; 61-98 are the test papers, whole papers as
contexts, as the workbench reads them. The 50 and 200 are a seeded random sample of the first 60 papers' questions
(50 inside 200). The bundled model never trained on COVID-QA. Each stage is skipped when its output is there
(a fine-tune goes on with `--resume`), so the script can be run again after an interruption; a stage whose outputs are
gone but whose figures are in the results file of the same machine and mix is read from there, so sizes can be run
in separate sessions (`--sizes 200`, then `--sizes all`) and the table keeps them all. Results:
benchmarks/results/covid_annotation.json and .md (with --mix-in, names that say so), with each command and the
machine.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

from quiet_cpu import claim_cpu, machine

HERE = Path(__file__).resolve().parent
COVID_QA = HERE.parents[1] / "shared" / "data" / "covid-qa" / "covid-qa-2020-04-23.json"
RESULTS = HERE / "results" / "covid_annotation"
ANNOTATED_PAPERS = 60
# What F4 in the training form fills for the bundled model: ANNOTATION_RECIPE, and the loaded model's window.
RECIPE = ["--epochs", "2", "--learning-rate", "3e-5", "--max-seq-length", "256"]


def split(work: Path, sizes: list[str], seed: int = 0) -> dict[str, Path]:
    """SQuAD files: test.json (papers 61-98) and one training file per size, from papers 1-60."""
    data = json.loads(COVID_QA.read_text(encoding="utf-8"))
    papers = [paragraph for article in data["data"] for paragraph in article["paragraphs"]]
    pool = [(index, qa) for index, paper in enumerate(papers[:ANNOTATED_PAPERS]) for qa in paper["qas"]]
    random.Random(seed).shuffle(pool)
    files = {"test": work / "test.json"}

    def write(path: Path, chosen: list[tuple[int, dict]]) -> None:
        by_paper: dict[int, list[dict]] = {}
        for index, qa in chosen:
            by_paper.setdefault(index, []).append(qa)
        articles = [{"title": f"covid-qa-paper-{index + 1}", "paragraphs": [{"context": papers[index]["context"],
                                                                            "qas": qas}]}
                    for index, qas in sorted(by_paper.items())]
        path.write_text(json.dumps({"version": "v2.0", "data": articles}), encoding="utf-8")

    work.mkdir(parents=True, exist_ok=True)
    write(files["test"], [(index, qa) for index, paper in enumerate(papers) if index >= ANNOTATED_PAPERS
                          for qa in paper["qas"]])
    for size in sizes:
        count = len(pool) if size == "all" else int(size)
        files[size] = work / f"train-{size}.json"
        write(files[size], pool[:count])
    return files


def run(command: list[str], log: Path) -> float:
    started = time.monotonic()
    with log.open("w") as out:
        completed = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: see {log}")
    return time.monotonic() - started


def evaluate(model: str | None, test: Path, out: Path) -> dict:
    metrics_file = out / "metrics.json"
    command = [sys.executable, "-m", "qa_tui", "eval", "--data", str(test), "--output-dir", str(out)]
    command += ["--model", model] if model else []
    seconds = None
    if not metrics_file.is_file():
        seconds = round(run(command, out.with_suffix(".log")), 1)
    metrics = json.loads(metrics_file.read_text())
    return {"command": " ".join(["qa-tui", *command[3:]]), "seconds": seconds, "exact": metrics["exact"],
            "f1": metrics["f1"], "total": metrics["total"], "runtime": f"{metrics.get('runtime')} {metrics.get('precision')}"}


def fine_tune(train: Path, out: Path, mix_in: str | None, save_steps: int | None) -> dict:
    from qa_tui.engine.model_files import resolve_model

    command = [sys.executable, "-m", "qa_tui", "train", "--train-file", str(train), "--model", resolve_model(None),
               "--output-dir", str(out), *RECIPE]
    command += ["--train-file", mix_in] if mix_in else []
    command += ["--save-steps", str(save_steps)] if save_steps else []  # checkpoints only: the same training
    seconds, resumed = None, out.exists()
    if not (out / "metrics.json").is_file():
        seconds = round(run(command + (["--resume"] if resumed else []), out.with_suffix(".train.log")), 1)
    ends = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines() if '"end"' in line]
    steps = ends[-1].get("train", {}).get("steps") if ends else None
    # A resumed fine-tune's seconds are those of its last part only.
    return {"command": " ".join(["qa-tui", *command[3:]]), "seconds": seconds, "steps": steps, "resumed": resumed}


def markdown(results: dict) -> str:
    rows = ["## COVID-QA: the bundled model fine-tuned on annotated questions (test: papers 61-98, whole papers)", "",
            f"Machine: {results['machine']['cpu']}, torch {results['machine']['torch']}. Recipe: `{' '.join(RECIPE)}`"
            + (f", mixed in `{results['mix_in']}`" if results.get("mix_in") else ", nothing mixed in") + ".", "",
            "| trained on | questions | EM | F1 | F1 gain | train s | command |", "|---|---:|---:|---:|---:|---:|---|"]
    base = results["runs"]["bundled"]
    for name, entry in results["runs"].items():
        test = entry["test"]
        gain = "-" if name == "bundled" else f"{test['f1'] - base['test']['f1']:+.1f}"
        train = entry.get("train", {})
        rows.append(f"| {name} | {entry.get('questions', 0)} | {test['exact']:.1f} | {test['f1']:.1f} | {gain} "
                    f"| {train.get('seconds') or '-'}{' (resumed: last part)' if train.get('resumed') else ''} | `{train.get('command', test['command'])}` |")
    return "\n".join(rows) + "\n"


def earlier_runs(results_file: Path, mix_in: str | None) -> dict:
    """Runs measured before on this kind of machine with this mix: kept, so one table holds every size."""
    path = results_file.with_suffix(".json")
    if not path.is_file():
        return {}
    earlier = json.loads(path.read_text())
    if earlier.get("machine") != machine() or earlier.get("mix_in") != mix_in:
        return {}
    return earlier.get("runs", {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", default=["50", "200", "all"])
    parser.add_argument("--work", type=Path, default=Path("runs/covid-annotation"))
    parser.add_argument("--mix-in", help="A general file at a share against forgetting, e.g. train-v1.1.json:0.02")
    parser.add_argument("--save-steps", type=int, help="Checkpoint the fine-tunes this often (a long one survives an "
                        "interruption; it goes on with --resume when the script is run again)")
    args = parser.parse_args()
    claim_cpu()
    tag = "" if not args.mix_in else "-mix-" + Path(args.mix_in).name.replace(":", "-")
    args.work = args.work.with_name(args.work.name + tag)  # a mixed run never reuses an unmixed one's stages
    results_file = RESULTS.with_name(RESULTS.name + tag)
    files = split(args.work, args.sizes)
    results = {"machine": machine(), "mix_in": args.mix_in, "runs": earlier_runs(results_file, args.mix_in)}
    if not (args.work / "eval-bundled" / "metrics.json").is_file() and "bundled" in results["runs"]:
        print("bundled: measured before, read from", results_file.with_suffix(".json"))
    else:
        results["runs"]["bundled"] = {"test": evaluate(None, files["test"], args.work / "eval-bundled")}
    for size in args.sizes:
        model_dir = args.work / f"model-{size}"
        if not model_dir.exists() and size in results["runs"]:
            print(f"{size}: measured before, read from", results_file.with_suffix(".json"))
            continue
        questions = sum(len(p["qas"]) for a in json.loads(files[size].read_text())["data"] for p in a["paragraphs"])
        train = fine_tune(files[size], model_dir, args.mix_in, args.save_steps)
        test = evaluate(str(model_dir), files["test"], args.work / f"eval-{size}")
        results["runs"][size] = {"questions": questions, "train": train, "test": test}
        results_file.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
        results_file.with_suffix(".md").write_text(markdown(results))
        print(markdown(results))


if __name__ == "__main__":
    main()
