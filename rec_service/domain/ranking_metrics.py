"""Accuracy and ranking metrics on plain Python values, so their known answers can be tested
by hand. Ranking metrics take a recommended list (best first) and the set of relevant items."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np


def rmse(predicted: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray) -> float:
    p, a = np.asarray(predicted, float), np.asarray(actual, float)
    return float(np.sqrt(np.mean((p - a) ** 2)))


def mae(predicted: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray) -> float:
    p, a = np.asarray(predicted, float), np.asarray(actual, float)
    return float(np.mean(np.abs(p - a)))


def precision_at_k(recommended: Sequence[str], relevant: set[str], k: int) -> float:
    """Relevant items among the first k recommended, over k."""
    return sum(1 for item in recommended[:k] if item in relevant) / k


def recall_at_k(recommended: Sequence[str], relevant: set[str], k: int) -> float:
    """Relevant items among the first k recommended, over all relevant items."""
    if not relevant:
        return 0.0
    return sum(1 for item in recommended[:k] if item in relevant) / len(relevant)


def ndcg_at_k(recommended: Sequence[str], relevant: set[str], k: int) -> float:
    """Binary-relevance NDCG: DCG of the list over the DCG of a perfect list."""
    dcg = sum(1 / math.log2(i + 2) for i, item in enumerate(recommended[:k]) if item in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def average_precision_at_k(recommended: Sequence[str], relevant: set[str], k: int) -> float:
    """Mean of precision@i at each rank i holding a relevant item, over min(k, |relevant|)."""
    hits, total = 0, 0.0
    for i, item in enumerate(recommended[:k], start=1):
        if item in relevant:
            hits += 1
            total += hits / i
    denominator = min(k, len(relevant))
    return total / denominator if denominator else 0.0


def coverage(lists: Iterable[Sequence[str]], catalogue_size: int, k: int) -> float:
    """Share of the catalogue that appears in at least one top-k list."""
    shown = {item for items in lists for item in items[:k]}
    return len(shown) / catalogue_size if catalogue_size else 0.0


def ndcg_per_user(
    lists: Mapping[str, Sequence[str]], relevant: Mapping[str, set[str]], k: int
) -> np.ndarray:
    """Each user's NDCG@k, users with at least one relevant item in `relevant`'s order: two
    rankers measured on the same users are compared pair by pair (selection's pick rule)."""
    users = [u for u, items in relevant.items() if items]
    return np.asarray([ndcg_at_k(lists.get(u, []), relevant[u], k) for u in users], dtype=float)


def beyond_noise(gain: np.ndarray) -> bool:
    """Whether paired gains (one per user or rating, the same ones on both sides) average above
    one standard error of their mean: most of the noise of two separate means cancels."""
    if len(gain) < 2:
        return False
    return bool(gain.mean() > gain.std(ddof=1) / np.sqrt(len(gain)))


def ranking_summary(
    lists: Mapping[str, Sequence[str]],
    relevant: Mapping[str, set[str]],
    k: int,
    catalogue_size: int,
) -> dict[str, float]:
    """Means over users with at least one relevant item, and catalogue coverage."""
    users = [u for u, items in relevant.items() if items]
    if not users:
        raise ValueError("no user has a relevant item")

    def mean(metric: object) -> float:
        return float(np.mean([metric(lists.get(u, []), relevant[u], k) for u in users]))  # type: ignore[operator]

    ndcg = ndcg_per_user(lists, relevant, k)
    return {
        f"precision@{k}": mean(precision_at_k),
        f"recall@{k}": mean(recall_at_k),
        f"ndcg@{k}": float(np.mean(ndcg)),
        # its standard error over users: how far apart two rankers must be to tell them apart
        f"ndcg@{k}_se": float(np.std(ndcg, ddof=1) / np.sqrt(len(ndcg))) if len(ndcg) > 1 else 0.0,
        f"map@{k}": mean(average_precision_at_k),
        "coverage": coverage((lists.get(u, []) for u in users), catalogue_size, k),
        "users": float(len(users)),
    }
