"""Spark MLlib ALS building blocks: the parameters, wire ids mapped to the integer indices ALS
needs, the rating scale, and one fit (spark_store/models.py trains a version with them)."""

from __future__ import annotations

import itertools

from pyspark.ml.recommendation import ALS, ALSModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_store.model_types import AlsParams, RatingScale


def index_ids(spark: SparkSession, ratings: DataFrame) -> tuple[list[str], list[str], DataFrame]:
    """Maps string user and movie ids to dense integers (position in sorted order).

    Returns (user_ids, item_ids, indexed) where indexed has user_idx, item_idx, rating, timestamp.
    The id lists are collected to the driver because the server needs them to answer reads.
    """
    user_ids = [r[0] for r in ratings.select("user_id").distinct().orderBy("user_id").collect()]
    item_ids = [r[0] for r in ratings.select("movie_id").distinct().orderBy("movie_id").collect()]
    return user_ids, item_ids, apply_index(spark, ratings, user_ids, item_ids)


def apply_index(
    spark: SparkSession, ratings: DataFrame, user_ids: list[str], item_ids: list[str]
) -> DataFrame:
    """Joins ratings to known id lists; ratings of ids outside the lists are dropped."""
    users = spark.createDataFrame(list(enumerate(user_ids)), "user_idx int, user_id string")
    items = spark.createDataFrame(list(enumerate(item_ids)), "item_idx int, movie_id string")
    return (
        ratings.join(F.broadcast(users), "user_id")
        .join(F.broadcast(items), "movie_id")
        .select("user_idx", "item_idx", "rating", "timestamp")
    )


def rating_scale(ratings: DataFrame) -> RatingScale:
    """Reads the scale off the data: lowest, highest and the smallest gap between values."""
    values = sorted(r[0] for r in ratings.select("rating").distinct().collect())
    if not values:
        raise ValueError("no ratings to train on")
    gaps = [b - a for a, b in itertools.pairwise(values)]
    step = min(gaps) if gaps else 1.0
    return RatingScale(low=values[0], high=values[-1], step=round(step, 6))


def fit_als(indexed: DataFrame, params: AlsParams) -> ALSModel:
    """Fits Spark ALS on ratings with user_idx, item_idx and rating columns."""
    als = ALS(
        rank=params.rank,
        regParam=params.reg_param,
        maxIter=params.max_iter,
        implicitPrefs=params.implicit_prefs,
        alpha=params.alpha,
        seed=params.seed,
        numUserBlocks=params.blocks,
        numItemBlocks=params.blocks,
        userCol="user_idx",
        itemCol="item_idx",
        ratingCol="rating",
        coldStartStrategy="drop",
        nonnegative=False,
    )
    return als.fit(indexed)
