"""Item-item models: the driver's dense path and Spark's self-join give the same links, EASE^R
is its closed form kept whole (negative weights too) from every rating, and link selection keeps
ties to the lower index."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.sql import SparkSession

from rec_service.domain.item_item import (
    DriverCoRatings,
    ItemModel,
    capped_pairs,
    ease_gram,
    ease_weights,
    ratings_cap,
)
from rec_service.domain.ranking import DenseItemWeights, ItemNeighbours, blend
from spark_store.item_models import SparkCoRatings, co_ratings
from spark_store.training import index_ids


def _random_ratings(spark: SparkSession, seed: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    popularity = rng.pareto(1.5, 30) + 0.1
    rows = []
    for u in range(50):
        for m in range(30):
            if rng.random() < min(0.9, 0.15 * popularity[m]):
                rows.append((f"u{u}", f"m{m:02d}", 4.0, int(rng.integers(0, 10_000))))
    df = spark.createDataFrame(
        rows, "user_id string, movie_id string, rating double, timestamp long"
    )
    return index_ids(spark, df)


def ease_links(
    users: np.ndarray, items: np.ndarray, item_count: int, model: ItemModel, max_items: int
) -> DenseItemWeights:
    """EASE^R over the `max_items` most-rated movies, from (user index, item index) pairs."""
    kept, gram = ease_gram(users, items, item_count, max_items)
    return ease_weights(gram, kept, model, item_count)


def _links_as_dict(links: ItemNeighbours) -> dict[tuple[int, int], float]:
    out = {}
    for item in range(links.items):
        neighbours, similarity = links.neighbours(item)
        for n, s in zip(neighbours, similarity, strict=True):
            out[(item, int(n))] = float(s)
    return out


@pytest.mark.parametrize(
    "model",
    [ItemModel("cosine", 0.0, 5), ItemModel("rp3beta", 0.5, 4), ItemModel("rp3beta", 0.0, 30)],
)
@pytest.mark.parametrize("per_user", [300, 6])
def test_dense_and_spark_co_ratings_give_the_same_links(
    spark: SparkSession, model: ItemModel, per_user: int
) -> None:
    _, items, indexed = _random_ratings(spark, 5)
    dense = co_ratings(spark, indexed, per_user, len(items))
    # Spark's table at the same cap: a budget of per_user pairs per rating never lowers it.
    distributed = co_ratings(spark, indexed, per_user, len(items), per_user, driver_max_pairs=-1)
    assert isinstance(dense, DriverCoRatings) and isinstance(distributed, SparkCoRatings)
    try:
        mine = _links_as_dict(dense.links(model, ease_max_items=100))
        theirs = _links_as_dict(distributed.links(model, ease_max_items=100))
    finally:
        dense.release()
        distributed.release()
    assert len(mine) > 20
    for pair in mine.keys() & theirs.keys():
        assert mine[pair] == pytest.approx(theirs[pair], rel=1e-5)
    # Sums of 1/degree differ in their last bits between the driver's and Spark's order of
    # addition, so a tie at a row's k-th link may fall either way; any link only one side
    # keeps must be such a tie.
    keep_per = 0 if model.kind == "cosine" else 1  # the key part whose k links are kept
    for pair in mine.keys() ^ theirs.keys():
        kept, other = (mine, theirs) if pair in mine else (theirs, mine)
        row = [v for p, v in other.items() if p[keep_per] == pair[keep_per]]
        assert len(row) == model.neighbours and kept[pair] == pytest.approx(min(row), rel=1e-5)


def test_ease_weights_are_the_closed_form_solution_with_negative_weights() -> None:
    rng = np.random.default_rng(3)
    x = (rng.random((40, 8)) < 0.4).astype(np.float64)
    users, items = np.nonzero(x)
    lam = 5.0
    p = np.linalg.inv(x.T @ x + lam * np.eye(8))
    b = np.eye(8) - p / np.diag(p)  # Steck (2019), eq. 8
    weights = ease_links(users, items, 8, ItemModel("ease", lam, 7), max_items=100)
    assert isinstance(weights, DenseItemWeights)
    dense = np.zeros((8, 8))
    dense[np.ix_(weights.kept, weights.kept)] = weights.weights
    np.testing.assert_allclose(dense, b, rtol=1e-4, atol=1e-6)
    assert (b < 0).any()  # the test would not notice dropped negative weights otherwise
    # A user is scored as their row of X times B: rated movies' rows summed.
    rated = np.flatnonzero(x[0])
    np.testing.assert_allclose(weights.scores(rated, 8), x[0] @ b, rtol=1e-4, atol=1e-6)


def test_ease_covers_only_the_most_rated_movies() -> None:
    rng = np.random.default_rng(4)
    x = (rng.random((60, 10)) < np.linspace(0.9, 0.1, 10)).astype(np.float64)
    users, items = np.nonzero(x)
    weights = ease_links(users, items, 10, ItemModel("ease", 2.0, 9), max_items=4)
    most_rated = set(np.argsort(-x.sum(axis=0), kind="stable")[:4].tolist())
    assert set(weights.kept.tolist()) == most_rated
    scores = weights.scores(np.arange(10), 10)
    outside = [m for m in range(10) if m not in most_rated]
    assert (scores[outside] == 0).all() and (scores[list(most_rated)] != 0).any()


def test_ease_gram_summed_by_blocks_of_users_is_x_transpose_x(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(5)
    x = (rng.random((23, 6)) < 0.5).astype(np.float32)
    users, items = np.nonzero(x)
    monkeypatch.setattr(
        "rec_service.domain.item_item.EASE_BLOCK_BYTES", 4 * 6 * 4
    )  # 4 users a block
    kept, gram = ease_gram(users, items, 6, max_items=100)
    order = np.argsort(-x.sum(axis=0), kind="stable")
    assert kept.tolist() == order.tolist()
    np.testing.assert_array_equal(gram, (x.T @ x)[np.ix_(kept, kept)])


@pytest.mark.parametrize("driver_max_pairs", [40_000_000, -1])  # driver and Spark co-ratings
def test_ease_uses_every_rating_where_co_ratings_are_capped(
    spark: SparkSession, driver_max_pairs: int
) -> None:
    users, items, indexed = _random_ratings(spark, 6)
    # Each user's 3 latest ratings count for cosine and RP3beta; EASE^R takes them all.
    co = co_ratings(spark, indexed, 3, len(items), 3.0, driver_max_pairs=driver_max_pairs)
    try:
        weights = co.links(ItemModel("ease", 4.0, 0), ease_max_items=100)
    finally:
        co.release()
    rows = indexed.select("user_idx", "item_idx").collect()
    every = ease_links(
        np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), len(items),
        ItemModel("ease", 4.0, 0), max_items=100,
    )  # fmt: skip
    assert isinstance(weights, DenseItemWeights) and isinstance(every, DenseItemWeights)
    assert len(rows) > 3 * len(users)  # the cap would have dropped ratings
    np.testing.assert_array_equal(weights.kept, every.kept)
    np.testing.assert_allclose(weights.weights, every.weights, rtol=1e-5, atol=1e-6)


def test_dense_weights_grow_with_the_catalogue_and_ignore_unknown_movies() -> None:
    weights = DenseItemWeights(4, np.array([0, 2]), np.array([[0, 1.5], [-0.5, 0]], np.float32))
    np.testing.assert_allclose(weights.scores(np.array([0, 3]), 4), [0, 0, 1.5, 0])
    grown = weights.with_items(6)
    np.testing.assert_allclose(grown.scores(np.array([2, 5]), 6), [-0.5, 0, 0, 0, 0, 0])
    assert DenseItemWeights.empty(3).scores(np.array([1]), 3).tolist() == [0, 0, 0]


def test_blend_weights_each_part_by_its_share() -> None:
    als, cf, popularity = np.array([2.0, 1.0, 0.0]), np.array([0.0, 4.0, 2.0]), np.array([1, 3, 6])
    np.testing.assert_allclose(
        blend(als, cf, 0.5, popularity, 0.25), [0.5 + 0.25 / 6, 0.25 + 0.25 + 0.125, 0.125 + 0.25]
    )
    np.testing.assert_allclose(blend(als, cf, 0.0, popularity, 1.0), popularity / 6)
    np.testing.assert_allclose(blend(als, cf, 0.3), 0.3 * als / 2 + 0.7 * cf / 4)


def test_ratings_cap_is_the_largest_whose_pairs_fit_the_budget() -> None:
    histogram = (np.array([1, 10, 400]), np.array([5, 3, 2]))  # (ratings, users with that many)
    assert capped_pairs(histogram, 300) == 3 * 45 + 2 * (300 * 299 // 2)
    assert ratings_cap(histogram, 300, 10**9) == 300  # fits: the cap is not lowered
    cap = ratings_cap(histogram, 300, 5_000)
    assert capped_pairs(histogram, cap) <= 5_000 < capped_pairs(histogram, cap + 1)
    assert ratings_cap(histogram, 300, 0) == 2


def test_a_budget_past_the_driver_lowers_the_heaviest_users_cap(spark: SparkSession) -> None:
    # u0 rated ten movies (45 pairs), u1 and u2 two each (1 pair each): 14 ratings. A budget of
    # 8 pairs (the driver's; 0.5 per rating is 7) keeps u0's 4 most recent (6 pairs): 8 in all.
    rows = [("u0", f"m{m}", 4.0, m) for m in range(10)]
    rows += [("u1", "m0", 3.0, 1), ("u1", "m1", 3.0, 2), ("u2", "m8", 5.0, 1), ("u2", "m9", 5.0, 2)]
    df = spark.createDataFrame(
        rows, "user_id string, movie_id string, rating double, timestamp long"
    )
    _, items, indexed = index_ids(spark, df)
    co = co_ratings(spark, indexed, 300, len(items), pairs_per_rating=0.5, driver_max_pairs=8)
    assert isinstance(co, DriverCoRatings)
    pairs = {
        tuple(sorted((items[a], items[b]))): n
        for a, b, n in zip(co.first, co.second, co.both, strict=True)
    }
    recent = ["m6", "m7", "m8", "m9"]
    expected = {(a, b) for i, a in enumerate(recent) for b in recent[i + 1 :]}
    assert set(pairs) == expected | {("m0", "m1")}
    assert pairs[("m8", "m9")] == 2  # u0 and u2
    co.release()
