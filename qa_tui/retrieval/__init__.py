"""Find the passage, then read it: documents split into passages, BM25 + MiniLM search, a reader over the hits.

The API the TUI uses:

    index = CorpusIndex.open(["papers/"], note=print)      # cached on disk, refreshed for changed files
    reader = CorpusReader(engine, index)                    # retriever: hybrid (default), bm25, dense, whole
    answers = reader.ask("What is MTCT?", k=5)              # list[Answer], one per passage, best first
    answers[0].answers[0].source, .start, .end              # file offsets: index.document_text(source)[start:end]
    answers[0].extra["passage"]                             # {"rank", "start", "end", "score"} of the passage
"""

from qa_tui.retrieval.fusion import reciprocal_rank_fusion
from qa_tui.retrieval.index import CorpusIndex, Hit, IndexSettings, SearchIndex, Skipped
from qa_tui.retrieval.passages import Passage, read_document, split_passages
from qa_tui.retrieval.reader import WHOLE, CorpusReader, SourcedSpan, merge_answers

__all__ = [
    "WHOLE",
    "CorpusIndex",
    "CorpusReader",
    "Hit",
    "IndexSettings",
    "Passage",
    "SearchIndex",
    "Skipped",
    "SourcedSpan",
    "merge_answers",
    "read_document",
    "reciprocal_rank_fusion",
    "split_passages",
]
