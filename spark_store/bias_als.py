"""Bias-aware explicit ALS ("ALS-Extend"): rating = global mean + user bias + movie bias +
user factors . movie factors, for PredictRating.

The biases are regularised means of what is left after the terms before them (Koren's baseline
predictor), computed with Spark SQL aggregates; Spark ALS is then fitted on the residuals, so it
models only what the biases cannot. Plain ALS must spend factors on "this user rates high" and
"this movie is liked", and regularisation shrinks those towards zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from rec_service.domain.model_types import Biases, BiasParams


def fit_biases(indexed: DataFrame, params: BiasParams, users: int, items: int) -> Biases:
    """Biases from ratings with user_idx, item_idx and rating columns."""
    first = indexed.agg(F.avg("rating")).first()
    if first is None or first[0] is None:
        raise ValueError("no ratings to fit biases on")
    mean = float(first[0])
    item_bias = _item_bias(indexed, mean, params)
    user_bias = _user_bias(indexed, mean, item_bias, params)
    return Biases(
        mean=mean,
        user=_dense(user_bias.collect(), users),
        item=_dense(item_bias.collect(), items),
    )


def biases_of_arrays(
    users: np.ndarray,
    items: np.ndarray,
    ratings: np.ndarray,
    params: BiasParams,
    shape: tuple[int, int],
) -> Biases:
    """What fit_biases computes, from ratings already on the driver as index arrays: a grid of
    shrinkage settings costs milliseconds each instead of a Spark job."""
    mean = float(ratings.mean())
    n_users, n_items = shape
    item_bias = np.bincount(items, weights=ratings - mean, minlength=n_items) / (
        np.bincount(items, minlength=n_items) + params.reg_item
    )
    left = ratings - mean - item_bias[items]
    user_bias = np.bincount(users, weights=left, minlength=n_users) / (
        np.bincount(users, minlength=n_users) + params.reg_user
    )
    return Biases(mean=mean, user=user_bias, item=item_bias)


def residuals(indexed: DataFrame, biases: Biases) -> DataFrame:
    """The ratings minus mean, user bias and movie bias: what the factors are fitted to."""
    spark = indexed.sparkSession
    users = spark.createDataFrame(
        [(i, float(b)) for i, b in enumerate(biases.user)], "user_idx int, b_u double"
    )
    items = spark.createDataFrame(
        [(j, float(b)) for j, b in enumerate(biases.item)], "item_idx int, b_i double"
    )
    return (
        indexed.join(F.broadcast(users), "user_idx")
        .join(F.broadcast(items), "item_idx")
        .select(
            "user_idx",
            "item_idx",
            (F.col("rating") - F.lit(biases.mean) - F.col("b_u") - F.col("b_i")).alias("rating"),
        )
    )


def _item_bias(indexed: DataFrame, mean: float, params: BiasParams) -> DataFrame:
    return indexed.groupBy("item_idx").agg(
        (F.sum(F.col("rating") - F.lit(mean)) / (F.count("*") + F.lit(params.reg_item))).alias(
            "b_i"
        )
    )


def _user_bias(
    indexed: DataFrame, mean: float, item_bias: DataFrame, params: BiasParams
) -> DataFrame:
    return (
        indexed.join(item_bias, "item_idx")
        .groupBy("user_idx")
        .agg(
            (
                F.sum(F.col("rating") - F.lit(mean) - F.col("b_i"))
                / (F.count("*") + F.lit(params.reg_user))
            ).alias("b_u")
        )
    )


def _dense(rows: list[Any], count: int) -> np.ndarray:
    out = np.zeros(count, dtype=np.float64)
    for idx, value in rows:
        out[idx] = value
    return out
