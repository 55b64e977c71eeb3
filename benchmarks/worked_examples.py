"""The article's three worked examples (tests/fixtures/covid_examples.json) on one model, at its shipped threshold.

    python benchmarks/worked_examples.py --model runs/minilm-v13 [--runtime torch] [--null-threshold T]

One JSON line per example: the expected answer, the model's top span, whether it is the expected one (after SQuAD's
normalisation), whether the model says "no answer" at the threshold, and no-answer minus best span (below the
threshold: answered). The bundle bar (issue 17) wants the first two answered with the expected span.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "tests" / "fixtures" / "covid_examples.json"


def main() -> None:
    from qa_tui.engine import QAEngine
    from qa_tui.metrics import normalize_answer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="Model directory or hub id (default: the bundled model).")
    parser.add_argument("--runtime", default="auto")
    parser.add_argument("--null-threshold", type=float, default=None, help="Default: the model's own.")
    args = parser.parse_args()
    engine = QAEngine.load(args.model, runtime=args.runtime, null_threshold=args.null_threshold)
    for example in json.loads(EXAMPLES.read_text(encoding="utf-8"))["examples"]:
        answer = engine.answer(example["question"], example["context"])
        top = answer.answers[0].text if answer.answers else ""
        print(json.dumps({
            "expected": example["expected"],
            "top": top,
            "top_ok": normalize_answer(top) == normalize_answer(example["expected"]),
            "no_answer": answer.is_impossible,
            "null_minus_best": round(answer.null_odds, 3),
            "threshold": engine.null_threshold,
            "runtime": f"{engine.runtime} {engine.precision}",
        }))


if __name__ == "__main__":
    main()
