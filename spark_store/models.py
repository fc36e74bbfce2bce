"""The models one movierec version is made of, trained together on the same ratings:

- ranking: implicit-feedback ALS (Spark's implicitPrefs) for GetTopN. Ranking by predicted
  explicit rating surfaces obscure movies with a few high ratings; implicit ALS models which
  movies a user chooses to rate, which is what a top-N list must predict.
- item_cf: each movie's most similar movies by co-ratings (Spark SQL): similar-movie reads and
  explanations, and the ranker's item-item part unless another item model was chosen;
- ranking links: the ranker's item-item model when it is RP3beta or EASE^R (item_models);
- rating: bias-aware explicit ALS for PredictRating (mean + user bias + movie bias + factors).

Interactions without a rating (the layout's implicit_value, rating NULL) count for the ranking
models, the ALS one valued at the ratings' mean magnitude, and are left out of the rating model.

GetTopN ranks by a blend of the ranking ALS, the item-item model and popularity. With tuning on
(the default) the item-item model and the blend weights are chosen on a validation split of
these ratings first (selection.py), so every training fits the ranker to its own data.

All share one pair of id maps, so a model index means the same movie in each.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from pyspark.ml.recommendation import ALSModel
from pyspark.sql import DataFrame, SparkSession

from rec_service.domain.model_types import (
    Biases,
    ModelArrays,
    ModelSettings,
    RatingScale,
    ServingChoice,
    TuningSettings,
)
from rec_service.domain.ranking import ItemNeighbours, ItemScorer
from spark_store import retune
from spark_store.bias_als import fit_biases, residuals
from spark_store.cancellation import checkpoint
from spark_store.item_models import co_ratings, cosine_links, ranker_item_item
from spark_store.selection import select
from spark_store.training import (
    factor_pair,
    fit_als,
    implicit_weight,
    index_ids,
    ranking_input,
    rated_only,
    rating_scale,
)

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
    neighbours: ItemNeighbours  # Item-CF cosine
    item_item: ItemScorer | None = None  # None: the ranker uses `neighbours`
    tuning: dict[str, Any] | None = None  # the tuning record (retune.py) when tuning is on
    implicit_weight: float = 1.0  # an interaction without a rating, in the ranking ALS


def train_models(
    spark: SparkSession,
    ratings: DataFrame,
    settings: ModelSettings,
    scale: RatingScale | None = None,
    tuning: TuningSettings | None = None,
    serving: ServingChoice | None = None,
    retune: bool = False,
) -> TrainedModels:
    """Fits every model on the same ratings; on a cluster when the session points at one. The
    rating scale is read off the ratings unless given. With tuning, the ranker's item model and
    blend are chosen on a validation split of these ratings first, or, on a retrain (`serving`),
    the serving model's choice is reused where retune.decide says so (`retune`: the operator
    asks for a fresh tuning)."""
    started = time.perf_counter()
    record = None
    if tuning is not None and tuning.enabled:
        settings, record = _tuned(spark, ratings, settings, tuning, serving, retune)
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
    checkpoint()
    weight = implicit_weight(indexed)
    ranking = fit_als(ranking_input(indexed, weight), settings.ranking, num_ratings)
    checkpoint()
    rated = rated_only(indexed)
    biases = fit_biases(rated, settings.bias, len(user_ids), len(item_ids))
    checkpoint()
    rating = fit_als(residuals(rated, biases), settings.rating, num_ratings)
    checkpoint()
    co = co_ratings(
        spark, indexed, settings.cf_ratings_per_user, len(item_ids), settings.cf_pairs_per_rating
    )
    ease_max_items = (tuning or TuningSettings()).ease_max_items
    checkpoint()
    neighbours = cosine_links(co, settings.cf_neighbours)
    item_item: ItemScorer | None = ranker_item_item(co, settings, ease_max_items, neighbours)
    co.release()
    if item_item is neighbours:  # saved once, as the Item-CF table
        item_item = None
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
        item_item=item_item,
        tuning=record,
        implicit_weight=weight,
    )


def _tuned(
    spark: SparkSession,
    ratings: DataFrame,
    configured: ModelSettings,
    tuning: TuningSettings,
    serving: ServingChoice | None,
    asked: bool,
) -> tuple[ModelSettings, dict[str, Any]]:
    """(settings, tuning record): a fresh tuning, or the serving model's reused."""
    count = int(ratings.count())
    decision = retune.decide(serving, count, configured, tuning, asked)
    log.info("tuning: %s", decision.reason)
    if not decision.retune and serving is not None:
        return serving.settings, retune.reused_record(serving, decision)
    chosen = select(
        spark, ratings, configured, tuning, serving.settings if serving is not None else None
    )
    return chosen.settings, retune.tuned_record(
        chosen.as_dict(), decision, count, configured, tuning
    )


def collect_arrays(
    ranking: ALSModel,
    rating: ALSModel,
    biases: Biases,
    neighbours: ItemNeighbours,
    users: int,
    items: int,
    item_item: ItemScorer | None = None,
) -> ModelArrays:
    ranking_users, ranking_items = factor_pair(ranking, users, items)
    rating_users, rating_items = factor_pair(rating, users, items)
    return ModelArrays(
        ranking_users=ranking_users,
        ranking_items=ranking_items,
        rating_users=rating_users,
        rating_items=rating_items,
        biases=biases,
        neighbours=neighbours,
        item_item=item_item,
    )
