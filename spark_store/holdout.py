"""Held-out splits for measuring models: Spark fits on the training side, NumPy scores on the
driver. Evaluation, offline tuning and the tuning at every training all measure through here,
so they agree on what a split, a fit and a score are.

- RatingSet: a data set's ratings (cached in Spark), split reproducibly per user or at random.
- RankingHoldout: a training side indexed for Spark, each user's training movies (never
  recommended) and held-out movies (to find); fits ALS and item-item models on the training side.
- RatingHoldout: a training side and the (user, movie, rating) test pairs both sides know.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from rec_service.domain import ranking_metrics as metrics
from rec_service.domain.model_types import AlsParams, BiasParams, ModelSettings, RatingScale
from rec_service.domain.ranking import ItemNeighbours, ItemScorer, blend, top_n
from spark_store.bias_als import biases_of_arrays, fit_biases, residuals
from spark_store.columns import numeric_columns
from spark_store.item_models import CoRatings, co_ratings, cosine_links
from spark_store.splits import fold_split, per_user_split, random_split
from spark_store.training import (
    apply_index,
    factor_pair,
    fit_als,
    implicit_weight,
    index_ids,
    ranking_input,
    rated_only,
    rating_scale,
)

Scorer = Callable[[int, np.ndarray], np.ndarray]  # (user index, rated items) -> item scores


class RatingSet:
    """Ratings (user_id, movie_id, rating, timestamp) in Spark, cached."""

    def __init__(self, spark: SparkSession, ratings: DataFrame) -> None:
        self.spark = spark
        self.df = ratings.cache()

    def per_user_split(self, test_fraction: float, seed: int) -> tuple[RatingSet, RatingSet]:
        """(train, test): floor(test_fraction * n) of each user's n ratings go to test."""
        train, test = per_user_split(self.df, test_fraction, seed)
        return RatingSet(self.spark, train), RatingSet(self.spark, test)

    def random_split(self, test_fraction: float, seed: int) -> tuple[RatingSet, RatingSet]:
        """(train, test): each rating goes to test with probability test_fraction."""
        train, test = random_split(self.df, test_fraction, seed)
        return RatingSet(self.spark, train), RatingSet(self.spark, test)

    def fold_split(self, folds: int, fold: int, seed: int) -> tuple[RatingSet, RatingSet]:
        """(train, test): fold `fold` of `folds` disjoint random shares is the test side."""
        train, test = fold_split(self.df, folds, fold, seed)
        return RatingSet(self.spark, train), RatingSet(self.spark, test)

    def pairs(self) -> set[tuple[str, str]]:
        """Every (user, movie) in the set: what tests check splits against."""
        return {(r.user_id, r.movie_id) for r in self.df.select("user_id", "movie_id").collect()}

    def count(self) -> int:
        return int(self.df.count())

    def release(self) -> None:
        self.df.unpersist()


class RankingHoldout:
    """A training side indexed for Spark and, per user, the held-out movies to find."""

    def __init__(
        self, train: RatingSet, test: RatingSet, max_users: int = 0, seed: int = 0
    ) -> None:
        """With max_users, only that many held-out users are scored, a sample drawn by a hash
        of (user, seed) in Spark, so no more than theirs reaches the driver."""
        self.spark = train.spark
        self.user_ids, self.item_ids, indexed = index_ids(self.spark, train.df)
        self.indexed = indexed.cache()
        users, items = numeric_columns(
            self.indexed.select("user_idx", "item_idx"), (np.int64, np.int64)
        )
        order = np.argsort(users, kind="stable")
        bounds = np.searchsorted(users[order], np.arange(len(self.user_ids) + 1))
        # Views into one sorted copy: slicing items[order] per user instead kept a whole copy
        # alive per user (10 GB for 17k users of 75k ratings).
        self.seen = np.split(items[order], bounds[1:-1])
        self.counts = np.bincount(items, minlength=len(self.item_ids)).astype(np.float64)
        self.user_index = {u: i for i, u in enumerate(self.user_ids)}
        self.relevant: dict[str, set[str]] = {}
        held_out = test.df.select("user_id", "movie_id")
        if max_users > 0:
            drawn = F.xxhash64("user_id", F.lit(seed))
            held_out_users = held_out.select("user_id").distinct()
            sample = held_out_users.orderBy(drawn, "user_id").limit(max_users)
            held_out = held_out.join(sample, "user_id", "left_semi")
        for row in held_out.toLocalIterator():
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
        return self.measure(score, k)[0]

    def measure(self, score: Scorer, k: int) -> tuple[dict[str, float], np.ndarray]:
        """The summary, and each held-out user's NDCG@k in a fixed user order."""
        lists = self.lists(score, k)
        summary = metrics.ranking_summary(lists, self.relevant, k, len(self.item_ids))
        return summary, metrics.ndcg_per_user(lists, self.relevant, k)

    def factors(self, params: AlsParams) -> tuple[np.ndarray, np.ndarray]:
        """ALS fitted as training fits it: implicit on every interaction (those without a
        rating valued as training values them), explicit on the rated rows only."""
        if params.implicit_prefs:
            data = ranking_input(self.indexed, implicit_weight(self.indexed))
        else:
            data = rated_only(self.indexed)
        return factor_pair(fit_als(data, params), len(self.user_ids), len(self.item_ids))

    def co_ratings(self, settings: ModelSettings) -> CoRatings:
        """The training side's co-ratings, for item-item models (release when done)."""
        return co_ratings(
            self.spark,
            self.indexed,
            settings.cf_ratings_per_user,
            len(self.item_ids),
            settings.cf_pairs_per_rating,
        )

    def neighbours(self, k: int, settings: ModelSettings) -> ItemNeighbours:
        """Item-CF: each movie's k most similar movies by cosine."""
        co = self.co_ratings(settings)
        try:
            return cosine_links(co, k)
        finally:
            co.release()

    def popularity(self) -> Scorer:
        return lambda _u, _rated: self.counts

    def release(self) -> None:
        self.indexed.unpersist()


class RatingHoldout:
    """A training side indexed for Spark and the test pairs whose user and movie it knows
    (Spark's coldStartStrategy=drop); the others are counted as dropped."""

    def __init__(self, train: RatingSet, test: RatingSet) -> None:
        spark = train.spark
        # Interactions without a rating (rating NULL) neither train nor test a rating model.
        rated_train, rated_test = rated_only(train.df), rated_only(test.df)
        self.user_ids, self.item_ids, indexed = index_ids(spark, rated_train)
        self.indexed = indexed.cache()
        self.scale: RatingScale = rating_scale(rated_train)
        pairs = apply_index(spark, rated_test, self.user_ids, self.item_ids)
        self.users, self.items, self.actual = numeric_columns(
            pairs.select("user_idx", "item_idx", "rating"), (np.int64, np.int64, np.float64)
        )
        self.dropped = rated_test.count() - len(self.users)
        self._fit_arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def plain_als(self, params: AlsParams) -> np.ndarray:
        """Plain ALS's predictions for the test pairs."""
        users, items = self.factors(self.indexed, params)
        return self._dot(users, items)

    def bias_aware(self, bias: BiasParams, params: AlsParams) -> np.ndarray:
        """PredictRating's predictions: mean + user bias + movie bias + ALS on the residuals."""
        biases = fit_biases(self.indexed, bias, len(self.user_ids), len(self.item_ids))
        resid = residuals(self.indexed, biases).cache()
        try:
            users, items = self.factors(resid, params)
        finally:
            resid.unpersist()
        base: np.ndarray = biases.mean + biases.user[self.users] + biases.item[self.items]
        predicted: np.ndarray = base + self._dot(users, items)
        return predicted

    def biases_only(self, bias: BiasParams) -> np.ndarray:
        """The biases alone as the predictor (mean + user bias + movie bias), fitted on the
        driver: what a shrinkage setting does without an ALS fit."""
        if self._fit_arrays is None:
            users, items, ratings = numeric_columns(
                self.indexed.select("user_idx", "item_idx", "rating"),
                (np.int64, np.int64, np.float64),
            )
            self._fit_arrays = (users, items, ratings)
        shape = (len(self.user_ids), len(self.item_ids))
        biases = biases_of_arrays(*self._fit_arrays, bias, shape)
        predicted: np.ndarray = biases.mean + biases.user[self.users] + biases.item[self.items]
        return predicted

    def factors(self, indexed: DataFrame, params: AlsParams) -> tuple[np.ndarray, np.ndarray]:
        return factor_pair(fit_als(indexed, params), len(self.user_ids), len(self.item_ids))

    def rmse(self, predicted: np.ndarray) -> float:
        return metrics.rmse(np.clip(predicted, self.scale.low, self.scale.high), self.actual)

    def squared_errors(self, predicted: np.ndarray) -> np.ndarray:
        """Each test rating's squared error, predictions clipped to the scale as served."""
        clipped = np.clip(predicted, self.scale.low, self.scale.high)
        errors: np.ndarray = (clipped - self.actual) ** 2
        return errors

    def mae(self, predicted: np.ndarray) -> float:
        return metrics.mae(np.clip(predicted, self.scale.low, self.scale.high), self.actual)

    def _dot(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        products: np.ndarray = np.einsum("ij,ij->i", users[self.users], items[self.items])
        return products.astype(np.float64)

    def release(self) -> None:
        self.indexed.unpersist()


def als_scorer(users: np.ndarray, items: np.ndarray) -> Scorer:
    return lambda u, _rated: items @ users[u]


def cf_scorer(neighbours: ItemScorer) -> Scorer:
    return lambda _u, rated: neighbours.scores(rated, neighbours.items)


def blend_scorer(als: Scorer, item_item: Scorer, als_weight: float) -> Scorer:
    return lambda u, rated: blend(als(u, rated), item_item(u, rated), als_weight)
