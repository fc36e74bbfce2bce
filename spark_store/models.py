"""The models one movierec version is made of, trained together on the same ratings:

- ranking: implicit-feedback ALS (Spark's implicitPrefs) for GetTopN. Ranking by predicted
  explicit rating surfaces obscure movies with a few high ratings; implicit ALS models which
  movies a user chooses to rate, which is what a top-N list must predict.
- item_cf: each movie's most similar movies by co-ratings (Spark SQL), blended with the ranking
  ALS by `blend_als_weight`, tuned on a validation split (`movierec tune`).
- rating: bias-aware explicit ALS for PredictRating (mean + user bias + movie bias + factors).

All three share one pair of id maps, so a model index means the same movie in each.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyspark.ml.recommendation import ALSModel
from pyspark.sql import DataFrame, SparkSession

from spark_store.bias_als import fit_biases, residuals
from spark_store.item_cf import collect_neighbours, item_neighbours
from spark_store.model_types import Biases, ModelArrays, ModelSettings, RatingScale
from spark_store.training import fit_als, index_ids, rating_scale

log = logging.getLogger(__name__)


@dataclass
class TrainedModels:
    """Fitted Spark models with the id maps that turn their indices back into wire ids."""

    settings: ModelSettings
    user_ids: list[str]
    item_ids: list[str]
    scale: RatingScale
    num_ratings: int
    fit_seconds: float
    ranking: ALSModel
    rating: ALSModel
    biases: Biases
    neighbours: DataFrame  # (item_idx, neighbour_idx, similarity), cached


def train_models(
    spark: SparkSession,
    ratings: DataFrame,
    settings: ModelSettings,
    scale: RatingScale | None = None,
) -> TrainedModels:
    """Fits all three on the same ratings; on a cluster when the session points at one. The
    rating scale is read off the ratings unless given."""
    started = time.perf_counter()
    user_ids, item_ids, indexed = index_ids(spark, ratings)
    indexed = indexed.cache()
    num_ratings = indexed.count()
    log.info(
        "training on %d ratings (%d users, %d movies), %s",
        num_ratings,
        len(user_ids),
        len(item_ids),
        settings,
    )
    ranking = fit_als(indexed, settings.ranking)
    biases = fit_biases(indexed, settings.bias, len(user_ids), len(item_ids))
    rating = fit_als(residuals(indexed, biases), settings.rating)
    neighbours = item_neighbours(
        spark, indexed, settings.cf_neighbours, settings.cf_ratings_per_user
    )
    neighbours.count()  # materialised while the indexed ratings are cached
    indexed.unpersist()
    fit_seconds = time.perf_counter() - started
    log.info("models fitted in %.1f s", fit_seconds)
    return TrainedModels(
        settings=settings,
        user_ids=user_ids,
        item_ids=item_ids,
        scale=scale or rating_scale(ratings),
        num_ratings=num_ratings,
        fit_seconds=fit_seconds,
        ranking=ranking,
        rating=rating,
        biases=biases,
        neighbours=neighbours,
    )


def collect_arrays(
    ranking: ALSModel,
    rating: ALSModel,
    biases: Biases,
    neighbours: DataFrame,
    users: int,
    items: int,
) -> ModelArrays:
    ranking_users, ranking_items = factor_pair(ranking, users, items)
    rating_users, rating_items = factor_pair(rating, users, items)
    return ModelArrays(
        ranking_users=ranking_users,
        ranking_items=ranking_items,
        rating_users=rating_users,
        rating_items=rating_items,
        biases=biases,
        neighbours=collect_neighbours(neighbours, items),
    )


def arrays_of(trained: TrainedModels) -> ModelArrays:
    return collect_arrays(
        trained.ranking,
        trained.rating,
        trained.biases,
        trained.neighbours,
        len(trained.user_ids),
        len(trained.item_ids),
    )


def factor_pair(model: ALSModel, users: int, items: int) -> tuple[np.ndarray, np.ndarray]:
    """A fitted ALS model's (user factors, item factors) as NumPy, rows by index."""
    return (
        collect_factors(model.userFactors, users, model.rank),
        collect_factors(model.itemFactors, items, model.rank),
    )


def collect_factors(factors_df: Any, count: int, rank: int) -> np.ndarray:
    """Rows of (id, features) into a dense matrix; ids ALS never saw (none, normally) stay zero."""
    out = np.zeros((count, rank), dtype=np.float32)
    for row in factors_df.toLocalIterator():
        out[row[0]] = row[1]
    return out
