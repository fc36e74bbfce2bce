"""PredictRating tuned at training: bias shrinkage, ALS regParam and rank chosen by RMSE on a
validation split of the training data only, a change kept only when clearly better."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.sql import DataFrame, SparkSession

from rec_service.domain.model_types import AlsParams, BiasParams, ModelSettings, TuningSettings
from rec_service.jobs import evaluate
from spark_store import rating_selection
from spark_store.bias_als import biases_of_arrays, fit_biases
from spark_store.holdout import RatingHoldout, RatingSet
from spark_store.models import train_models
from spark_store.training import index_ids
from spark_store.tuning_limit import TuningLimit

SCHEMA = "user_id string, movie_id string, rating double, timestamp long"
# Shrinkage so strong that every bias is nearly zero: the data's biases are large and well
# supported, so a tuner worth having must move away from it.
OVER_SHRUNK = ModelSettings(
    ranking=AlsParams(rank=4, reg_param=0.1, max_iter=3, implicit_prefs=True, alpha=5.0),
    rating=AlsParams(rank=4, reg_param=0.15, max_iter=5),
    bias=BiasParams(reg_item=400.0, reg_user=400.0),
    cf_neighbours=10,
)


def biased_ratings(spark: SparkSession, seed: int = 3) -> DataFrame:
    """Ratings that are a global mean plus strong user and movie biases plus a little noise."""
    rng = np.random.default_rng(seed)
    user_bias, movie_bias = rng.normal(0, 0.8, 120), rng.normal(0, 0.8, 60)
    rows = []
    for u in range(120):
        for m in rng.choice(60, size=30, replace=False):
            value = 3.0 + user_bias[u] + movie_bias[m] + rng.normal(0, 0.2)
            rows.append((f"u{u}", f"m{m}", float(np.clip(np.round(value * 2) / 2, 0.5, 5.0)), 0))
    return spark.createDataFrame(rows, SCHEMA)


def test_biases_on_the_driver_equal_sparks(spark: SparkSession) -> None:
    users, items, indexed = index_ids(spark, biased_ratings(spark))
    params = BiasParams(reg_item=3.0, reg_user=7.0)
    in_spark = fit_biases(indexed, params, len(users), len(items))
    rows = indexed.select("user_idx", "item_idx", "rating").collect()
    user_idx, item_idx, rating = (np.asarray([r[i] for r in rows]) for i in range(3))
    on_driver = biases_of_arrays(user_idx, item_idx, rating, params, (len(users), len(items)))
    assert on_driver.mean == pytest.approx(in_spark.mean)
    np.testing.assert_allclose(on_driver.user, in_spark.user, atol=1e-9)
    np.testing.assert_allclose(on_driver.item, in_spark.item, atol=1e-9)


def test_over_shrunk_biases_are_tuned_away_and_the_model_serves_the_choice(
    spark: SparkSession,
) -> None:
    tuning = TuningSettings(item_models=0, rating_fits=7)
    trained = train_models(spark, biased_ratings(spark), OVER_SHRUNK, tuning=tuning)
    assert trained.tuning is not None
    chosen = trained.tuning["rating"]
    rmse = {row["predictor"]: row["rmse"] for row in chosen["candidates"]}
    configured = rating_selection.describe(OVER_SHRUNK.bias, OVER_SHRUNK.rating)
    assert trained.settings.bias.reg_item < OVER_SHRUNK.bias.reg_item
    assert rmse[chosen["chosen"]] < rmse[configured] - 0.05
    served = rating_selection.describe(trained.settings.bias, trained.settings.rating)
    assert served == chosen["chosen"]


def test_no_further_fits_still_keeps_the_configured_als_on_the_better_biases(
    spark: SparkSession,
) -> None:
    ratings = RatingSet(spark, biased_ratings(spark))
    fit, validation = ratings.per_user_split(0.2, 42)
    chosen = rating_selection.select_rating(fit, validation, OVER_SHRUNK, fits=0)
    assert chosen.rating == OVER_SHRUNK.rating and chosen.bias != OVER_SHRUNK.bias
    fits = [row for row in chosen.candidates if "ALS" in row["predictor"]]
    # The configured settings, and the configured ALS on the better biases: always measured.
    assert len(fits) == 2
    assert not chosen.skipped  # a count of fits is a grid, not a limit that was hit


def test_the_tuning_limit_skips_the_fits_left_and_says_so(spark: SparkSession) -> None:
    ratings = RatingSet(spark, biased_ratings(spark))
    fit, validation = ratings.per_user_split(0.2, 42)
    limit = TuningLimit(0.0)  # passed at its first reading
    chosen = rating_selection.select_rating(fit, validation, OVER_SHRUNK, fits=7, limit=limit)
    fits = [row for row in chosen.candidates if "ALS" in row["predictor"]]
    assert len(fits) == 1 and limit.was_hit  # the configured settings only
    # the configured ALS on the better biases, the other four regParams, both ranks
    assert len(chosen.skipped) == 7
    assert all("tuning limit of 0 s was hit" in reason for reason in chosen.skipped)
    assert chosen.rating == OVER_SHRUNK.rating


def test_evaluation_tunes_predict_rating_on_its_training_side_only(
    spark: SparkSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[set[tuple[str, str]]] = []

    class Recording(RatingHoldout):
        def __init__(self, train: RatingSet, test: RatingSet) -> None:
            seen.extend([train.pairs(), test.pairs()])
            super().__init__(train, test)

    monkeypatch.setattr(rating_selection, "RatingHoldout", Recording)
    train, test = RatingSet(spark, biased_ratings(spark)).random_split(0.2, 42)
    # No further fits: the biases are still tuned, and the configured ALS fitted on them.
    rows = evaluate.accuracy(
        train, test, OVER_SHRUNK, TuningSettings(rating_fits=0), plain_grid=[(4, 0.1)]
    )
    assert len(seen) == 2 and all(seen)
    assert not (seen[0] | seen[1]) & test.pairs()
    name, row = evaluate.served_predictor(rows)
    assert name.startswith("PredictRating, tuned") and row["tuning_seconds"] > 0
    assert row["rmse"] < rows[evaluate.FIXED_PREDICTOR]["rmse"]


def test_a_change_needs_a_gain_beyond_one_standard_error() -> None:
    rng = np.random.default_rng(0)
    base = rng.exponential(1.0, 2000)
    noisy = base + rng.normal(0, 0.05, 2000)  # lower or higher by chance only
    assert not rating_selection._clearly_lower(noisy - 0.0005, base)
    assert rating_selection._clearly_lower(base * 0.9, base)
    assert not rating_selection._clearly_lower(
        base[:1] * 0.5, base[:1]
    )  # one rating proves nothing
    current = (base, "configured")
    better = [(base * 1.01, "worse"), (noisy, "noise"), (base * 0.95, "better")]
    assert rating_selection._pick(current, better)[1] == "better"
    assert rating_selection._pick(current, better[:2])[1] == "configured"
