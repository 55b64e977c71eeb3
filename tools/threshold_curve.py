"""F1, HasAns F1 and NoAns against the no-answer threshold, from a `qa-tui eval` output folder: the curves that the
README's threshold rule was read from.

    qa-tui eval --data ../shared/data/squad1-unanswerable/calibration.json --model M --output-dir OUT
    python tools/threshold_curve.py --data ../shared/data/squad1-unanswerable/calibration.json --eval-dir OUT

Run it on a selection set only: a threshold read off a test set's curve makes that test set's scores meaningless.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qa_tui.data.squad import read_records
from qa_tui.metrics import gold_answers_of, threshold_curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="The SQuAD 2.0 file that was evaluated")
    parser.add_argument("--eval-dir", required=True, help="The --output-dir of `qa-tui eval` on it")
    parser.add_argument("--low", type=float, default=-12.0)
    parser.add_argument("--high", type=float, default=6.0)
    parser.add_argument("--step", type=float, default=0.5)
    parser.add_argument("--json", action="store_true", help="Print the curve as JSON")
    args = parser.parse_args()
    eval_dir = Path(args.eval_dir)
    nbest = json.loads((eval_dir / "nbest_predictions.json").read_text(encoding="utf-8"))
    null_odds = json.loads((eval_dir / "null_odds.json").read_text(encoding="utf-8"))
    metrics = json.loads((eval_dir / "metrics.json").read_text(encoding="utf-8"))
    gold = gold_answers_of(read_records(args.data))
    spans = {qid: entries[0]["text"] for qid, entries in nbest.items()}
    count = int(round((args.high - args.low) / args.step)) + 1
    thresholds = [args.low + index * args.step for index in range(count)]
    curve = threshold_curve(gold, spans, null_odds, thresholds)
    if args.json:
        print(json.dumps({"best_f1": metrics.get("best_f1"), "best_f1_thresh": metrics.get("best_f1_thresh"),
                          "curve": curve}, indent=2))
        return
    print(f"{args.data}: best F1 {metrics.get('best_f1', float('nan')):.1f} at threshold "
          f"{metrics.get('best_f1_thresh', float('nan')):+.2f}")
    print(f"{'threshold':>9} {'F1':>6} {'HasAns F1':>9} {'NoAns':>6} {'answered %':>10}")
    for point in curve:
        print(f"{point['threshold']:>+9.2f} {point['f1']:>6.1f} {point['HasAns_f1']:>9.1f} {point['NoAns']:>6.1f} "
              f"{point['answered']:>10.1f}")


if __name__ == "__main__":
    main()
