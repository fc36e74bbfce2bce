"""Fold-in solves the same normal equations as Spark's ALS: folding a trained user back in with
their own training ratings gives back the vector Spark's last half-step computed (explicit and
implicit ALS, and the bias-aware rating model)."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.sql import SparkSession

from rec_service.core.foldin import solve_explicit, solve_implicit
from rec_service.core.serving_model import RatingModel
from rec_service.domain.model_types import AlsParams, ModelSettings
from spark_store.models import collect_arrays, train_models
from spark_store.training import fit_als, index_ids


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
    user_ids, item_ids, indexed = index_ids(spark, ratings)
    model = fit_als(indexed, params)
    users = {r.id: np.array(r.features) for r in model.userFactors.collect()}
    items = np.zeros((len(item_ids), 5))
    for r in model.itemFactors.collect():
        items[r.id] = r.features
    gram = items.T @ items
    for u_idx, user in enumerate(user_ids):
        mine = [(item_ids.index(m), r) for u, m, r, _ in rows if u == user]
        idx = np.array([j for j, _ in mine])
        values = np.array([r for _, r in mine])
        if implicit:
            folded = solve_implicit(items[idx], values, 0.1, 2.0, gram)
        else:
            folded = solve_explicit(items[idx], values, 0.1)
        np.testing.assert_allclose(folded, users[u_idx], rtol=1e-3, atol=1e-4)


def test_bias_aware_fold_in_gives_the_trained_bias_and_factors(spark: SparkSession) -> None:
    """PredictRating's model: refolding a trained user with their training ratings gives back
    the bias fit_biases computed and the factors Spark's ALS fitted to the residuals."""
    rows = _random_ratings(4)
    ratings = spark.createDataFrame(
        rows, "user_id string, movie_id string, rating double, timestamp long"
    )
    params = AlsParams(rank=5, reg_param=0.1, max_iter=8, seed=1)
    trained = train_models(
        spark, ratings, ModelSettings(ranking=params, rating=params, cf_neighbours=5)
    )
    arrays = collect_arrays(
        trained.ranking,
        trained.rating,
        trained.biases,
        trained.neighbours,
        len(trained.user_ids),
        len(trained.item_ids),
        trained.item_item,
    )
    rating = RatingModel(
        mean=arrays.biases.mean,
        user_bias=arrays.biases.user,
        item_bias=arrays.biases.item,
        user_factors=arrays.rating_users,
        item_factors=arrays.rating_items,
        reg_param=0.1,
        bias=trained.settings.bias,
    )
    for u_idx, user in enumerate(trained.user_ids):
        mine = [(trained.item_ids.index(m), r) for u, m, r, _ in rows if u == user]
        bias, vector = rating.solve_user(
            np.array([j for j, _ in mine]), np.array([r for _, r in mine])
        )
        assert bias == pytest.approx(arrays.biases.user[u_idx], abs=1e-9)
        np.testing.assert_allclose(vector, arrays.rating_users[u_idx], rtol=1e-3, atol=1e-4)
