"""How often a model says "no answer", by kind of question: the analysis behind the model card's abstention shares.

    qa-tui eval --data FILE --model M --output-dir OUT
    python tools/abstentions.py --data FILE --predictions OUT/predictions.json

Kinds: the synthetic negatives by their id suffix (__neg, __swap, __not, __ant), other questions as answerable or
unanswerable; and, across all questions, answerable/unanswerable split by whether the question holds a negative
word (the pattern the negation negatives avoid).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from qa_tui.data.negatives import NEGATION
from qa_tui.data.squad import read_records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="The SQuAD file that was evaluated.")
    parser.add_argument("--predictions", required=True, help="predictions.json from `qa-tui eval` on it.")
    args = parser.parse_args()
    predictions = json.loads(Path(args.predictions).read_text(encoding="utf-8"))
    totals, abstained = Counter(), Counter()
    for record in read_records(args.data):
        plain = "unanswerable" if record.is_impossible else "answerable"
        kind = record.id.rsplit("__", 1)[1] if "__" in record.id else plain
        negative = "with a negative word" if NEGATION.search(record.question) else "without"
        for group in (f"kind {kind}", f"{plain}, {negative}"):
            totals[group] += 1
            abstained[group] += predictions[record.id] == ""
    for group in sorted(totals):
        print(f"{group:40} {abstained[group]:6} / {totals[group]:6} abstained ({100 * abstained[group] / totals[group]:.0f}%)")


if __name__ == "__main__":
    main()
