"""Fold-in solves the same normal equations as Spark's ALS: folding a trained user back in with
their own training ratings gives back the vector Spark's last half-step computed."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.sql import SparkSession

from rec_service.foldin import solve_explicit, solve_implicit
from spark_store.training import AlsParams, train_als


def _random_ratings(seed: int) -> list[tuple[str, str, float, int]]:
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(40):
        for i in range(25):
            if rng.random() < 0.4:
                rows.append((f"u{u}", f"m{i}", float(rng.integers(1, 11)) / 2, 0))
    return rows


@pytest.mark.parametrize("implicit", [False, True])
def test_fold_in_equals_the_als_user_solve(spark: SparkSession, implicit: bool) -> None:
    rows = _random_ratings(3)
    ratings = spark.createDataFrame(
        rows, "user_id string, movie_id string, rating double, timestamp long"
    )
    params = AlsParams(
        rank=5, reg_param=0.1, max_iter=8, implicit_prefs=implicit, alpha=2.0, seed=1
    )
    trained = train_als(spark, ratings, params)
    users = {r.id: np.array(r.features) for r in trained.model.userFactors.collect()}
    items = np.zeros((len(trained.item_ids), 5))
    for r in trained.model.itemFactors.collect():
        items[r.id] = r.features
    gram = items.T @ items
    for u_idx, user in enumerate(trained.user_ids):
        mine = [(trained.item_ids.index(m), r) for u, m, r, _ in rows if u == user]
        idx = np.array([j for j, _ in mine])
        values = np.array([r for _, r in mine])
        if implicit:
            folded = solve_implicit(items[idx], values, 0.1, 2.0, gram)
        else:
            folded = solve_explicit(items[idx], values, 0.1)
        np.testing.assert_allclose(folded, users[u_idx], rtol=1e-3, atol=1e-4)
