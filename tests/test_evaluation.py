"""Metric functions on hand-made cases with known answers, and splits that never leak: not
into evaluation, not into tuning."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from rec_service.domain import ranking_metrics as metrics
from rec_service.domain.model_types import ModelSettings
from rec_service.jobs import tune as tune_mod
from spark_store.holdout import RankingHoldout, RatingHoldout, RatingSet
from spark_store.loaders import load_dataset
from spark_store.splits import fold_split, per_user_split, random_split

from .conftest import DEMO_DATA


def test_accuracy_metrics() -> None:
    assert metrics.rmse([1.0, 2.0], [2.0, 4.0]) == pytest.approx(math.sqrt(2.5))
    assert metrics.mae([1.0, 2.0], [2.0, 4.0]) == pytest.approx(1.5)
    assert metrics.rmse([3.0], [3.0]) == 0.0


def test_ranking_metrics_on_a_hand_made_list() -> None:
    recommended, relevant = ["a", "b", "c", "d"], {"b", "d", "x"}
    assert metrics.precision_at_k(recommended, relevant, 4) == pytest.approx(0.5)
    assert metrics.recall_at_k(recommended, relevant, 4) == pytest.approx(2 / 3)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert metrics.ndcg_at_k(recommended, relevant, 4) == pytest.approx(dcg / ideal)
    assert metrics.average_precision_at_k(recommended, relevant, 4) == pytest.approx(
        (1 / 2 + 2 / 4) / 3
    )
    assert metrics.ndcg_at_k(["x", "b", "d"], relevant, 3) == pytest.approx(1.0)
    assert metrics.average_precision_at_k(["q", "r"], relevant, 2) == 0.0
    assert metrics.precision_at_k(["b"], relevant, 10) == pytest.approx(0.1)  # short list


def test_coverage_and_summary() -> None:
    assert metrics.coverage([["a", "b"], ["b", "c"]], 4, 2) == pytest.approx(0.75)
    assert metrics.coverage([["a", "b", "c"]], 4, 1) == pytest.approx(0.25)
    summary = metrics.ranking_summary(
        {"u": ["a", "b"], "v": ["c", "d"]}, {"u": {"a"}, "v": {"z"}, "w": set()}, 2, 10
    )
    assert summary["precision@2"] == pytest.approx(0.25)  # (1/2 + 0) / 2 users; w has none
    assert summary["users"] == 2 and summary["coverage"] == pytest.approx(0.4)


def test_splits_never_leak_and_repeat(spark: SparkSession) -> None:
    ratings = load_dataset(spark, DEMO_DATA).ratings.cache()
    total = ratings.count()
    train, test = per_user_split(ratings, 0.25, seed=42)
    key = ["user_id", "movie_id"]
    assert train.join(test, key).count() == 0
    assert train.count() + test.count() == total
    per_user = (
        ratings.groupBy("user_id")
        .count()
        .join(test.groupBy("user_id").count().withColumnRenamed("count", "t"), "user_id")
    )
    assert per_user.filter(F.col("t") != F.floor(F.col("count") * 0.25)).count() == 0
    again, _ = per_user_split(ratings, 0.25, seed=42)
    assert again.exceptAll(train).count() == 0
    other, _ = per_user_split(ratings, 0.25, seed=7)
    assert other.exceptAll(train).count() > 0

    r_train, r_test = random_split(ratings, 0.2, seed=42)
    assert r_train.join(r_test, key).count() == 0
    assert r_train.count() + r_test.count() == total
    assert abs(r_test.count() / total - 0.2) < 0.01

    # k-fold: five disjoint test shares that cover every rating; fold 0 is random_split's.
    tests = [fold_split(ratings, 5, fold, seed=42) for fold in range(5)]
    assert sum(t.count() for _, t in tests) == total
    for fold, (f_train, f_test) in enumerate(tests):
        assert f_train.count() + f_test.count() == total
        assert f_train.join(f_test, key).count() == 0
        for _, other_test in tests[fold + 1 :]:
            assert f_test.join(other_test, key).count() == 0
    assert tests[0][1].exceptAll(r_test).count() == 0 == r_test.exceptAll(tests[0][1]).count()
    with pytest.raises(ValueError, match="fold 5"):
        fold_split(ratings, 5, 5, seed=42)


def test_tuning_never_sees_the_evaluation_test_side(
    spark: SparkSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Everything `movierec tune` fits or scores on (ALS, Item-CF, biases, popularity counts,
    validation) comes from the training side of the splits `movierec evaluate` tests on."""
    rng = np.random.default_rng(11)
    rows = [
        (f"u{u}", f"m{m}", float(rng.integers(1, 11)) / 2, 0)
        for u in range(40)
        for m in range(30)
        if rng.random() < 0.5
    ]
    ratings = RatingSet(
        spark,
        spark.createDataFrame(
            rows, "user_id string, movie_id string, rating double, timestamp long"
        ),
    )
    seen: list[set[tuple[str, str]]] = []

    class RecordingRanking(RankingHoldout):
        def __init__(self, train: RatingSet, test: RatingSet) -> None:
            seen.extend([train.pairs(), test.pairs()])
            super().__init__(train, test)

    class RecordingRating(RatingHoldout):
        def __init__(self, train: RatingSet, test: RatingSet) -> None:
            seen.extend([train.pairs(), test.pairs()])
            super().__init__(train, test)

    monkeypatch.setattr(tune_mod, "RankingHoldout", RecordingRanking)
    monkeypatch.setattr(tune_mod, "RatingHoldout", RecordingRating)
    result = tune_mod.tune(ratings, ModelSettings(), tune_mod.Grid.quick(), seed=42)

    assert len(seen) == 4 and all(seen)  # ranking fit + validation, rating fit + validation
    ranking_test = ratings.per_user_split(0.25, seed=42)[1].pairs()
    accuracy_test = ratings.random_split(0.2, seed=42)[1].pairs()
    assert not (seen[0] | seen[1]) & ranking_test
    assert not (seen[2] | seen[3]) & accuracy_test
    assert not seen[0] & seen[1] and not seen[2] & seen[3]
    assert result.ranking_rows and result.rating_rows


def test_holdout_counts_and_exclusions_come_from_training_only(spark: SparkSession) -> None:
    ratings = RatingSet(spark, load_dataset(spark, DEMO_DATA).ratings)
    train, test = ratings.per_user_split(0.25, seed=42)
    holdout = RankingHoldout(train, test)
    try:
        assert holdout.counts.sum() == train.count()
        for user, relevant in holdout.relevant.items():
            u = holdout.user_index[user]
            assert not {holdout.item_ids[j] for j in holdout.seen[u]} & relevant
    finally:
        holdout.release()
