"""Item-item ranking models: a user's scores are their rated movies times an item matrix, kept
sparse as each movie's strongest links (ItemNeighbours). So scoring after a new rating needs no
solve, and fold-in, lazy update and bulk precompute agree by construction.

- cosine (item-KNN): co-raters / sqrt(raters of i * raters of j), each target movie's k best
  sources; also what similar-movie reads and explanations use.
- RP3beta (Paudel et al. 2017; Dacrema et al. 2019): a three-step random walk user -> movie ->
  user -> movie, each step by the walker's degree, with the target's popularity discounted by
  raters^beta; each source movie's k strongest targets.
- EASE^R (Steck 2019): the least-squares item-item matrix with a zero diagonal, in closed form
  B = I - P / diag(P), P = (X'X + lambda I)^-1. Dense and cubic in the movies, so it runs on
  the driver over the `max_items` most-rated movies only, and is kept whole with its negative
  weights (ranking.DenseItemWeights: 4 bytes x max_items^2, 100 MB at 5000); the rest of the
  catalogue gets no EASE score.

Cosine and RP3beta start from the co-rating counts of one pass over the ratings
(`co_ratings`), made once per training: on the driver as sparse NumPy arrays of co-rated pairs
where there are few enough (DRIVER_MAX_PAIRS; each variant is then one sort, seconds),
otherwise as a Spark self-join that scales out with the cluster (each variant one window over
it). EASE^R's X'X is a dense product over user blocks (EaseInput) from every rating of the
movies it covers: its cost grows with users x movies^2, not with the pairs a heavy rater adds,
so the per-user cap that bounds the pairs is not applied to it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from pyspark.sql import DataFrame, SparkSession

from spark_store.columns import numeric_columns
from spark_store.ranking import DenseItemWeights, ItemNeighbours, ItemScorer

log = logging.getLogger(__name__)

# Bytes of one block of X (users x covered movies, float32) while EASE^R's X'X is summed: the
# driver never holds X whole (162k users x 5000 movies would be 3.2 GB).
EASE_BLOCK_BYTES = 64 * 1024 * 1024

# Co-rated (user, pair) rows up to which co-ratings are counted on the driver: about 40 bytes of
# working arrays per row, 1.6 GB at the limit (computed, not measured). The demo data has 6.9M
# once each user's ratings are capped at 300.
DRIVER_MAX_PAIRS = 40_000_000
# Links an item-item ranker keeps in all: a small catalogue keeps (nearly) its whole matrix, a
# large one at least LINKS_PER_MOVIE_MIN per movie. Scoring a user costs their rated movies
# times the links per movie; two CSR layouts of 2M links take about 50 MB.
TOTAL_LINKS = 2_000_000
LINKS_PER_MOVIE_MIN = 100

# Pairs a training may count per rating once they pass what the driver holds: the work of
# the co-ratings stays linear in the ratings (co_ratings).
PAIRS_PER_RATING = 10.0

DEGREES_SQL = """
SELECT degree, COUNT(*) AS users FROM (
  SELECT COUNT(*) AS degree FROM {ratings} GROUP BY user_idx
) GROUP BY degree
"""

CAPPED_SQL = """
SELECT user_idx, item_idx FROM (
  SELECT user_idx, item_idx, ROW_NUMBER() OVER (
    PARTITION BY user_idx ORDER BY timestamp DESC, item_idx) AS position
  FROM {ratings}
) WHERE position <= {per_user}
"""

CO_RATINGS_SQL = """
WITH rated AS (
  SELECT user_idx, item_idx FROM {capped}
),
degree AS (
  SELECT user_idx, 1.0 / COUNT(*) AS inverse_degree FROM rated GROUP BY user_idx
),
raters AS (
  SELECT item_idx, COUNT(*) AS n FROM rated GROUP BY item_idx
),
pairs AS (
  SELECT a.item_idx AS i, b.item_idx AS j, COUNT(*) AS both_rated,
         SUM(d.inverse_degree) AS walk
  FROM rated a
  JOIN rated b ON a.user_idx = b.user_idx AND a.item_idx < b.item_idx
  JOIN degree d ON d.user_idx = a.user_idx
  GROUP BY a.item_idx, b.item_idx
),
both_ways AS (
  SELECT i AS item_idx, j AS other_idx, both_rated, walk FROM pairs
  UNION ALL
  SELECT j AS item_idx, i AS other_idx, both_rated, walk FROM pairs
)
SELECT c.item_idx, c.other_idx, c.both_rated, c.walk,
       CAST(ri.n AS DOUBLE) AS item_raters, CAST(ro.n AS DOUBLE) AS other_raters
FROM both_ways c
JOIN raters ri ON ri.item_idx = c.item_idx
JOIN raters ro ON ro.item_idx = c.other_idx
"""

# item_idx is the target movie (the one scored), neighbour_idx the rated one; `keep_per` names
# the column whose k strongest links are kept.
TOP_K_SQL = """
SELECT item_idx, neighbour_idx, CAST(similarity AS FLOAT) AS similarity FROM (
  SELECT item_idx, neighbour_idx, similarity, ROW_NUMBER() OVER (
    PARTITION BY {keep_per} ORDER BY similarity DESC, item_idx, neighbour_idx) AS position
  FROM (SELECT item_idx, other_idx AS neighbour_idx, {similarity} AS similarity FROM {co})
) WHERE position <= {k}
"""
COSINE = "both_rated / SQRT(item_raters * other_raters)"
# The walk from rated movie `other` to target `item`: sum over co-raters of 1/degree, divided
# by the source's raters (the walk's middle step) and the target's raters^beta (popularity).
RP3BETA = "walk / (other_raters * POW(item_raters, {beta}))"


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


class SparkCoRatings:
    """Every co-rated movie pair with its counts, cached in Spark: cosine and RP3beta for a
    catalogue too large for the driver."""

    def __init__(self, spark: SparkSession, capped: DataFrame, items: int, ease: EaseInput) -> None:
        self.spark, self.capped, self.items, self.ease = spark, capped, items, ease
        view = f"co_ratings_input_{id(self)}"
        capped.createOrReplaceTempView(view)
        try:
            self.df = spark.sql(CO_RATINGS_SQL.format(capped=view)).cache()
        finally:
            spark.catalog.dropTempView(view)
        self._view = f"co_ratings_{id(self)}"
        self.df.createOrReplaceTempView(self._view)

    def table(self, model: ItemModel) -> DataFrame:
        """(item_idx, neighbour_idx, similarity) of a cosine or RP3beta model, cached."""
        if model.kind == "cosine":
            similarity, keep_per = COSINE, "item_idx"
        elif model.kind == "rp3beta":
            similarity, keep_per = RP3BETA.format(beta=float(model.param)), "neighbour_idx"
        else:
            raise ValueError(f"{model.kind} is not a co-rating model")
        sql = TOP_K_SQL.format(
            keep_per=keep_per, similarity=similarity, co=self._view, k=int(model.neighbours)
        )
        return self.spark.sql(sql).cache()

    def links(self, model: ItemModel, ease_max_items: int) -> ItemScorer:
        if model.kind == "ease":
            return self.ease.weights(model, ease_max_items)
        table = self.table(model)
        try:
            return collect_links(table, self.items)
        finally:
            table.unpersist()

    def release(self) -> None:
        self.spark.catalog.dropTempView(self._view)
        self.df.unpersist()
        self.capped.unpersist()
        self.ease.release()


class DriverCoRatings:
    """Co-rated movie pairs as NumPy arrays on the driver (each pair once, i < j): the same
    models as SparkCoRatings, the same links, ties to the lower index, in seconds where the
    pairs fit in memory."""

    def __init__(
        self, users: np.ndarray, items: np.ndarray, item_count: int, ease: EaseInput
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

    def links(self, model: ItemModel, ease_max_items: int) -> ItemScorer:
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


CoRatings = SparkCoRatings | DriverCoRatings


def co_ratings(
    spark: SparkSession,
    indexed: DataFrame,
    per_user: int,
    item_count: int,
    pairs_per_rating: float = PAIRS_PER_RATING,
    driver_max_pairs: int = DRIVER_MAX_PAIRS,
) -> CoRatings:
    """The co-ratings of each user's most recent ratings, at most `per_user` of them and fewer
    where the pairs would pass the budget: on the driver when they fit DRIVER_MAX_PAIRS, a Spark
    table otherwise.

    The cap is Mahout's maxPrefsPerUser: the pairs a user contributes grow with the square of
    their ratings, and the demo data has 61M (user, pair) rows, 22% of them from its 5 heaviest
    raters. Measured on the demo data (2 cores, Spark, cosine alone): all pairs both ways 89 s,
    each pair once 62 s, with the cap at 300 14-18 s, while Item-CF's NDCG@10 went from 0.362 to
    0.361 (per-user 75/25 split). Scoring still uses all of a user's ratings.

    A fixed cap keeps the work linear in the users, but at up to per_user / 2 pairs per rating:
    60 on synthetic data, 1.5 billion rows at 25M ratings. So the cap is lowered until the pairs
    fit max(DRIVER_MAX_PAIRS, pairs_per_rating x ratings): a data set whose pairs fit the
    driver keeps per_user (the demo data, MovieLens 100K), a larger one does work linear in its
    ratings.

    EASE^R is not capped (EaseInput, from all of `indexed`): a NumPy prototype on the same
    per-user 75/25 protocol measured NDCG@10 0.002-0.004 higher from every rating than from each
    user's 300 latest (demo data, two seeds, lambda 100-400)."""
    view = f"capped_input_{id(indexed)}"
    indexed.select("user_idx", "item_idx", "timestamp").createOrReplaceTempView(view)
    try:
        degrees = spark.sql(DEGREES_SQL.format(ratings=view)).collect()
        histogram = (
            np.asarray([r[0] for r in degrees], dtype=np.int64),
            np.asarray([r[1] for r in degrees], dtype=np.int64),
        )
        ratings = int((histogram[0] * histogram[1]).sum())
        budget = max(driver_max_pairs, int(pairs_per_rating * ratings))
        cap = ratings_cap(histogram, per_user, budget)
        pairs = capped_pairs(histogram, cap)
        if cap < per_user:
            log.info(
                "co-ratings: each user's %d most recent ratings count (not %d): %d pairs fit "
                "the budget of %d (%.0f per rating)",
                cap,
                per_user,
                pairs,
                budget,
                pairs_per_rating,
            )
        capped = spark.sql(CAPPED_SQL.format(ratings=view, per_user=cap)).cache()
    finally:
        spark.catalog.dropTempView(view)
    ease = EaseInput(indexed.select("user_idx", "item_idx"), item_count)
    if pairs <= driver_max_pairs:
        users, items = _pairs(capped)
        capped.unpersist()
        return DriverCoRatings(users, items, item_count, ease)
    log.info(
        "co-ratings in Spark: %d co-rated (user, pair) rows, above the driver's %d",
        pairs,
        driver_max_pairs,
    )
    return SparkCoRatings(spark, capped, item_count, ease)


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


def item_neighbours(
    spark: SparkSession, indexed: DataFrame, k: int, per_user: int = 300
) -> DataFrame:
    """(item_idx, neighbour_idx, similarity) by Spark: each movie's k most similar movies by
    cosine, from ratings with user_idx, item_idx and timestamp columns; ties to the lower
    index."""
    # Table only, and the cap never lowered: per_user pairs per rating is more than any can have.
    co = co_ratings(spark, indexed, per_user, 0, float(per_user), driver_max_pairs=-1)
    assert isinstance(co, SparkCoRatings)
    try:
        table = co.table(ItemModel("cosine", 0.0, k))
        table.count()  # materialised while the co-ratings are cached
        return table
    finally:
        co.release()


def cosine_links(co: CoRatings, k: int) -> ItemNeighbours:
    """Item-CF: each movie's k most similar movies by cosine (always sparse links)."""
    links = co.links(ItemModel("cosine", 0.0, k), ease_max_items=0)
    assert isinstance(links, ItemNeighbours)  # only EASE^R is dense
    return links


def links_per_movie(movies: int, at_least: int) -> int:
    """How many links per movie an item-item ranker keeps for a catalogue of `movies`."""
    return max(at_least, LINKS_PER_MOVIE_MIN, min(movies - 1, TOTAL_LINKS // max(movies, 1)))


def collect_links(table: DataFrame, items: int) -> ItemNeighbours:
    """A link table as NumPy arrays on the driver."""
    rows = table.select("item_idx", "neighbour_idx", "similarity").collect()
    return ItemNeighbours.from_pairs(
        np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
        np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows)),
        np.fromiter((r[2] for r in rows), dtype=np.float32, count=len(rows)),
        items,
    )


class EaseInput:
    """EASE^R's input: every (user, movie) training row, collected when an EASE^R model is first
    asked for; X'X over the most-rated movies is then kept for the other lambdas tuning tries
    (float32: 100 MB at 5000 movies; exact counts up to 2^24 co-raters)."""

    def __init__(self, ratings: DataFrame, item_count: int) -> None:
        self.ratings, self.items = ratings, item_count
        self._gram: tuple[int, np.ndarray, np.ndarray] | None = None  # (max_items, kept, X'X)

    def weights(self, model: ItemModel, max_items: int) -> DenseItemWeights:
        if self._gram is None or self._gram[0] != max_items:
            self._gram = None  # the old one freed before the new one is built
            users, items = _pairs(self.ratings)
            self._gram = (max_items, *ease_gram(users, items, self.items, max_items))
        _, kept, gram = self._gram
        return _ease(gram, kept, model, self.items)

    def release(self) -> None:
        self._gram = None


def ease_links(
    users: np.ndarray, items: np.ndarray, item_count: int, model: ItemModel, max_items: int
) -> DenseItemWeights:
    """EASE^R over the `max_items` most-rated movies, from (user index, item index) pairs."""
    kept, gram = ease_gram(users, items, item_count, max_items)
    return _ease(gram, kept, model, item_count)


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


def _ease(
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


def _pairs(ratings: DataFrame) -> tuple[np.ndarray, np.ndarray]:
    users, items = numeric_columns(ratings, (np.int64, np.int64))
    return users, items
