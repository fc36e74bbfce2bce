"""Item-CF on a hand-made co-rating matrix whose cosine similarities are known, the neighbour
arrays' scoring against the dense formula, and the blend."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyspark.sql import DataFrame, SparkSession

from rec_service.domain.item_item import ItemModel
from rec_service.domain.ranking import ItemNeighbours, blend
from spark_store.item_models import SparkCoRatings, co_ratings, collect_links

# Raters per movie (user indices). Movie 0: {0,1,2,3}; movie 1: {0,1,2}; movie 2: {2,3};
# movie 3: {4}. cos(i, j) = |both| / sqrt(|i| |j|):
RATERS = {0: [0, 1, 2, 3], 1: [0, 1, 2], 2: [2, 3], 3: [4]}
EXPECTED = {
    (0, 1): 3 / math.sqrt(4 * 3),
    (0, 2): 2 / math.sqrt(4 * 2),
    (1, 2): 1 / math.sqrt(3 * 2),
}


def item_neighbours(
    spark: SparkSession, indexed: DataFrame, k: int, per_user: int = 300
) -> DataFrame:
    """(item_idx, neighbour_idx, similarity) by Spark: each movie's k most similar movies by
    cosine; ties to the lower index."""
    # Table only, and the cap never lowered: per_user pairs per rating is more than any can have.
    co = co_ratings(spark, indexed, per_user, 0, float(per_user), driver_max_pairs=-1)
    assert isinstance(co, SparkCoRatings)
    try:
        table = co.table(ItemModel("cosine", 0.0, k))
        table.count()  # materialised while the co-ratings are cached
        return table
    finally:
        co.release()


def _indexed(spark: SparkSession):  # type: ignore[no-untyped-def]
    rows = [(u, i, 4.0, 0) for i, users in RATERS.items() for u in users]
    return spark.createDataFrame(rows, "user_idx int, item_idx int, rating double, timestamp long")


def test_similarities_are_the_cosine_of_co_ratings(spark: SparkSession) -> None:
    table = item_neighbours(spark, _indexed(spark), k=10)
    got = {(r.item_idx, r.neighbour_idx): r.similarity for r in table.collect()}
    expected = {**EXPECTED, **{(j, i): v for (i, j), v in EXPECTED.items()}}
    assert set(got) == set(expected)  # movie 3 shares no rater: no pair at all
    for pair, value in expected.items():
        assert got[pair] == pytest.approx(value, rel=1e-6)


def test_only_the_k_most_similar_are_kept(spark: SparkSession) -> None:
    neighbours = collect_links(item_neighbours(spark, _indexed(spark), k=1), 4)
    assert neighbours.neighbours(0)[0].tolist() == [1]  # 0.866 beats 0.707
    assert neighbours.neighbours(2)[0].tolist() == [0]  # 0.707 beats 0.408
    assert neighbours.neighbours(3)[0].tolist() == []


def test_only_each_users_most_recent_ratings_count(spark: SparkSession) -> None:
    # User 9 rated movies 0 and 3, movie 3 last; with one rating per user counted, only
    # (9, 3) is left of them, so movies 0 and 3 share no counted rater.
    rows = [(9, 0, 4.0, 1), (9, 3, 4.0, 2), (8, 0, 4.0, 1), (8, 3, 4.0, 1)]
    df = spark.createDataFrame(rows, "user_idx int, item_idx int, rating double, timestamp long")
    everything = {(r.item_idx, r.neighbour_idx) for r in item_neighbours(spark, df, 5).collect()}
    assert everything == {(0, 3), (3, 0)}
    capped = item_neighbours(spark, df, 5, per_user=1).collect()
    assert capped == []  # user 8 keeps movie 0 (same time, lower index), user 9 movie 3


def test_scores_equal_the_dense_formula() -> None:
    rng = np.random.default_rng(5)
    n = 30
    pairs = {(int(i), int(j)) for i, j in rng.integers(0, n, (200, 2)) if i != j}
    item = np.array([i for i, _ in pairs])
    neighbour = np.array([j for _, j in pairs])
    similarity = rng.random(len(pairs)).astype(np.float32)
    neighbours = ItemNeighbours.from_pairs(item, neighbour, similarity, n)
    dense = np.zeros((n, n))
    dense[item, neighbour] = similarity
    rated = np.array([2, 9, 17])
    # A movie scores the summed similarity to the rated movies among its neighbours.
    np.testing.assert_allclose(neighbours.scores(rated, n), dense[:, rated].sum(axis=1), rtol=1e-6)
    ranked, sims = neighbours.neighbours(4)
    assert list(sims) == sorted(sims, reverse=True)
    assert set(ranked) == {j for i, j in pairs if i == 4}
    reasons = neighbours.reasons(4, rated, 2)
    assert set(reasons) <= set(rated.tolist()) & set(ranked.tolist())


def test_blend_weights_each_score_scaled_to_one() -> None:
    als, cf = np.array([2.0, -4.0, 1.0]), np.array([0.0, 3.0, 6.0])
    np.testing.assert_allclose(blend(als, cf, 1.0), [0.5, -1.0, 0.25])
    np.testing.assert_allclose(blend(als, cf, 0.0), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(blend(als, cf, 0.5), [0.25, -0.25, 0.625])
    np.testing.assert_allclose(blend(als, np.zeros(3), 0.5), [0.25, -0.5, 0.125])
