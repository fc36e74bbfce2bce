"""Bulk precompute of recommendation lists for the active users, as one Spark job.

Item factors and Item-CF neighbours are broadcast; each partition scores its users with one
matrix product, blends in each user's Item-CF scores and keeps each user's top movies, excluding
what the user rated. The ranking code is the same the server uses to recompute one stale list,
so bulk and lazy lists agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from pyspark import cloudpickle
from pyspark.ml.recommendation import ALSModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from rec_service.domain import ranking
from rec_service.domain.model_types import FactorModel
from spark_store.tables import REC_LISTS_ROW

# Workers then need only NumPy and PySpark, not this project installed (matters on a cluster).
cloudpickle.register_pickle_by_value(ranking)  # type: ignore[no-untyped-call]

BATCH = 512


def precompute_lists(
    spark: SparkSession,
    model: FactorModel,
    model_dir: str,
    indexed_ratings: DataFrame,
    users: DataFrame,
    length: int,
    computed_at_us: int,
    popularity: np.ndarray,
) -> DataFrame:
    """Top-`length` lists for `users` (a user_id column) as rows of REC_LISTS_ROW, ranked as
    ServingModel.scores ranks; popularity is each model item's training rating count."""
    user_index = spark.createDataFrame(
        list(enumerate(model.user_ids)), "user_idx int, user_id string"
    )
    factors = ALSModel.load(f"{model_dir}/ranking").userFactors.withColumnRenamed("id", "user_idx")
    rated = indexed_ratings.groupBy("user_idx").agg(F.collect_list("item_idx").alias("rated"))
    work = (
        users.join(user_index, "user_id")
        .join(factors, "user_idx")
        .join(rated, "user_idx", "left")
        .select("user_id", "features", "rated")
    )
    item_factors = spark.sparkContext.broadcast(model.arrays.ranking_items)
    item_item = spark.sparkContext.broadcast(model.arrays.ranker_item_item)
    counts = spark.sparkContext.broadcast(popularity)
    item_ids = spark.sparkContext.broadcast(model.item_ids)
    version = model.version
    als_weight = model.settings.blend_als_weight
    popularity_weight = model.settings.blend_popularity_weight

    def score_partition(rows: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        items = item_factors.value
        ranker_item_item = item_item.value
        popular = counts.value
        ids = item_ids.value
        batch: list[Any] = []

        def emit(chunk: list[Any]) -> Iterator[tuple[Any, ...]]:
            users_m = np.asarray([r.features for r in chunk], dtype=np.float32)
            scores = users_m @ items.T
            for row, user_scores in zip(chunk, scores, strict=True):
                exclude = np.asarray(row.rated or [], dtype=np.int64)
                if als_weight < 1.0:
                    user_scores = ranking.blend(
                        user_scores,
                        ranker_item_item.scores(exclude, len(user_scores)),
                        als_weight,
                        popular,
                        popularity_weight,
                    )
                best, best_scores = ranking.top_n(user_scores, length, exclude=exclude)
                yield (
                    row.user_id,
                    [ids[j] for j in best],
                    [float(s) for s in best_scores],
                    computed_at_us,
                    version,
                )

        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                yield from emit(batch)
                batch = []
        if batch:
            yield from emit(batch)

    return spark.createDataFrame(work.rdd.mapPartitions(score_partition), REC_LISTS_ROW)
