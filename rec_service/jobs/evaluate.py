"""`movierec evaluate`: the quality of what GetTopN and PredictRating serve, beside the baselines
they must beat, on any MovieLens-format data set.

- Ranking, on a per-user split (default 75/25): precision, recall, NDCG and MAP at k and catalogue
  coverage of top-k lists that exclude each user's training movies, as GetTopN does; relevant =
  the user's held-out movies. Rows, all from the same split: popularity (most rated in
  training), plain explicit ALS (the original tutorial's ranker), plain implicit ALS, Item-CF
  alone, and GetTopN's ranker (the configured implicit ALS blended with Item-CF).
- Rating accuracy, on a random split (default 80/20): RMSE and MAE of PredictRating's bias-aware
  ALS beside plain Spark ALS at several ranks and regParams, on the same test pairs: those
  whose user and movie are in training (as Spark's coldStartStrategy=drop), the rest counted.
Every model, bias, neighbour and popularity count is fitted on the training side only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from pyspark.sql import DataFrame, SparkSession

from rec_service.jobs import ranking_metrics as metrics
from spark_store.bias_als import fit_biases, residuals
from spark_store.item_cf import collect_neighbours, item_neighbours
from spark_store.model_types import AlsParams, ModelSettings
from spark_store.models import factor_pair
from spark_store.ranking import ItemNeighbours, blend, top_n
from spark_store.splits import per_user_split, random_split
from spark_store.training import apply_index, fit_als, index_ids, rating_scale

# The baselines' settings: the tutorial's explicit ALS and a plain implicit ALS (issue 6's table).
TUTORIAL_ALS = AlsParams(rank=10, reg_param=0.05, max_iter=10)
PLAIN_IMPLICIT_ALS = AlsParams(rank=32, reg_param=0.1, max_iter=10, implicit_prefs=True, alpha=10)
# Plain ALS's best is taken over these (rank, regParam): the tutorial's rank and the rating
# model's, so the comparison is not won by rank alone.
PLAIN_ALS_GRID = tuple((rank, reg) for rank in (10, 40) for reg in (0.05, 0.1, 0.15, 0.2))

Scorer = Callable[[int, np.ndarray], np.ndarray]  # (user index, rated items) -> item scores


@dataclass
class Evaluation:
    """Every figure of one evaluation run."""

    accuracy: dict[str, dict[str, float]] = field(default_factory=dict)
    ranking: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: float = 0.0


class Holdout:
    """A training side indexed for Spark and, per user, the held-out movies to find."""

    def __init__(self, spark: SparkSession, train: DataFrame, test: DataFrame) -> None:
        self.user_ids, self.item_ids, indexed = index_ids(spark, train)
        self.indexed = indexed.cache()
        rows = self.indexed.select("user_idx", "item_idx").collect()
        users = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        items = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        order = np.argsort(users, kind="stable")
        bounds = np.searchsorted(users[order], np.arange(len(self.user_ids) + 1))
        self.seen = [items[order][bounds[u] : bounds[u + 1]] for u in range(len(self.user_ids))]
        self.counts = np.bincount(items, minlength=len(self.item_ids)).astype(np.float64)
        self.user_index = {u: i for i, u in enumerate(self.user_ids)}
        self.relevant: dict[str, set[str]] = {}
        for row in test.select("user_id", "movie_id").toLocalIterator():
            self.relevant.setdefault(row.user_id, set()).add(row.movie_id)

    def lists(self, score: Scorer, k: int) -> dict[str, list[str]]:
        """Each held-out user's top k by `score`, training movies excluded."""
        out = {}
        for user in self.relevant:
            u = self.user_index.get(user)
            if u is not None:
                best, _ = top_n(score(u, self.seen[u]), k, exclude=self.seen[u])
                out[user] = [self.item_ids[j] for j in best]
        return out

    def summary(self, score: Scorer, k: int) -> dict[str, float]:
        lists = self.lists(score, k)
        return metrics.ranking_summary(lists, self.relevant, k, len(self.item_ids))

    def factors(self, params: AlsParams) -> tuple[np.ndarray, np.ndarray]:
        return factor_pair(fit_als(self.indexed, params), len(self.user_ids), len(self.item_ids))

    def neighbours(self, spark: SparkSession, k: int, per_user: int) -> ItemNeighbours:
        table = item_neighbours(spark, self.indexed, k, per_user)
        try:
            return collect_neighbours(table, len(self.item_ids))
        finally:
            table.unpersist()

    def release(self) -> None:
        self.indexed.unpersist()


def als_scorer(users: np.ndarray, items: np.ndarray) -> Scorer:
    return lambda u, _rated: items @ users[u]


def cf_scorer(neighbours: ItemNeighbours) -> Scorer:
    return lambda _u, rated: neighbours.scores(rated, neighbours.items)


def blend_scorer(als: Scorer, cf: Scorer, als_weight: float) -> Scorer:
    return lambda u, rated: blend(als(u, rated), cf(u, rated), als_weight)


def ranking(
    spark: SparkSession,
    ratings: DataFrame,
    settings: ModelSettings,
    test_fraction: float,
    seed: int,
    k: int,
) -> dict[str, dict[str, float]]:
    train, test = per_user_split(ratings, test_fraction, seed)
    holdout = Holdout(spark, train, test)
    try:
        ranker_users, ranker_items = holdout.factors(settings.ranking)
        neighbours = holdout.neighbours(spark, settings.cf_neighbours, settings.cf_ratings_per_user)
        getn = blend_scorer(
            als_scorer(ranker_users, ranker_items), cf_scorer(neighbours), settings.blend_als_weight
        )
        return {
            "popularity": holdout.summary(lambda _u, _r: holdout.counts, k),
            "explicit ALS (tutorial)": holdout.summary(
                als_scorer(*holdout.factors(TUTORIAL_ALS)), k
            ),
            "implicit ALS (plain)": holdout.summary(
                als_scorer(*holdout.factors(PLAIN_IMPLICIT_ALS)), k
            ),
            "Item-CF": holdout.summary(cf_scorer(neighbours), k),
            "GetTopN (implicit ALS + Item-CF)": holdout.summary(getn, k),
        }
    finally:
        holdout.release()


def accuracy(
    spark: SparkSession,
    ratings: DataFrame,
    settings: ModelSettings,
    test_fraction: float,
    seed: int,
    plain_grid: Sequence[tuple[int, float]] = PLAIN_ALS_GRID,
) -> dict[str, dict[str, float]]:
    train, test = random_split(ratings, test_fraction, seed)
    user_ids, item_ids, indexed = index_ids(spark, train)
    indexed = indexed.cache()
    scale = rating_scale(train)
    pairs = apply_index(spark, test, user_ids, item_ids).collect()
    users = np.asarray([p.user_idx for p in pairs], dtype=np.int64)
    items = np.asarray([p.item_idx for p in pairs], dtype=np.int64)
    actual = np.asarray([p.rating for p in pairs], dtype=np.float64)
    dropped = float(test.count() - len(pairs))

    def row(predicted: np.ndarray) -> dict[str, float]:
        clipped = np.clip(predicted, scale.low, scale.high)
        return {
            "rmse": metrics.rmse(clipped, actual),
            "mae": metrics.mae(clipped, actual),
            "test_ratings": float(len(pairs)),
            "cold_start_dropped": dropped,
        }

    def dot(model_users: np.ndarray, model_items: np.ndarray) -> np.ndarray:
        products: np.ndarray = np.einsum("ij,ij->i", model_users[users], model_items[items])
        return products.astype(np.float64)

    out = {}
    try:
        for rank, reg in plain_grid:
            params = AlsParams(rank=rank, reg_param=reg, max_iter=10)
            factors = factor_pair(fit_als(indexed, params), len(user_ids), len(item_ids))
            out[f"plain ALS rank {rank} regParam {reg:g}"] = row(dot(*factors))
        biases = fit_biases(indexed, settings.bias, len(user_ids), len(item_ids))
        model = fit_als(residuals(indexed, biases), settings.rating)
        factors = factor_pair(model, len(user_ids), len(item_ids))
        base = biases.mean + biases.user[users] + biases.item[items]
        out["PredictRating (bias-aware ALS)"] = row(base + dot(*factors))
    finally:
        indexed.unpersist()
    return out


def best_plain(accuracy_rows: dict[str, dict[str, float]]) -> tuple[str, dict[str, float]]:
    """The plain-ALS row with the lowest RMSE."""
    plain = {n: r for n, r in accuracy_rows.items() if n.startswith("plain ALS")}
    name = min(plain, key=lambda n: plain[n]["rmse"])
    return name, plain[name]


def evaluate(
    spark: SparkSession,
    ratings: DataFrame,
    settings: ModelSettings,
    seed: int = 42,
    k: int = 10,
    accuracy_test_fraction: float = 0.2,
    ranking_test_fraction: float = 0.25,
) -> Evaluation:
    started = time.perf_counter()
    ratings = ratings.cache()
    result = Evaluation(
        accuracy=accuracy(spark, ratings, settings, accuracy_test_fraction, seed),
        ranking=ranking(spark, ratings, settings, ranking_test_fraction, seed, k),
    )
    result.seconds = time.perf_counter() - started
    return result
