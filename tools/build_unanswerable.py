"""Turn the written unanswerable questions of data/unanswerable/ (TSV) into a SQuAD 2.0 training file.

    python tools/build_unanswerable.py --squad ../shared/data/squad1/train-v1.1.json \
        --exclude ../shared/data/squad1-unanswerable/calibration.json \
        --output cache/written.json data/unanswerable/*/*.tsv

Each TSV line is `pid<TAB>KIND<TAB>question<TAB>plausible answer`, where pid is `title#index` of a paragraph of
SQuAD 1.1 train. The output holds only the unanswerable questions, on their paragraphs (a second --train-file
beside SQuAD 1.1 train), each with its `kind` and, where the span is in the paragraph, `plausible_answers`.
A line that fails a check is named on stderr with its reason and never written: a selection article (--exclude),
an unknown pid or kind, not a 3-30 word question, a repeat, or a copy of one of the paragraph's answerable
questions. The same lines always give the same file (ids are hashes of pid and question).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from qa_tui.io import write_json_atomic

KINDS = ("SWAP", "NEUT", "ANT", "NEG", "COND", "EXCL")


def check_line(fields: list[str], paragraphs: dict, excluded: set[str], seen: set) -> str | None:
    """Why a TSV line may not be trained on, or None when it may."""
    if len(fields) != 4:
        return f"{len(fields)} fields, not 4"
    pid, kind, question, _ = fields
    if pid not in paragraphs:
        return f"unknown pid {pid!r}"
    title, paragraph = paragraphs[pid]
    if title in excluded:
        return f"{title} is a selection article (never train on it)"
    if kind not in KINDS:
        return f"unknown kind {kind!r}"
    if not question.endswith("?") or not 3 <= len(question.split()) <= 30:
        return "not a 3-30 word question ending with '?'"
    if (pid, question.lower()) in seen:
        return "repeated"
    if question.lower() in {qa["question"].strip().lower() for qa in paragraph["qas"]}:
        return "copies an answerable question of its paragraph"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tsv", nargs="+", help="TSV files of written questions")
    parser.add_argument("--squad", required=True, help="SQuAD 1.1 train JSON (the paragraphs the pids name)")
    parser.add_argument("--exclude", action="append", default=[], help="SQuAD file whose articles must stay out")
    parser.add_argument("--output", required=True, help="SQuAD 2.0 JSON to write (atomically)")
    args = parser.parse_args()

    squad = json.loads(Path(args.squad).read_text(encoding="utf-8"))
    paragraphs = {f"{a['title']}#{i}": (a["title"], p) for a in squad["data"] for i, p in enumerate(a["paragraphs"])}
    excluded = {a["title"] for path in args.exclude for a in json.loads(Path(path).read_text(encoding="utf-8"))["data"]}
    written: dict[str, list] = defaultdict(list)
    seen: set = set()
    rejected: Counter = Counter()
    kinds: Counter = Counter()
    for tsv in args.tsv:
        for number, line in enumerate(Path(tsv).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            fields = [field.strip() for field in line.split("\t")]
            why = check_line(fields, paragraphs, excluded, seen)
            if why:
                rejected[why.split(" ")[0]] += 1
                print(f"{tsv}:{number}: {why}", file=sys.stderr)
                continue
            pid, kind, question, plausible = fields
            seen.add((pid, question.lower()))
            kinds[kind] += 1
            written[pid].append((kind, question, plausible))

    data = []
    for article in squad["data"]:
        out = []
        for index, paragraph in enumerate(article["paragraphs"]):
            pid = f"{article['title']}#{index}"
            qas = []
            for kind, question, plausible in written.get(pid, []):
                qa = {"id": "unans_" + hashlib.sha1(f"{pid}|{question}".encode()).hexdigest()[:12],
                      "question": question, "answers": [], "is_impossible": True, "kind": kind}
                start = paragraph["context"].find(plausible) if plausible else -1
                if start >= 0:
                    qa["plausible_answers"] = [{"text": plausible, "answer_start": start}]
                qas.append(qa)
            if qas:
                out.append({"pid": pid, "context": paragraph["context"], "qas": qas})
        if out:
            data.append({"title": article["title"], "paragraphs": out})
    write_json_atomic(Path(args.output), {"version": "v2.0", "data": data})
    questions = [q for qs in written.values() for _, q, _ in qs]
    mean = sum(len(q.split()) for q in questions) / max(len(questions), 1)
    which = sum(q.split()[0].lower() == "which" for q in questions) / max(len(questions), 1)
    print(f"{args.output}: {len(questions)} unanswerable questions on {len(written)} paragraphs of {len(data)} "
          f"articles; mean {mean:.1f} words, {100 * which:.0f}% start with Which; kinds {dict(sorted(kinds.items()))}; "
          f"rejected {sum(rejected.values())}", file=sys.stderr)


if __name__ == "__main__":
    main()
