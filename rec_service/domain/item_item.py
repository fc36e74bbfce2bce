"""Item-item ranking models in NumPy: a user's scores are their rated movies times an item
matrix, kept sparse as each movie's strongest links (ItemNeighbours), so scoring after a new
rating needs no solve, and fold-in, lazy update and bulk precompute agree by construction.

- cosine (item-KNN): co-raters / sqrt(raters of i * raters of j), each target movie's k best
  sources; also what similar-movie reads and explanations use.
- RP3beta (Paudel et al. 2017; Dacrema et al. 2019): a three-step random walk user -> movie ->
  user -> movie, each step by the walker's degree, with the target's popularity discounted by
  raters^beta; each source movie's k strongest targets.
- EASE^R (Steck 2019): the least-squares item-item matrix with a zero diagonal, in closed form
  B = I - P / diag(P), P = (X'X + lambda I)^-1. Dense and cubic in the movies, so it covers the
  `max_items` most-rated movies only and is kept whole with its negative weights
  (ranking.DenseItemWeights: 4 bytes x max_items^2, 100 MB at 5000); the rest of the catalogue
  gets no EASE score.

Here is the arithmetic on arrays the driver holds; spark_store.item_models decides what reaches
the driver (the per-user cap, the co-ratings in Spark for a catalogue too large for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rec_service.domain.ranking import DenseItemWeights, ItemNeighbours, SingleItemScorer

# Bytes of one block of X (users x covered movies, float32) while EASE^R's X'X is summed: the
# driver never holds X whole (162k users x 5000 movies would be 3.2 GB).
EASE_BLOCK_BYTES = 64 * 1024 * 1024

# Links an item-item ranker keeps in all: a small catalogue keeps (nearly) its whole matrix, a
# large one at least LINKS_PER_MOVIE_MIN per movie. Scoring a user costs their rated movies
# times the links per movie; two CSR layouts of 2M links take about 50 MB.
TOTAL_LINKS = 2_000_000
LINKS_PER_MOVIE_MIN = 100


@dataclass(frozen=True)
class ItemModel:
    """One item-item model's settings: kind cosine, rp3beta (param = beta) or ease (lambda)."""

    kind: str = "cosine"
    param: float = 0.0
    neighbours: int = 50

    def describe(self) -> str:
        if self.kind == "rp3beta":
            return f"RP3beta (beta {self.param:g}, {self.neighbours} links)"
        if self.kind == "ease":
            return f"EASE^R (lambda {self.param:g})"  # dense: no link count
        return f"item-KNN cosine ({self.neighbours} neighbours)"


class EaseSource(Protocol):
    """Where EASE^R's weights come from: X'X built when first asked for, kept for other lambdas."""

    def weights(self, model: ItemModel, max_items: int) -> DenseItemWeights: ...

    def release(self) -> None: ...


class DriverCoRatings:
    """Co-rated movie pairs as NumPy arrays on the driver (each pair once, i < j): the same
    models as SparkCoRatings, the same links, ties to the lower index, in seconds where the
    pairs fit in memory."""

    def __init__(
        self, users: np.ndarray, items: np.ndarray, item_count: int, ease: EaseSource
    ) -> None:
        self.items, self.ease = item_count, ease
        self.raters = np.bincount(items, minlength=item_count).astype(np.float64)
        order = np.argsort(users, kind="stable")
        users, items = users[order], items[order]
        starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
        ends = np.r_[starts[1:], len(users)]
        firsts, seconds, weights = [], [], []
        upper: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
            degree = hi - lo
            if degree < 2:
                continue
            if degree not in upper:
                upper[degree] = np.triu_indices(degree, 1)
            a, b = upper[degree]
            mine = np.sort(items[lo:hi])
            firsts.append(mine[a])
            seconds.append(mine[b])
            weights.append(np.full(len(a), 1.0 / degree))
        pairs: np.ndarray = np.empty(0, np.int64)
        self.both: np.ndarray = np.empty(0)  # co-raters of each pair
        self.walk: np.ndarray = np.empty(0)  # sum over co-raters of 1 / their degree
        if firsts:
            keys = np.concatenate(firsts).astype(np.int64) * item_count + np.concatenate(seconds)
            pairs, inverse = np.unique(keys, return_inverse=True)
            self.both = np.bincount(inverse).astype(np.float64)
            self.walk = np.bincount(inverse, weights=np.concatenate(weights))
        self.first, self.second = pairs // item_count, pairs % item_count

    def links(self, model: ItemModel, ease_max_items: int) -> SingleItemScorer:
        # Both directions of every pair: (target, source) and (source, target).
        targets = np.concatenate([self.first, self.second])
        sources = np.concatenate([self.second, self.first])
        raters = self.raters
        if model.kind == "cosine":
            both = np.concatenate([self.both, self.both])
            similarity = both / np.sqrt(raters[targets] * raters[sources])
            keep = _top_per_group(targets, sources, similarity, model.neighbours)
        elif model.kind == "rp3beta":
            walk = np.concatenate([self.walk, self.walk])
            similarity = walk / (raters[sources] * np.power(raters[targets], model.param))
            keep = _top_per_group(sources, targets, similarity, model.neighbours)
        elif model.kind == "ease":
            return self.ease.weights(model, ease_max_items)
        else:
            raise ValueError(f"unknown item model {model.kind!r}")
        return ItemNeighbours.from_pairs(
            targets[keep], sources[keep], similarity[keep].astype(np.float32), self.items
        )

    def release(self) -> None:
        del self.first, self.second, self.both, self.walk
        self.ease.release()


def capped_pairs(histogram: tuple[np.ndarray, np.ndarray], cap: int) -> int:
    """Co-rated (user, pair) rows when each user's ratings are capped at `cap`; histogram is
    (degree, users with that many ratings)."""
    degree, users = histogram
    kept = np.minimum(degree, cap)
    return int((users * kept * (kept - 1) // 2).sum())


def ratings_cap(histogram: tuple[np.ndarray, np.ndarray], per_user: int, budget: int) -> int:
    """The largest cap up to per_user whose pairs fit the budget; never below 2 (one pair per
    user), whatever the budget, unless per_user is."""
    low, high = min(2, per_user), per_user
    if capped_pairs(histogram, high) <= budget:
        return high
    while low < high:  # pairs grow with the cap: the last cap that fits
        middle = (low + high + 1) // 2
        if capped_pairs(histogram, middle) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


def links_per_movie(movies: int, at_least: int) -> int:
    """How many links per movie an item-item ranker keeps for a catalogue of `movies`."""
    return max(at_least, LINKS_PER_MOVIE_MIN, min(movies - 1, TOTAL_LINKS // max(movies, 1)))


def ease_gram(
    users: np.ndarray, items: np.ndarray, item_count: int, max_items: int
) -> tuple[np.ndarray, np.ndarray]:
    """(kept, X'X): the `max_items` most-rated movies and their co-rating counts (the diagonal
    their raters), X summed one block of users at a time."""
    kept = _most_rated(np.bincount(items, minlength=item_count).astype(np.float64), max_items)
    position = np.full(item_count, -1, dtype=np.int64)
    position[kept] = np.arange(len(kept))
    inside = position[items] >= 0
    _, rows = np.unique(users[inside], return_inverse=True)
    columns = position[items[inside]]
    gram = np.zeros((len(kept), len(kept)), dtype=np.float32)
    block = max(1, EASE_BLOCK_BYTES // (4 * max(len(kept), 1)))
    order = np.argsort(rows, kind="stable")
    rows, columns = rows[order], columns[order]
    users_count = int(rows.max(initial=-1)) + 1  # rows are 0..users_count-1, none empty
    firsts = np.arange(0, users_count, block)
    bounds: np.ndarray = np.searchsorted(rows, np.append(firsts, users_count))
    starts, ends = bounds[:-1].tolist(), bounds[1:].tolist()
    for first, lo, hi in zip(firsts.tolist(), starts, ends, strict=True):
        # The last block holds only the users left: a small data set sums no empty rows.
        x = np.zeros((min(block, users_count - first), len(kept)), dtype=np.float32)
        x[rows[lo:hi] - first, columns[lo:hi]] = 1.0
        gram += x.T @ x
    return kept, gram


def ease_weights(
    gram: np.ndarray, kept: np.ndarray, model: ItemModel, item_count: int
) -> DenseItemWeights:
    """B = I - P / diag(P) with P = (gram + lambda I)^-1, kept whole: row = the rated movie."""
    if len(kept) < 2:
        return DenseItemWeights.empty(item_count)
    # float32 halves the inversion's time (5000 movies: 10-12 s in float64 on 2 cores); the
    # ridge keeps the matrix well conditioned.
    gram = gram.astype(np.float32)  # a copy: the caller's X'X serves other lambdas
    gram[np.diag_indices_from(gram)] += model.param
    p = np.linalg.inv(gram)
    del gram
    b = p / (-np.diag(p))  # column j divided by -P_jj
    b[np.diag_indices_from(b)] = 0.0  # a movie never scores itself
    return DenseItemWeights(item_count, kept.astype(np.int64), b.astype(np.float32, copy=False))


def _top_per_group(
    groups: np.ndarray, others: np.ndarray, values: np.ndarray, k: int
) -> np.ndarray:
    """Indices of each group's k largest values, ties to the lower `others` index."""
    order = np.lexsort((others, -values, groups))
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return order[rank < k]


def _most_rated(counts: np.ndarray, limit: int) -> np.ndarray:
    """Indices of the `limit` most-rated movies (ties to the lower index), rated ones only."""
    order = np.lexsort((np.arange(len(counts)), -counts))[: min(limit, len(counts))]
    return order[counts[order] > 0]
