"""NumPy ranking shared by the bulk Spark job and the per-read recompute, so both agree: top-N
selection, Item-CF neighbour scoring and the ALS + Item-CF blend. NumPy only: Spark ships this
module to its workers by value."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np


def top_n(
    scores: np.ndarray,
    n: int,
    exclude: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the n best items, best first; ties go to the lower index.

    exclude: item indices never returned (what the user rated). allowed: boolean mask of items
    that may be returned (a filter); None allows all.
    """
    work = np.array(scores, dtype=np.float64, copy=True)
    if allowed is not None:
        work[~allowed] = -np.inf
    if exclude is not None and len(exclude):
        work[exclude] = -np.inf
    candidates = int(np.count_nonzero(work > -np.inf))
    k = min(n, candidates)
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    part = np.argpartition(-work, k - 1)[:k] if k < len(work) else np.arange(len(work))
    part = part[work[part] > -np.inf]
    order = np.lexsort((part, -work[part]))[:k]
    best = part[order]
    return best, work[best]


@dataclass(frozen=True)
class ItemNeighbours:
    """Each movie's most similar movies (Item-CF), in two CSR layouts over model item indices:
    by movie (its neighbours, most similar first) for similar-movie reads and explanations, and
    by neighbour (the movies that list it) for scoring a user's rated movies at once."""

    items: int
    indptr: np.ndarray  # int64 (items + 1): neighbours of i are neighbour[indptr[i]:indptr[i+1]]
    neighbour: np.ndarray  # int64
    similarity: np.ndarray  # float32, aligned with neighbour
    by_neighbour_indptr: np.ndarray  # the same pairs grouped by neighbour:
    by_neighbour_item: np.ndarray  #   the movies that list n are by_neighbour_item[...n...]
    by_neighbour_similarity: np.ndarray

    @classmethod
    def from_pairs(
        cls, item: np.ndarray, neighbour: np.ndarray, similarity: np.ndarray, items: int
    ) -> ItemNeighbours:
        by_item = np.lexsort((neighbour, -similarity, item))
        by_neighbour = np.lexsort((item, neighbour))
        return cls(
            items=items,
            indptr=_indptr(item, items),
            neighbour=neighbour[by_item].astype(np.int64),
            similarity=similarity[by_item].astype(np.float32),
            by_neighbour_indptr=_indptr(neighbour, items),
            by_neighbour_item=item[by_neighbour].astype(np.int64),
            by_neighbour_similarity=similarity[by_neighbour].astype(np.float32),
        )

    @classmethod
    def empty(cls, items: int) -> ItemNeighbours:
        none = np.empty(0, dtype=np.int64)
        return cls.from_pairs(none, none, np.empty(0, dtype=np.float32), items)

    def with_items(self, items: int) -> ItemNeighbours:
        """The same neighbours over a catalogue grown to `items` (new movies have none)."""
        grow = items - self.items
        if grow <= 0:
            return self
        return dataclasses.replace(
            self,
            items=items,
            indptr=np.concatenate([self.indptr, np.full(grow, self.indptr[-1])]),
            by_neighbour_indptr=np.concatenate(
                [self.by_neighbour_indptr, np.full(grow, self.by_neighbour_indptr[-1])]
            ),
        )

    def neighbours(self, item: int) -> tuple[np.ndarray, np.ndarray]:
        """(neighbour indices, similarities) of one movie, most similar first."""
        if item >= self.items:
            return self.neighbour[:0], self.similarity[:0]
        lo, hi = self.indptr[item], self.indptr[item + 1]
        return self.neighbour[lo:hi], self.similarity[lo:hi]

    def scores(self, rated: np.ndarray, n: int) -> np.ndarray:
        """Item-CF score of every movie for a user who rated `rated`: the summed similarity of
        the movie to each rated movie among its neighbours. n is the length of the result."""
        rated = rated[rated < self.items]
        if not len(rated):
            return np.zeros(n, dtype=np.float64)
        starts = self.by_neighbour_indptr[rated]
        ends = self.by_neighbour_indptr[rated + 1]
        lengths = ends - starts
        # The positions starts[0]..ends[0]-1, starts[1]..ends[1]-1, ... without a Python loop.
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        picks = offsets + np.arange(int(lengths.sum()))
        # bincount sums the weights per target (np.add.at did the same 5-10x slower).
        return np.bincount(
            self.by_neighbour_item[picks],
            weights=self.by_neighbour_similarity[picks].astype(np.float64),
            minlength=n,
        )[:n]

    def reasons(self, item: int, rated: np.ndarray, limit: int) -> list[int]:
        """The user's rated movies that most made `item` score: its most similar neighbours
        among them, at most `limit`."""
        neighbours, _ = self.neighbours(item)
        mask = np.isin(neighbours, rated)
        return [int(j) for j in neighbours[mask][:limit]]


@dataclass(frozen=True, eq=False)
class DenseItemWeights:
    """A dense item-item weight matrix over some movies (EASE^R): row = the rated movie, column
    = the scored one, negative weights included. EASE's weights are dense and signed, and
    keeping each movie's strongest positive links as ItemNeighbours lost 0.012-0.037 NDCG@10
    (MovieLens 100K, the demo data): its negative weights are part of the least-squares fit."""

    items: int
    kept: np.ndarray  # int64 (m,): the model item index of each row and column
    weights: np.ndarray  # float32 (m, m), zero diagonal
    position: np.ndarray = dataclasses.field(init=False, repr=False)  # item -> row, or -1

    def __post_init__(self) -> None:
        position = np.full(self.items, -1, dtype=np.int64)
        position[self.kept] = np.arange(len(self.kept))
        object.__setattr__(self, "position", position)  # derived once; the class is frozen

    @classmethod
    def empty(cls, items: int) -> DenseItemWeights:
        return cls(items, np.empty(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32))

    def with_items(self, items: int) -> DenseItemWeights:
        """The same weights over a catalogue grown to `items` (new movies have none)."""
        if items <= self.items:
            return self
        return DenseItemWeights(items, self.kept, self.weights)

    def scores(self, rated: np.ndarray, n: int) -> np.ndarray:
        """The score of every movie for a user who rated `rated`: the sum of their rows."""
        out = np.zeros(n, dtype=np.float64)
        rated = rated[(rated >= 0) & (rated < self.items)]
        rows = self.position[rated]
        rows = rows[rows >= 0]
        if len(rows):
            inside = self.kept < n
            summed = self.weights[rows].sum(axis=0, dtype=np.float64)
            out[self.kept[inside]] = summed[inside]
        return out


# One item-item model: sparse strongest links, or a dense matrix (EASE^R).
SingleItemScorer = ItemNeighbours | DenseItemWeights


@dataclass(frozen=True, eq=False)
class ItemModelBlend:
    """Two item-item models as one: each scaled to its largest magnitude for the user (as
    `blend` scales its parts), the second given `second_share`. Models that see the catalogue
    differently (EASE^R's least-squares weights, RP3beta's popularity-damped walks) miss
    different movies, and on some data sets their blend ranks above either
    (benchmarks/results/quality-probes.md). Whatever scores a user (the bulk precompute, the
    lazy recompute, fold-in, tuning) calls `scores`, so all of them rank alike."""

    first: SingleItemScorer
    second: SingleItemScorer
    second_share: float

    @property
    def items(self) -> int:
        return self.first.items

    def with_items(self, items: int) -> ItemModelBlend:
        if items <= self.items:
            return self
        return ItemModelBlend(
            self.first.with_items(items), self.second.with_items(items), self.second_share
        )

    def scores(self, rated: np.ndarray, n: int) -> np.ndarray:
        first = _unit(self.first.scores(rated, n))
        second = _unit(self.second.scores(rated, n))
        return (1.0 - self.second_share) * first + self.second_share * second


# The ranker's item-item part: one model, or a blend of two.
ItemScorer = SingleItemScorer | ItemModelBlend


def blend(
    als: np.ndarray,
    item_item: np.ndarray,
    als_weight: float,
    popularity: np.ndarray | None = None,
    popularity_weight: float = 0.0,
) -> np.ndarray:
    """als_weight * ALS score + popularity_weight * popularity + the rest * item-item score,
    each first divided by its largest magnitude for this user, so a weight means the same for
    every user. A part with weight 0 is not computed into the sum."""
    item_item_weight = 1.0 - als_weight - popularity_weight
    total = np.zeros(len(als), dtype=np.float64)
    if als_weight:
        total += als_weight * _unit(als)
    if item_item_weight > 1e-12:
        total += item_item_weight * _unit(item_item)
    if popularity_weight and popularity is not None:
        total += popularity_weight * _unit(popularity[: len(als)].astype(np.float64))
    return total


def _unit(scores: np.ndarray) -> np.ndarray:
    top = float(np.max(np.abs(scores))) if len(scores) else 0.0
    return scores / top if top > 0 else scores


def _indptr(keys: np.ndarray, n: int) -> np.ndarray:
    counts = np.bincount(keys.astype(np.int64), minlength=n) if len(keys) else np.zeros(n, int)
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
