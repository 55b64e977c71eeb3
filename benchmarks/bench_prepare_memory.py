"""Peak memory of `qa-tui prepare` on SQuAD 1.1 train and on the same file repeated 4 times (350k questions).

Memory must stay flat however large the training file is: the two peaks should be about the same.

    python benchmarks/bench_prepare_memory.py [--squad ../shared/data/squad1/train-v1.1.json]

Writes benchmarks/results/prepare_memory.json. Peak RSS comes from GNU time (`/usr/bin/time -v`).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FEATURE_OPTIONS = ["--max-seq-length", "256", "--doc-stride", "96", "--negatives", "0.5", "--holdout", "0.02"]


def repeat_squad(source: Path, target: Path, copies: int) -> int:
    """The file repeated `copies` times, each copy's ids and titles made unique; returns the question count."""
    data = json.loads(source.read_text())
    articles = []
    for copy in range(copies):
        for article in data["data"]:
            paragraphs = [
                {**paragraph, "qas": [{**qa, "id": f"{qa['id']}__copy{copy}"} for qa in paragraph["qas"]]}
                for paragraph in article["paragraphs"]
            ]
            articles.append({"title": f"{article['title']}__copy{copy}", "paragraphs": paragraphs})
    target.write_text(json.dumps({"version": "1.1", "data": articles}))
    return sum(len(p["qas"]) for a in articles for p in a["paragraphs"])


def measure(data: Path, cache_dir: Path) -> dict:
    qa_tui = [sys.executable, "-m", "qa_tui"]
    started = time.monotonic()
    completed = subprocess.run(
        ["/usr/bin/time", "-v", *qa_tui, "prepare", "--data", str(data), "--cache-dir", str(cache_dir),
         *FEATURE_OPTIONS, "--json"],
        capture_output=True, text=True, check=True,
    )
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", completed.stderr).group(1))
    summary = json.loads(completed.stdout)
    return {
        "questions": sum(report["questions"] for report in summary["files"]),
        "train_features": summary["train_features"],
        "peak_rss_mb": round(peak_kb / 1024),
        "seconds": round(time.monotonic() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=HERE.parents[1] / "shared/data/squad1/train-v1.1.json")
    parser.add_argument("--copies", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        repeated = tmp / f"train-x{args.copies}.json"
        repeat_squad(args.squad, repeated, args.copies)
        results = {
            "command": "qa-tui prepare --data FILE --cache-dir DIR " + " ".join(FEATURE_OPTIONS),
            "x1": measure(args.squad, tmp / "cache-x1"),
            f"x{args.copies}": measure(repeated, tmp / f"cache-x{args.copies}"),
        }
    out = HERE / "results" / "prepare_memory.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
