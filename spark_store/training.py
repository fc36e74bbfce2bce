"""Spark MLlib ALS building blocks: the parameters, wire ids mapped to the integer indices ALS
needs, the rating scale, and one fit (spark_store/models.py trains a version with them)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pyspark.ml.recommendation import ALS, ALSModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from rec_service.domain.model_types import AlsParams, RatingScale


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


# A scale with more steps than this between its lowest and highest value is continuous (step
# 0): any value in between is a rating.
MAX_STEPS = 1000
# Ratings are compared on this grid (micro-units), so float residue does not break a step.
GRID = 1_000_000


def rating_scale(ratings: DataFrame) -> RatingScale:
    """Reads the scale off the data: lowest, highest, and the largest step every value is a
    whole number of steps from the lowest by (0 when that makes over MAX_STEPS steps)."""
    rated = rated_only(ratings)
    values = [
        r[0]
        for r in rated.select("rating").distinct().orderBy("rating").limit(MAX_STEPS + 1).collect()
    ]
    if not values:
        raise ValueError(
            "no ratings to train on: PredictRating needs rows with a rating, and every row is "
            "empty or an interaction without one (implicit_value)"
        )
    if len(values) > MAX_STEPS:
        bounds = rated.agg(F.min("rating"), F.max("rating")).first()
        assert bounds is not None
        return RatingScale(low=float(bounds[0]), high=float(bounds[1]), step=0.0)
    low, high = values[0], values[-1]
    if low == high:
        return RatingScale(low=low, high=high, step=1.0)
    step = math.gcd(*(round((v - low) * GRID) for v in values[1:])) / GRID
    continuous = step == 0 or (high - low) / step > MAX_STEPS
    return RatingScale(low=low, high=high, step=0.0 if continuous else step)


def rated_only(ratings: DataFrame) -> DataFrame:
    """The rows that hold a rating: what PredictRating's biases and factors are fitted to.
    Interactions without a rating (rating NULL, the layout's implicit_value) are left out."""
    return ratings.where(F.col("rating").isNotNull())


def implicit_weight(ratings: DataFrame) -> float:
    """What an interaction without a rating weighs in the ranking ALS: the mean magnitude of the
    ratings (its confidence is 1 + alpha * weight, as a typical rating's is), whatever the scale."""
    first = rated_only(ratings).agg(F.avg(F.abs("rating"))).first()
    return float(first[0]) if first is not None and first[0] is not None else 1.0


def ranking_input(indexed: DataFrame, weight: float) -> DataFrame:
    """The ranking ALS's input: every interaction, those without a rating valued at `weight`."""
    return indexed.withColumn("rating", F.coalesce(F.col("rating"), F.lit(weight)))


# Spark's ALS builds each block's ratings as growing arrays in one task's memory (its
# "in-blocks"): with als_blocks (2) at 25M ratings that was 12.5M ratings per task, and a
# retrain beside the serving model's cached data ran out of the default 4g heap there
# (benchmarks/results/scale.md). Above this many ratings per block, more blocks are used.
RATINGS_PER_BLOCK = 2_000_000


def als_blocks(configured: int, ratings: int) -> int:
    """ALS's user and item block count: the configured one, or more where a block would hold
    over RATINGS_PER_BLOCK ratings. The memory a task needs falls with it; the fit is the same
    ALS, though Spark seeds each block's starting factors, so where the count rises (above 4M
    ratings with the default 2) the factors differ a little from those of 2 blocks."""
    return max(configured, math.ceil(ratings / RATINGS_PER_BLOCK))


def fit_als(indexed: DataFrame, params: AlsParams, ratings: int = 0) -> ALSModel:
    """Fits Spark ALS on ratings with user_idx, item_idx and rating columns; `ratings`, their
    count where known, may raise the block count (als_blocks)."""
    blocks = als_blocks(params.blocks, ratings)
    als = ALS(
        rank=params.rank,
        regParam=params.reg_param,
        maxIter=params.max_iter,
        implicitPrefs=params.implicit_prefs,
        alpha=params.alpha,
        seed=params.seed,
        numUserBlocks=blocks,
        numItemBlocks=blocks,
        userCol="user_idx",
        itemCol="item_idx",
        ratingCol="rating",
        coldStartStrategy="drop",
        nonnegative=False,
    )
    return als.fit(indexed)


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
