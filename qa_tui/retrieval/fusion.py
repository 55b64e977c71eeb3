"""Reciprocal-rank fusion (Cormack, Clarke & Buettcher, SIGIR 2009): merge rankings without comparing their scores.

An item's fused score is the sum over the rankings that hold it of `weight / (k + rank)`, ranks starting at 1.
BM25 scores and cosine similarities live on different scales; RRF needs only the ranks, and k = 60 (the paper's
value) keeps one ranking's top item from drowning the others.
"""

from __future__ import annotations

from typing import Hashable, Sequence, TypeVar

Item = TypeVar("Item", bound=Hashable)

RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Item]],
    k: float = RRF_K,
    weights: Sequence[float] | None = None,
    limit: int | None = None,
) -> list[tuple[Item, float]]:
    """(item, fused score) pairs, best first; ties go to the item seen first (ranking order, then rank)."""
    if k < 0:
        raise ValueError("k must be at least 0")
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[Item, float] = {}
    first_seen: dict[Item, int] = {}
    for ranking, weight in zip(rankings, weights):
        seen_here = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen_here:  # a ranking that lists an item twice counts its best rank only
                continue
            seen_here.add(item)
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
            first_seen.setdefault(item, len(first_seen))
    fused = sorted(scores.items(), key=lambda pair: (-pair[1], first_seen[pair[0]]))
    return fused if limit is None else fused[:limit]
