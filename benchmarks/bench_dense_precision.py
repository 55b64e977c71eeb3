"""The dense retriever's encoder in fp32 and in bf16 autocast, side by side in one process: passages/s on COVID-QA
passages (the project's own splitter) and whether retrieval changes (cosine of each vector pair, top-1 and top-5
agreement of COVID-QA's questions against those passages).

    python benchmarks/bench_dense_precision.py --papers 10 --questions 200

Writes benchmarks/results/dense_precision.json (unless --no-save). Refuses to time while a training run shares the
CPU (quiet_cpu), like the other benchmarks.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from quiet_cpu import claim_cpu, machine

COVID_QA = Path(__file__).resolve().parents[2] / "shared" / "data" / "covid-qa" / "covid-qa-2020-04-23.json"
RESULTS = Path(__file__).resolve().parent / "results" / "dense_precision.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--covid", default=str(COVID_QA))
    parser.add_argument("--papers", type=int, default=10, help="first N papers, cut into passages")
    parser.add_argument("--questions", type=int, default=200, help="first N questions of those papers")
    parser.add_argument("--allow-busy", action="store_true")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    claim_cpu(args.allow_busy)

    from qa_tui.retrieval.dense import DenseEncoder
    from qa_tui.retrieval.passages import split_passages

    papers = [p for article in json.loads(Path(args.covid).read_text())["data"] for p in article["paragraphs"]]
    papers = papers[: args.papers]
    texts = [passage.text for i, paper in enumerate(papers) for passage in split_passages(paper["context"], str(i))]
    questions = [qa["question"] for paper in papers for qa in paper["qas"]][: args.questions]

    result: dict = {"machine": machine(), "papers": len(papers), "passages": len(texts), "questions": len(questions)}
    vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for precision in ("fp32", "bf16"):
        encoder = DenseEncoder("cpu", precision=precision)
        encoder.encode(texts[:16])  # warm-up
        started = time.perf_counter()
        passage_vectors = encoder.encode(texts)
        seconds = time.perf_counter() - started
        vectors[precision] = (passage_vectors, encoder.encode(questions))
        result[precision] = {"seconds": round(seconds, 2), "passages_per_s": round(len(texts) / seconds, 2)}
    (p32, q32), (p16, q16) = vectors["fp32"], vectors["bf16"]
    top32 = np.argsort(-(q32 @ p32.T), axis=1)[:, :5]
    top16 = np.argsort(-(q16 @ p16.T), axis=1)[:, :5]
    cosines = (p32 * p16).sum(axis=1)
    result["speedup_bf16"] = round(result["fp32"]["seconds"] / result["bf16"]["seconds"], 2)
    result["cosine_min"] = float(cosines.min())
    result["top1_agreement"] = float(np.mean(top32[:, 0] == top16[:, 0]))
    result["top5_overlap"] = float(np.mean([len(set(a) & set(b)) / 5 for a, b in zip(top32, top16)]))
    print(json.dumps(result, indent=2))
    if not args.no_save:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
