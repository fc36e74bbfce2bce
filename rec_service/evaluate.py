"""`movierec evaluate`: rating accuracy and top-N quality of the configured ALS on any data set.

- RMSE and MAE of PredictRating's answers (ALS prediction clipped to the scale) on a random
  split (default 80/20); test pairs whose user or movie is missing from training are counted
  and left out, as Spark's coldStartStrategy=drop does.
- precision, recall, NDCG, MAP at k and catalogue coverage of top-k lists on a per-user split
  (default 75/25), ranking every movie the model knows and excluding the user's training
  movies, as GetTopN does. Relevant = the user's held-out movies. Popularity (most rated in
  training) is ranked beside it on the same split.
Nothing from a test set reaches training or the popularity counts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from pyspark.sql import DataFrame, SparkSession

from rec_service import metrics
from spark_store.model_files import collect_factors
from spark_store.ranking import top_n
from spark_store.splits import per_user_split, random_split
from spark_store.training import AlsParams, TrainedAls, apply_index, train_als


@dataclass
class Evaluation:
    """Every figure of one evaluation run."""

    accuracy: dict[str, float] = field(default_factory=dict)
    ranking: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: float = 0.0


def _factors(trained: TrainedAls) -> tuple[np.ndarray, np.ndarray]:
    rank = trained.model.rank
    return (
        collect_factors(trained.model.userFactors, len(trained.user_ids), rank),
        collect_factors(trained.model.itemFactors, len(trained.item_ids), rank),
    )


def accuracy(
    spark: SparkSession, ratings: DataFrame, params: AlsParams, test_fraction: float, seed: int
) -> dict[str, float]:
    train, test = random_split(ratings, test_fraction, seed)
    trained = train_als(spark, train.cache(), params)
    users, items = _factors(trained)
    scale = trained.scale
    pairs = apply_index(spark, test, trained.user_ids, trained.item_ids).collect()
    test_count = test.count()
    predicted = np.clip(
        np.einsum(
            "ij,ij->i",
            users[[p.user_idx for p in pairs]],
            items[[p.item_idx for p in pairs]],
        ),
        scale.low,
        scale.high,
    )
    actual = [p.rating for p in pairs]
    return {
        "rmse": metrics.rmse(predicted, actual),
        "mae": metrics.mae(predicted, actual),
        "test_ratings": float(test_count),
        "cold_start_dropped": float(test_count - len(pairs)),
    }


def ranking(
    spark: SparkSession,
    ratings: DataFrame,
    params: AlsParams,
    test_fraction: float,
    seed: int,
    k: int,
) -> dict[str, dict[str, float]]:
    train, test = per_user_split(ratings, test_fraction, seed)
    train = train.cache()
    trained = train_als(spark, train, params)
    users, items = _factors(trained)
    user_index = {u: i for i, u in enumerate(trained.user_ids)}
    item_index = {m: j for j, m in enumerate(trained.item_ids)}
    seen: dict[str, list[int]] = {}
    counts = np.zeros(len(trained.item_ids), dtype=np.int64)
    for row in train.select("user_id", "movie_id").toLocalIterator():
        j = item_index[row.movie_id]
        seen.setdefault(row.user_id, []).append(j)
        counts[j] += 1
    relevant: dict[str, set[str]] = {}
    for row in test.select("user_id", "movie_id").toLocalIterator():
        relevant.setdefault(row.user_id, set()).add(row.movie_id)
    popularity = np.lexsort((np.arange(len(counts)), -counts))
    als_lists, popular_lists = {}, {}
    for user in relevant:
        exclude = np.asarray(seen.get(user, []), dtype=np.int64)
        if user in user_index:
            best, _ = top_n(items @ users[user_index[user]], k, exclude=exclude)
            als_lists[user] = [trained.item_ids[j] for j in best]
        unseen = popularity[~np.isin(popularity, exclude)][:k]
        popular_lists[user] = [trained.item_ids[j] for j in unseen]
    catalogue = len(trained.item_ids)
    return {
        "als": metrics.ranking_summary(als_lists, relevant, k, catalogue),
        "popularity": metrics.ranking_summary(popular_lists, relevant, k, catalogue),
    }


def evaluate(
    spark: SparkSession,
    ratings: DataFrame,
    params: AlsParams,
    seed: int = 42,
    k: int = 10,
    accuracy_test_fraction: float = 0.2,
    ranking_test_fraction: float = 0.25,
) -> Evaluation:
    started = time.perf_counter()
    ratings = ratings.cache()
    result = Evaluation(
        accuracy=accuracy(spark, ratings, params, accuracy_test_fraction, seed),
        ranking=ranking(spark, ratings, params, ranking_test_fraction, seed, k),
    )
    result.seconds = time.perf_counter() - started
    return result
