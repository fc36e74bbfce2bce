"""Ratings reach the driver as NumPy arrays, never as a Python object per rating."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from pyspark.sql import DataFrame, SparkSession

from rec_service.domain.model_types import AlsParams, ModelSettings, TuningSettings
from spark_store.columns import numeric_columns
from spark_store.models import train_models

SCHEMA = "user_id string, movie_id string, rating double, timestamp long"


def test_numeric_columns_equal_collect_with_nulls_as_nan(spark: SparkSession) -> None:
    rows = [(i, i * 7 % 13, None if i % 5 == 0 else i / 2) for i in range(1000)]
    df = spark.createDataFrame(rows, "a long, b long, c double").repartition(7)
    a, b, c = numeric_columns(df, (np.int64, np.int32, np.float32))
    assert (a.dtype, b.dtype, c.dtype) == (np.int64, np.int32, np.float32)
    got = sorted(zip(a.tolist(), b.tolist(), c.tolist(), strict=True))
    for (ga, gb, gc), (ea, eb, ec) in zip(got, sorted(rows), strict=True):
        assert (ga, gb) == (ea, eb)
        assert np.isnan(gc) if ec is None else gc == ec
    (empty,) = numeric_columns(df.select("a").limit(0), (np.int64,))
    assert empty.dtype == np.int64 and len(empty) == 0
    with pytest.raises(ValueError):
        numeric_columns(df, (np.int64,))


def _taste_data(spark: SparkSession, users: int, per_user: int, items: int) -> DataFrame:
    rng = np.random.default_rng(9)
    rows = []
    for u in range(users):
        group = u % 4
        weights = np.where(np.arange(items) % 4 == group, 4.0, 1.0)
        picked = rng.choice(items, size=per_user, replace=False, p=weights / weights.sum())
        rows += [(f"u{u}", f"m{m}", float(rng.integers(1, 6)), int(u * 1000 + m)) for m in picked]
    return spark.createDataFrame(rows, SCHEMA)


def test_training_and_tuning_collect_nothing_sized_by_the_ratings(
    spark: SparkSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """40,000 ratings; any DataFrame brought to the driver row by row must be sized by users,
    movies or the validation sample, here at most 5,000 rows: the ratings would be 8x that."""
    ratings = _taste_data(spark, users=800, per_user=50, items=200).cache()
    assert ratings.count() == 40_000
    largest: list[int] = []
    # Spark's own DataFrame class (pyspark.sql.DataFrame is the API every kind implements)
    classic = type(ratings)
    collect, local = classic.collect, classic.toLocalIterator

    def counted_collect(self: DataFrame) -> list:  # type: ignore[type-arg]
        rows = collect(self)
        largest.append(len(rows))
        return rows

    def counted_local(self: DataFrame, prefetchPartitions: bool = False) -> Iterator:  # type: ignore[type-arg]
        rows = list(local(self, prefetchPartitions))
        largest.append(len(rows))
        return iter(rows)

    monkeypatch.setattr(classic, "collect", counted_collect)
    monkeypatch.setattr(classic, "toLocalIterator", counted_local)
    settings = ModelSettings(
        ranking=AlsParams(rank=8, reg_param=0.1, max_iter=3, implicit_prefs=True, alpha=5.0),
        rating=AlsParams(rank=4, reg_param=0.1, max_iter=3),
        cf_neighbours=10,
    )
    tuning = TuningSettings(item_models=2, rating_fits=1, max_validation_users=100)
    trained = train_models(spark, ratings, settings, tuning=tuning)
    assert trained.tuning is not None and trained.num_ratings == 40_000
    assert largest and max(largest) <= 5_000, sorted(largest)[-5:]
