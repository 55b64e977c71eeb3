"""A BM25 index over passage texts (`bm25s`: sparse scores precomputed at indexing, fast numpy queries).

Tokens: lower-cased words of two or more letters or digits, English stop words removed, and a light "S" stemmer
(Harman 1991: plural endings only), which merges `vaccines`/`vaccine` without the over-stemming of Porter.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Sequence

import numpy as np

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def s_stem(word: str) -> str:
    """Harman's S stemmer: -ies -> -y, -es -> -e, -s -> '' (not after -ss, -us, -is, -ae, -ee...)."""
    if len(word) > 3 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if len(word) > 2 and word.endswith("s") and not word.endswith(("us", "ss", "is")):
        return word[:-1]
    return word


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """The BM25 tokens of each text."""
    from bm25s.stopwords import STOPWORDS_EN

    stop = set(STOPWORDS_EN)
    return [
        [s_stem(token) for token in _TOKEN.findall(text.lower()) if token not in stop] for text in texts
    ]


class BM25Index:
    """BM25 scores of passages for a query; `search` returns (passage indices, scores), best first."""

    def __init__(self, model, size: int):
        self.model = model
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> "BM25Index":
        import bm25s

        model = bm25s.BM25()
        model.index(tokenize(texts), show_progress=False)
        return cls(model, len(texts))

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every passage (0 where it shares no term with the query)."""
        tokens = [token for token in tokenize([query])[0] if token in self.model.vocab_dict]
        if not tokens or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.model.get_scores(tokens), dtype=np.float32)

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best passages that share a term with the query (fewer when fewer do)."""
        return top_k(self.scores(query), k, positive_only=True)

    def save(self, directory: str | os.PathLike) -> None:
        self.model.save(str(directory), show_progress=False)
        (Path(directory) / "size.txt").write_text(str(self.size), encoding="utf-8")

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "BM25Index":
        import bm25s

        size = int((Path(directory) / "size.txt").read_text(encoding="utf-8"))
        model = bm25s.BM25.load(str(directory), show_progress=False)
        return cls(model, size)


def top_k(scores: np.ndarray, k: int, positive_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the k highest scores, best first (ties: lower index first)."""
    scores = np.asarray(scores)
    candidates = np.flatnonzero(scores > 0) if positive_only else np.arange(scores.size)
    if k <= 0 or candidates.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    values = scores[candidates]
    if candidates.size > k:
        keep = np.argpartition(-values, k - 1)[:k]
        candidates, values = candidates[keep], values[keep]
    order = np.lexsort((candidates, -values))
    return candidates[order], values[order]
