"""Reproducible train/test splits of a ratings DataFrame, decided by a hash of (user, movie,
seed) rather than by partition layout, so the same data and seed give the same split on one
machine or a cluster."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F


def _draw(seed: int) -> Column:
    """A pseudo-random number in [0, 1) per rating."""
    return (F.abs(F.xxhash64("user_id", "movie_id", F.lit(seed))) % 1_000_003) / 1_000_003.0


def random_split(
    ratings: DataFrame, test_fraction: float, seed: int
) -> tuple[DataFrame, DataFrame]:
    """(train, test): each rating goes to test with probability test_fraction."""
    drawn = ratings.withColumn("_draw", _draw(seed))
    train = drawn.filter(F.col("_draw") >= test_fraction).drop("_draw")
    test = drawn.filter(F.col("_draw") < test_fraction).drop("_draw")
    return train, test


def fold_split(ratings: DataFrame, folds: int, fold: int, seed: int) -> tuple[DataFrame, DataFrame]:
    """(train, test) of k-fold cross-validation: fold `fold` of `folds` disjoint random
    shares is the test side. With the same seed, fold 0 of 5 is random_split's 20% test."""
    if not 0 <= fold < folds:
        raise ValueError(f"fold {fold} is not one of 0..{folds - 1}")
    drawn = ratings.withColumn("_draw", _draw(seed))
    inside = (F.col("_draw") >= fold / folds) & (F.col("_draw") < (fold + 1) / folds)
    return drawn.filter(~inside).drop("_draw"), drawn.filter(inside).drop("_draw")


def per_user_split(
    ratings: DataFrame, test_fraction: float, seed: int
) -> tuple[DataFrame, DataFrame]:
    """(train, test): for each user, floor(test_fraction * n) of their n ratings, picked at
    random, go to test; every user keeps the rest in train."""
    by_user = Window.partitionBy("user_id")
    ranked = (
        ratings.withColumn("_draw", _draw(seed))
        .withColumn("_rank", F.row_number().over(by_user.orderBy("_draw", "movie_id")))
        .withColumn("_n", F.count("*").over(by_user))
    )
    in_test = F.col("_rank") <= F.floor(F.col("_n") * F.lit(test_fraction))
    train = ranked.filter(~in_test).drop("_draw", "_rank", "_n")
    test = ranked.filter(in_test).drop("_draw", "_rank", "_n")
    return train, test


def per_user_latest_split(
    ratings: DataFrame, test_fraction: float, seed: int
) -> tuple[DataFrame, DataFrame]:
    """(train, test): for each user, their floor(test_fraction * n) latest ratings go to test
    (ties in time broken at random); every user keeps the rest in train."""
    by_user = Window.partitionBy("user_id")
    ranked = (
        ratings.withColumn("_draw", _draw(seed))
        .withColumn(
            "_rank",
            F.row_number().over(by_user.orderBy(F.desc("timestamp"), "_draw", "movie_id")),
        )
        .withColumn("_n", F.count("*").over(by_user))
    )
    in_test = F.col("_rank") <= F.floor(F.col("_n") * F.lit(test_fraction))
    train = ranked.filter(~in_test).drop("_draw", "_rank", "_n")
    test = ranked.filter(in_test).drop("_draw", "_rank", "_n")
    return train, test


def user_sample(ratings: DataFrame, max_ratings: int, seed: int) -> tuple[DataFrame, int, int]:
    """(sample, users kept, users in all): whole users, in an order drawn by a hash of (user,
    seed), kept while their ratings add up to at most max_ratings; every rating of a kept user
    stays, so per-user splits and scores mean what they mean on the whole set. The same data
    and seed keep the same users on one machine or a cluster."""
    per_user = ratings.groupBy("user_id").agg(F.count(F.lit(1)).alias("_n"))
    per_user = per_user.withColumn("_order", F.xxhash64("user_id", F.lit(seed)))
    # One small row per user: ordering them in one partition is cheap next to any fit.
    running = Window.orderBy("_order", "user_id").rowsBetween(Window.unboundedPreceding, 0)
    ranked = per_user.withColumn("_upto", F.sum("_n").over(running))
    inside = F.col("_upto") <= max_ratings
    total, chosen = ranked.agg(F.count(F.lit(1)), F.sum(inside.cast("int"))).first() or (0, 0)
    kept = ranked.filter(inside).select("user_id")
    return ratings.join(kept, "user_id").select(*ratings.columns), int(chosen or 0), int(total)
