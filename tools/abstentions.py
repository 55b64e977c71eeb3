"""How often a model says "no answer", by kind of question: the analysis behind the model card's abstention shares.

    qa-tui eval --data FILE --model M --output-dir OUT
    python tools/abstentions.py --data FILE --predictions OUT/predictions.json

Kinds: the synthetic negatives by their id suffix (__neg, __swap, __not, __ant), other questions as answerable or
unanswerable; and, across all questions, answerable/unanswerable split by whether the question holds a negative
word (the pattern the negation negatives avoid). With --by-kind, the written questions' own `kind` field instead
(SWAP, NEUT, ANT, NEG, COND, EXCL in the selection set), answerable questions as one group:

    python tools/abstentions.py --data ../shared/data/squad1-unanswerable/calibration.json --predictions OUT/predictions.json --by-kind
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections import Counter
from pathlib import Path

from qa_tui.data.negatives import NEGATION
from qa_tui.data.squad import read_records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="The SQuAD file that was evaluated.")
    parser.add_argument("--predictions", required=True, help="predictions.json from `qa-tui eval` on it.")
    parser.add_argument("--by-kind", action="store_true", help="Group by each question's `kind` field instead.")
    args = parser.parse_args()
    predictions = json.loads(Path(args.predictions).read_text(encoding="utf-8"))
    written_kinds = kinds_of(args.data) if args.by_kind else {}
    totals, abstained = Counter(), Counter()
    for record in read_records(args.data):
        plain = "unanswerable" if record.is_impossible else "answerable"
        if args.by_kind:
            groups = [f"kind {written_kinds.get(record.id, '(none)')}" if record.is_impossible else "answerable"]
        else:
            kind = record.id.rsplit("__", 1)[1] if "__" in record.id else plain
            negative = "with a negative word" if NEGATION.search(record.question) else "without"
            groups = [f"kind {kind}", f"{plain}, {negative}"]
        for group in groups:
            totals[group] += 1
            abstained[group] += predictions[record.id] == ""
    for group in sorted(totals):
        print(f"{group:40} {abstained[group]:6} / {totals[group]:6} abstained ({100 * abstained[group] / totals[group]:.0f}%)")


def kinds_of(path: str) -> dict[str, str]:
    """id -> the `kind` field of each question that has one (the reader keeps only what QA needs)."""
    raw = Path(path).read_bytes()
    data = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    return {qa["id"]: qa["kind"] for article in data["data"] for paragraph in article["paragraphs"]
            for qa in paragraph["qas"] if "kind" in qa}


if __name__ == "__main__":
    main()
