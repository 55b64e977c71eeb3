"""Retrieval benchmarks: passage recall on SQuAD 2.0 dev, index build cost and end-to-end QA on COVID-QA.

    python benchmarks/bench_retrieval.py recall                  # (1) recall@1/5/20 of the own paragraph
    python benchmarks/bench_retrieval.py build                   # (2) index build time and peak memory, 98 papers
    python benchmarks/bench_retrieval.py covid-recall            # (3, no model) is the answer in the top K passages?
    python benchmarks/bench_retrieval.py e2e --model DIR [--limit N] [--passages K]
                                                                 # (3) F1/EM and s/question: whole, within, across

Each writes its section of `benchmarks/results/retrieval.json` (the others are kept) and prints a Markdown table.
`build` and `e2e` time things, so they refuse to start while a `qa-tui train` run shares the CPU
(`--allow-busy` overrides; see quiet_cpu.py); they never pause it. Data come from ../shared/data (test sets:
nothing here is tuned on them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SQUAD2_DEV = DATA / "squad2" / "dev-v2.0.json"
COVID_QA = DATA / "covid-qa" / "covid-qa-2020-04-23.json"
RESULTS = ROOT / "benchmarks" / "results" / "retrieval.json"
RECALL_AT = (1, 5, 20)

sys.path.insert(0, str(ROOT))
from quiet_cpu import claim_cpu, machine  # noqa: E402  (benchmarks/ is on sys.path when run as a script)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# --- measuring fairly -------------------------------------------------------------------------------------------


def quiet() -> None:
    """No load reports or progress bars from transformers / sentence-transformers in benchmark output."""
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def save_section(name: str, section: dict) -> None:
    from qa_tui.io import write_json_atomic

    results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    results[name] = section
    write_json_atomic(RESULTS, results)
    print(f"wrote {RESULTS.relative_to(ROOT)} [{name}]", file=sys.stderr)


# --- (1) recall on SQuAD 2.0 dev ------------------------------------------------------------------------------


def recall(args) -> dict:
    """Recall@k of each answerable question's own paragraph, the 1,204 dev paragraphs being the corpus."""
    from qa_tui.retrieval.dense import DenseEncoder
    from qa_tui.retrieval.index import SearchIndex
    from qa_tui.retrieval.passages import split_passages

    quiet()
    data = json.loads(Path(args.squad).read_text(encoding="utf-8"))["data"]
    paragraphs, questions = [], []
    for article in data:
        for paragraph in article["paragraphs"]:
            number = len(paragraphs)
            paragraphs.append(paragraph["context"])
            questions += [(qa["question"], number) for qa in paragraph["qas"] if not qa.get("is_impossible")]
    if args.limit:
        questions = questions[:: max(1, len(questions) // args.limit)][: args.limit]
    passages = [p for number, text in enumerate(paragraphs) for p in split_passages(text, source=str(number))]
    print(f"{len(paragraphs)} paragraphs -> {len(passages)} passages, {len(questions)} questions", file=sys.stderr)

    started = time.perf_counter()
    index = SearchIndex.build(passages, dense=True, device=args.device)
    build_s = time.perf_counter() - started
    vectors = DenseEncoder.shared(args.device).encode([q for q, _ in questions])
    depth = 200  # passages: enough to fill 20 distinct paragraphs
    table = {}
    for retriever in ("bm25", "dense", "hybrid"):
        found = {k: 0 for k in RECALL_AT}
        reciprocal = 0.0
        for (question, own), vector in zip(questions, vectors):
            ranked_paragraphs: list[int] = []
            for number, _ in index.ranking(question, retriever, depth, query_vector=vector):
                paragraph = int(passages[number].source)
                if paragraph not in ranked_paragraphs:
                    ranked_paragraphs.append(paragraph)
            if own in ranked_paragraphs:
                position = ranked_paragraphs.index(own) + 1
                reciprocal += 1 / position
                for k in RECALL_AT:
                    found[k] += position <= k
        table[retriever] = {f"recall@{k}": found[k] / len(questions) for k in RECALL_AT}
        table[retriever]["mrr@20"] = reciprocal / len(questions)  # ranks past `depth` passages count 0
    section = {
        "data": str(Path(args.squad).relative_to(DATA.parent)) if DATA.parent in Path(args.squad).parents else args.squad,
        "paragraphs": len(paragraphs),
        "passages": len(passages),
        "questions": len(questions),
        "index_build_s_unpaused": round(build_s, 1),
        "results": table,
    }
    print("\n| retriever | recall@1 | recall@5 | recall@20 | MRR |\n|---|---:|---:|---:|---:|")
    for retriever, row in table.items():
        print(f"| {retriever} | {row['recall@1']:.3f} | {row['recall@5']:.3f} | {row['recall@20']:.3f} | "
              f"{row['mrr@20']:.3f} |")
    return section


# --- (2) index build time and peak memory ---------------------------------------------------------------------


def covid_papers(path: str) -> list[dict]:
    """The 98 COVID-QA papers: {"id", "text", "qas"}."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    papers = []
    for article in data:
        for paragraph in article["paragraphs"]:
            papers.append({"id": str(paragraph["document_id"]), "text": paragraph["context"], "qas": paragraph["qas"]})
    return papers


def write_papers(papers: list[dict], folder: Path) -> dict[str, Path]:
    """Each paper as a text file (left untouched when it holds the text already, so that its index stays cached)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for paper in papers:
        path = folder / f"paper-{paper['id']}.txt"
        if not path.exists() or path.read_text(encoding="utf-8") != paper["text"]:
            path.write_text(paper["text"], encoding="utf-8")
        paths[paper["id"]] = path
    return paths


def bench_cache() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("qa-tui")) / "bench"


def build_child(args) -> None:
    """One index build in a fresh process (so that its peak RSS is its own); prints JSON."""
    started = time.perf_counter()
    from qa_tui.retrieval.index import CorpusIndex

    imported = time.perf_counter()
    rss_after_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    index = CorpusIndex.open([args.folder], args.index_dir, retriever=args.retriever, device="cpu")
    done = time.perf_counter()
    print(json.dumps({
        "retriever": args.retriever,
        "documents": len(index.documents),
        "passages": len(index.passages),
        "indexed": index.report.indexed,
        "import_s": round(imported - started, 2),
        "open_s": round(done - imported, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_after_imports_mib": round(rss_after_import, 1),
        "index_size_mib": round(sum(f.stat().st_size for f in Path(index.directory).rglob("*") if f.is_file())
                                / 2**20, 2),
    }))


def build(args) -> dict:
    papers = covid_papers(args.covid)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "papers"
        write_papers(papers, folder)
        characters = sum(len(p["text"]) for p in papers)

        def child(retriever: str, index_dir: Path) -> dict:
            out = subprocess.run(
                [sys.executable, __file__, "_build-child", str(folder), str(index_dir), retriever],
                capture_output=True, text=True, check=True,
            )
            return json.loads(out.stdout.strip().splitlines()[-1])

        claim_cpu(args.allow_busy)
        for retriever, label in (("bm25", "BM25 only, cold"), ("hybrid", "BM25 + MiniLM vectors, cold")):
            result = child(retriever, Path(tmp) / f"index-{retriever}")
            runs.append({"case": label, **result})
        result = child("hybrid", Path(tmp) / "index-hybrid")
        runs.append({"case": "hybrid, cached (re-open, nothing changed)", **result})
        (folder / f"paper-{papers[0]['id']}.txt").write_text(papers[0]["text"] + "\n\nAddendum.", encoding="utf-8")
        result = child("hybrid", Path(tmp) / "index-hybrid")
        runs.append({"case": "hybrid, one paper changed", **result})
    section = {
        "papers": len(papers),
        "characters": characters,
        "machine": machine(),
        "runs": runs,
    }
    print(f"\n{len(papers)} papers, {characters:,} characters\n")
    print("| case | passages | open (s) | imports (s) | peak RSS (MiB) | RSS after imports (MiB) | on disk (MiB) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        print(f"| {run['case']} | {run['passages']} | {run['open_s']:.2f} | {run['import_s']:.2f} | "
              f"{run['peak_rss_mib']:.0f} | {run['rss_after_imports_mib']:.0f} | {run['index_size_mib']:.1f} |")
    return section


# --- (3) end to end on COVID-QA ---------------------------------------------------------------------------------


def locate_answer(context: str, answer: dict) -> tuple[int, int] | None:
    """The gold answer's character range: at `answer_start`, else nearby (COVID-QA's offsets are sometimes off by
    a leading space or 3 characters), else its first occurrence; None when the text is not in the context."""
    text = answer["text"].strip()
    if not text:
        return None
    given = answer["answer_start"]
    for start in sorted(range(max(0, given - 8), given + 9), key=lambda s: abs(s - given)):
        if context.startswith(text, start):
            return start, start + len(text)
    start = context.find(text)
    return (start, start + len(text)) if start >= 0 else None


def open_covid_corpus(args, retriever: str):
    """The papers as files in a lasting folder, indexed in a lasting cache (vectors are made once for all runs),
    and one in-memory index per paper for retrieval within it, sharing the corpus's vectors."""
    from qa_tui.retrieval.bm25 import BM25Index
    from qa_tui.retrieval.dense import DenseIndex
    from qa_tui.retrieval.index import CorpusIndex, SearchIndex

    papers = covid_papers(args.covid)
    folder = Path(args.work_dir) / "covid-qa-papers"
    paths = write_papers(papers, folder)
    corpus = CorpusIndex.open([folder], Path(args.work_dir) / "indexes", retriever=retriever, device=args.device)
    source_of = {pid: str(path) for pid, path in paths.items()}
    within_index = {}
    vectors = corpus.dense.vectors if corpus.dense is not None else None
    for pid, source in source_of.items():
        rows = [i for i, p in enumerate(corpus.passages) if p.source == source]
        passages = [corpus.passages[i] for i in rows]
        dense = DenseIndex(vectors[rows]) if vectors is not None else None
        within_index[pid] = SearchIndex(passages, BM25Index.build([p.text for p in passages]), dense, device=args.device)
    return papers, corpus, source_of, within_index


def covid_recall(args) -> dict:
    """Answer recall on COVID-QA (no QA model needed): is the gold answer whole inside one of the top-K passages,
    retrieving within its paper (b) or across all papers (c)? It bounds what reading K passages can reach."""
    from qa_tui.retrieval.dense import DenseEncoder

    quiet()
    papers, corpus, source_of, within_index = open_covid_corpus(args, "hybrid")
    pairs, unlocated = [], 0
    for paper in papers:
        for qa in paper["qas"]:
            span = locate_answer(paper["text"], qa["answers"][0])
            if span is None:
                unlocated += 1
            else:
                pairs.append((paper, qa["question"], span))
    vectors = DenseEncoder.shared(args.device).encode([question for _, question, _ in pairs])
    ks = (1, 3, 5, 10)
    per_paper = [len(index.passages) for index in within_index.values()]
    table = {}
    for scope in ("within", "across"):
        for retriever in ("bm25", "dense", "hybrid"):
            found = {k: 0 for k in ks}
            for (paper, question, (start, end)), vector in zip(pairs, vectors):
                index = within_index[paper["id"]] if scope == "within" else corpus
                hits = index.search(question, max(ks), retriever, query_vector=vector)
                for rank, hit in enumerate(hits, start=1):
                    p = hit.passage
                    if p.source == source_of[paper["id"]] and p.start <= start and end <= p.end:
                        for k in ks:
                            found[k] += rank <= k
                        break
            table[f"{scope}/{retriever}"] = {f"recall@{k}": round(found[k] / len(pairs), 4) for k in ks}
    # Answers whole in some passage of their paper at all (the ceiling of any retrieval).
    whole_in_a_passage = sum(
        any(p.start <= s and e <= p.end for p in within_index[paper["id"]].passages) for paper, _, (s, e) in pairs
    )
    section = {
        "questions": len(pairs),
        "answers_not_found_in_context": unlocated,
        "passages": len(corpus.passages),
        "passages_per_paper": {"mean": round(sum(per_paper) / len(per_paper), 1), "max": max(per_paper)},
        "answer_whole_in_some_passage": round(whole_in_a_passage / len(pairs), 4),
        "results": table,
    }
    print(f"\n{len(pairs)} questions; {section['passages_per_paper']['mean']} passages per paper on average; "
          f"{section['answer_whole_in_some_passage']:.3f} of answers lie whole in a passage\n")
    print("| scope | retriever | " + " | ".join(f"recall@{k}" for k in ks) + " |")
    print("|---|---|" + "---:|" * len(ks))
    for key, row in table.items():
        scope, retriever = key.split("/")
        print(f"| {scope} | {retriever} | " + " | ".join(f"{row[f'recall@{k}']:.3f}" for k in ks) + " |")
    return section


# --- (3) end to end on COVID-QA, reading -------------------------------------------------------------------------------


def sample_questions(papers: list[dict], limit: int | None) -> list[tuple[dict, dict]]:
    """(paper, qa) pairs; with a limit, an even spread over the whole set (so over many papers)."""
    pairs = [(paper, qa) for paper in papers for qa in paper["qas"]]
    if limit and limit < len(pairs):
        step = len(pairs) / limit
        pairs = [pairs[int(i * step)] for i in range(limit)]
    return pairs


def e2e(args) -> dict:
    from qa_tui.engine import QAEngine
    from qa_tui.metrics import exact_score, f1_score  # the official SQuAD normalisation, EM and F1
    from qa_tui.retrieval.reader import CorpusReader

    claim_cpu(args.allow_busy)
    quiet()
    papers, corpus, source_of, within_index = open_covid_corpus(args, args.retriever)
    pairs = sample_questions(papers, args.limit)
    engine = QAEngine.load(args.model, device=args.device, precision=args.precision,
                           max_seq_length=args.max_seq_length, doc_stride=args.doc_stride)
    top_k = 5

    def whole(paper, question):
        answer = engine.answer(question, paper["text"], top_k=top_k)
        return answer, source_of[paper["id"]]

    def within(paper, question):
        reader = CorpusReader(engine, within_index[paper["id"]], args.retriever)
        answer = reader.answer(question, k=args.passages, top_k=top_k)
        return answer, source_of[paper["id"]]

    across_reader = CorpusReader(engine, corpus, args.retriever)

    def across(paper, question):
        answer = across_reader.answer(question, k=args.passages, top_k=top_k)
        return answer, (answer.answers[0].source if answer.answers else None)

    modes = {"whole": whole, "within": within, "across": across}
    chosen = [m.strip() for m in args.modes.split(",")]
    results = {}
    # Warm-up (first-call costs: allocator, MiniLM query encoder) kept out of the timing.
    whole(papers[0], "What is this paper about?")
    across(papers[0], "What is this paper about?")
    for mode in chosen:
        run = modes[mode]
        scores = {"em": 0.0, "f1": 0.0, "em_threshold": 0.0, "f1_threshold": 0.0, "right_paper": 0}
        started = time.perf_counter()
        for paper, qa in pairs:
            answer, source = run(paper, qa["question"])
            golds = [a["text"] for a in qa["answers"]] or [""]
            right = source == source_of[paper["id"]]
            scores["right_paper"] += right
            top = answer.answers[0].text if answer.answers and right else ""
            thresholded = answer.best_text if right else ""
            scores["em"] += max(exact_score(top, g) for g in golds)
            scores["f1"] += max(f1_score(top, g) for g in golds)
            scores["em_threshold"] += max(exact_score(thresholded, g) for g in golds)
            scores["f1_threshold"] += max(f1_score(thresholded, g) for g in golds)
        elapsed = time.perf_counter() - started
        n = len(pairs)
        results[mode] = {
            "EM": round(100 * scores["em"] / n, 2),
            "F1": round(100 * scores["f1"] / n, 2),
            "EM_with_null_threshold": round(100 * scores["em_threshold"] / n, 2),
            "F1_with_null_threshold": round(100 * scores["f1_threshold"] / n, 2),
            "right_paper": round(scores["right_paper"] / n, 4),
            "s_per_question": round(elapsed / n, 4),
        }
        print(f"{mode}: {results[mode]}", file=sys.stderr)
    section = {
        "model": args.model,
        "questions": len(pairs),
        "passages_k": args.passages,
        "retriever": args.retriever,
        "windows": {"max_seq_length": engine.windows.max_seq_length, "doc_stride": engine.windows.doc_stride},
        "device": str(engine.device),
        "precision": engine.precision,
        "machine": machine(),
        "note": "EM/F1: the top span (COVID-QA has no unanswerable question); *_with_null_threshold: the reader's "
                "no-answer decision applied. An answer from the wrong paper scores 0.",
        "results": results,
    }
    labels = {
        "whole": "(a) reader over the whole paper",
        "within": f"(b) {args.retriever} within the paper, read top {args.passages}",
        "across": f"(c) {args.retriever} across all {len(papers)} papers, read top {args.passages}",
    }
    print(f"\n{len(pairs)} questions, model {args.model}, {engine.device} {engine.precision}\n")
    print("| mode | EM | F1 | EM (null thr.) | F1 (null thr.) | right paper | s/question |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for mode, row in results.items():
        print(f"| {labels[mode]} | {row['EM']:.1f} | {row['F1']:.1f} | {row['EM_with_null_threshold']:.1f} | "
              f"{row['F1_with_null_threshold']:.1f} | {row['right_paper']:.3f} | {row['s_per_question']:.3f} |")
    return section


# --- command line ---------------------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "_build-child":
        build_child(argparse.Namespace(folder=sys.argv[2], index_dir=sys.argv[3], retriever=sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p_recall = commands.add_parser("recall", help="(1) recall@1/5/20 on SQuAD 2.0 dev")
    p_recall.add_argument("--squad", default=str(SQUAD2_DEV))
    p_recall.add_argument("--limit", type=int, default=0, help="questions (0: all answerable)")
    p_recall.add_argument("--device", default="auto")
    p_recall.add_argument("--no-save", action="store_true")
    p_build = commands.add_parser("build", help="(2) index build time and peak memory for COVID-QA's papers")
    p_build.add_argument("--covid", default=str(COVID_QA))
    p_build.add_argument("--allow-busy", action="store_true", help="time even while a training run shares the CPU")
    p_build.add_argument("--no-save", action="store_true")
    p_cr = commands.add_parser("covid-recall", help="answer recall@K on COVID-QA, within a paper and across")
    p_cr.add_argument("--covid", default=str(COVID_QA))
    p_cr.add_argument("--device", default="auto")
    p_cr.add_argument("--work-dir", default=None, help="papers and their index (default: a per-user cache folder)")
    p_cr.add_argument("--no-save", action="store_true")
    p_e2e = commands.add_parser("e2e", help="(3) end-to-end F1/EM and s/question on COVID-QA")
    p_e2e.add_argument("--model", required=True, help="QA model directory")
    p_e2e.add_argument("--covid", default=str(COVID_QA))
    p_e2e.add_argument("--limit", type=int, default=0, help="questions, spread over the set (0: all 1,380)")
    p_e2e.add_argument("--passages", type=int, default=5, help="K passages read in (b) and (c)")
    p_e2e.add_argument("--retriever", default="hybrid", choices=("hybrid", "bm25", "dense"))
    p_e2e.add_argument("--modes", default="whole,within,across")
    p_e2e.add_argument("--device", default="auto")
    p_e2e.add_argument("--precision", default="auto")
    p_e2e.add_argument("--max-seq-length", type=int, default=None, help="default: the model's, as `ask` uses")
    p_e2e.add_argument("--doc-stride", type=int, default=None, help="default: the model's, as `ask` uses")
    p_e2e.add_argument("--allow-busy", action="store_true", help="time even while a training run shares the CPU")
    p_e2e.add_argument("--no-save", action="store_true")
    p_e2e.add_argument("--work-dir", default=None, help="papers and their index (default: a per-user cache folder)")
    p_e2e.add_argument("--section", default="e2e_covid_qa", help="results key (e.g. a smoke test's)")
    args = parser.parse_args()
    if getattr(args, "work_dir", "") is None:
        args.work_dir = str(bench_cache())
    section = {"recall": recall, "build": build, "covid-recall": covid_recall, "e2e": e2e}[args.command](args)
    name = {"recall": "recall_squad2_dev", "build": "build_covid_qa", "covid-recall": "answer_recall_covid_qa"}.get(
        args.command) or args.section
    section["command"] = "python benchmarks/bench_retrieval.py " + " ".join(sys.argv[1:])
    if not args.no_save:
        save_section(name, section)


if __name__ == "__main__":
    main()
