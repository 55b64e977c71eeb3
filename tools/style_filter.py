"""Drop the written unanswerable questions whose style alone gives them away, until a question-only classifier can
barely tell them from their paragraphs' answerable questions (adversarial filtering, as AFLite does).

    python tools/style_filter.py --squad ../shared/data/squad1/train-v1.1.json --target 0.62 \
        --output cache/written-filtered.tsv data/unanswerable/*/*.tsv

A QA model learns whatever separates unanswerable from answerable questions most cheaply; when written questions
are longer, or open with other words, it learns that instead of reading the paragraph. Each round fits the
classifier of `style_probe.py` (word 1-2-grams and a length token, logistic regression, 5 folds) on the written
questions against the answerable questions of the same paragraphs, and drops the `--step` share of the written
ones that it scores, out of fold, as most surely unanswerable. It stops when the balanced accuracy is at or below
`--target`, or before fewer than `--min-keep` of the lines would be left. Seeded: the same input gives the same
output. Needs scikit-learn (not a dependency of qa-tui).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline


def probe_text(question: str) -> str:
    """What the style probe sees of a question: its words and its length."""
    return f"{question} LEN{min(len(question.split()), 20)}"


def out_of_fold(texts: list[str], labels: np.ndarray, seed: int) -> np.ndarray:
    """Each question's probability of being unanswerable, from a probe that never saw it."""
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2),
                          LogisticRegression(max_iter=2000, class_weight="balanced"))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    return cross_val_predict(model, texts, labels, cv=folds, method="predict_proba")[:, 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tsv", nargs="+", help="TSV files of written questions (pid, KIND, question, plausible)")
    parser.add_argument("--squad", required=True, help="SQuAD 1.1 train JSON (the answerable questions)")
    parser.add_argument("--output", required=True, help="TSV of the lines kept")
    parser.add_argument("--target", type=float, default=0.62, help="Balanced accuracy to reach (default 0.62)")
    parser.add_argument("--step", type=float, default=0.05, help="Share of the written lines dropped per round")
    parser.add_argument("--min-keep", type=float, default=0.6, help="Never keep fewer than this share of lines")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    squad = json.loads(Path(args.squad).read_text(encoding="utf-8"))
    answerable = {f"{a['title']}#{i}": [qa["question"] for qa in p["qas"]]
                  for a in squad["data"] for i, p in enumerate(a["paragraphs"])}
    lines = [line for tsv in args.tsv for line in Path(tsv).read_text(encoding="utf-8").splitlines()
             if len(line.split("\t")) == 4]
    pids = sorted({line.split("\t")[0] for line in lines} & set(answerable))
    lines = [line for line in lines if line.split("\t")[0] in answerable]
    answerable_texts = [probe_text(q) for pid in pids for q in answerable[pid]]
    kept = np.arange(len(lines))
    while True:
        texts = [probe_text(lines[i].split("\t")[2]) for i in kept] + answerable_texts
        labels = np.array([1] * len(kept) + [0] * len(answerable_texts))
        scores = out_of_fold(texts, labels, args.seed)
        accuracy = balanced_accuracy_score(labels, scores > 0.5)
        print(f"{len(kept)} written lines kept ({100 * len(kept) / len(lines):.0f}%): balanced accuracy "
              f"{accuracy:.3f}", file=sys.stderr)
        drop = int(args.step * len(lines))
        if accuracy <= args.target or len(kept) - drop < args.min_keep * len(lines):
            break
        order = np.argsort(-scores[: len(kept)], kind="stable")
        kept = np.sort(kept[order[drop:]])
    Path(args.output).write_text("".join(lines[i] + "\n" for i in kept), encoding="utf-8")
    print(f"wrote {args.output}: {len(kept)} of {len(lines)} lines", file=sys.stderr)


if __name__ == "__main__":
    main()
