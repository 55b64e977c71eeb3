"""Merge repeated questions and drop the ones labelled both answerable and unanswerable (SubjQA has many), then
write one SQuAD v2.0 file to train on.

    python tools/dedupe_labels.py ../shared/data/subjqa/*_train.json --output data/subjqa-train-dedup.json

Records are validated (and repaired) as `qa-tui train` would; see qa_tui/data/dedupe.py for the rules.
"""

from __future__ import annotations

import argparse
from itertools import chain

from qa_tui.data.dedupe import drop_conflicting_labels
from qa_tui.data.squad import ValidationReport, read_records, write_squad_v2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help="SQuAD JSON / JSON Lines files")
    parser.add_argument("--output", required=True, help="SQuAD v2.0 JSON to write (atomically)")
    args = parser.parse_args()
    reports = [ValidationReport(path) for path in args.files]
    records = chain.from_iterable(read_records(path, report=report) for path, report in zip(args.files, reports))
    kept, summary = drop_conflicting_labels(records)
    for report in reports:
        print(report.summary())
    write_squad_v2(args.output, kept)
    unanswerable = sum(record.is_impossible for record in kept)
    print(f"{summary.line()}; wrote {args.output}: {len(kept)} questions, {unanswerable} unanswerable")


if __name__ == "__main__":
    main()
