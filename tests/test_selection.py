"""Tuning at training: the ranker is chosen on validation carved from the training data only,
is never below popularity or ALS there, serves popularity where nothing beats it, and what was
chosen is what the trained model serves."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from pyspark.sql import DataFrame, SparkSession

from rec_service.jobs import evaluate
from spark_store import selection
from spark_store.holdout import RankingHoldout, RatingSet
from spark_store.model_types import AlsParams, ModelSettings, TuningSettings
from spark_store.models import train_models

SCHEMA = "user_id string, movie_id string, rating double, timestamp long"
SMALL = ModelSettings(
    ranking=AlsParams(rank=8, reg_param=0.1, max_iter=5, implicit_prefs=True, alpha=5.0),
    rating=AlsParams(rank=4, reg_param=0.1, max_iter=5),
    cf_neighbours=10,
)
# The ranker's choice alone: PredictRating's (tests/test_rating_selection.py) measures only the
# configured settings.
RANKER_ONLY = TuningSettings(budget_s=60, rating_budget_s=0)


def popularity_only(spark: SparkSession, seed: int = 1) -> DataFrame:
    """Users who rate movies by their popularity alone: no taste, nothing personal to learn,
    so the most popular unseen movies are the best guess for every user."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, 81) ** 1.1
    weights /= weights.sum()
    rows = []
    for u in range(300):
        for m in rng.choice(80, size=int(rng.integers(8, 25)), replace=False, p=weights):
            rows.append((f"u{u}", f"m{m}", 4.0, int(rng.integers(0, 1_000_000))))
    return spark.createDataFrame(rows, SCHEMA)


def two_tastes(spark: SparkSession, seed: int = 2) -> DataFrame:
    """Two groups with disjoint favourites: item-item models find a user's group at once."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(200):
        group = u % 2
        for m in rng.choice(40, size=12, replace=False):
            rows.append((f"u{u}", f"m{group}-{m}", 5.0, int(rng.integers(0, 1_000_000))))
    return spark.createDataFrame(rows, SCHEMA)


def _by_name(chosen: selection.Selection) -> dict[str, float]:
    return {row["ranker"]: row["ndcg@10"] for row in chosen.candidates}


def test_where_only_popularity_is_learnable_the_choice_is_at_least_popularity(
    spark: SparkSession,
) -> None:
    chosen = selection.select(spark, popularity_only(spark), SMALL, RANKER_ONLY)
    figures = _by_name(chosen)
    assert figures[chosen.chosen] >= max(figures["popularity"], figures["implicit ALS"])
    # within noise of the best: one standard error of the best one's NDCG
    best = max(chosen.candidates, key=lambda row: row["ndcg@10"])
    assert figures[chosen.chosen] >= best["ndcg@10"] - best["ndcg@10_se"]
    # Popularity is the best guess here: the served ranker is popularity, or a blend that gives
    # popularity weight or does at least as well on validation.
    settings = chosen.settings
    assert settings.blend_popularity_weight > 0 or figures[chosen.chosen] >= figures["popularity"]
    if chosen.chosen == "popularity":
        assert settings.blend_popularity_weight == 1.0 and settings.blend_als_weight == 0.0


def test_where_tastes_differ_an_item_model_beats_popularity(spark: SparkSession) -> None:
    chosen = selection.select(spark, two_tastes(spark), SMALL, RANKER_ONLY)
    figures = _by_name(chosen)
    assert figures[chosen.chosen] > figures["popularity"] * 1.5
    assert chosen.chosen != "popularity" and chosen.settings.blend_popularity_weight < 1.0


def test_the_trained_model_serves_what_tuning_chose(spark: SparkSession) -> None:
    trained = train_models(spark, two_tastes(spark), SMALL, tuning=RANKER_ONLY)
    assert trained.tuning is not None
    assert trained.tuning["chosen"] in {row["ranker"] for row in trained.tuning["candidates"]}
    assert trained.settings.item_model in ("cosine", "rp3beta", "ease")
    if not trained.settings.ranking_uses_cf_neighbours:
        assert trained.ranking_links is not None
        assert trained.ranking_links.scores(np.arange(3), len(trained.item_ids)).any()
    untuned = train_models(spark, two_tastes(spark), SMALL, tuning=TuningSettings(enabled=False))
    assert untuned.tuning is None and untuned.settings == SMALL


def test_a_tight_budget_still_compares_the_baselines(spark: SparkSession) -> None:
    chosen = selection.select(
        spark, two_tastes(spark), SMALL, dataclasses.replace(RANKER_ONLY, budget_s=0)
    )
    names = [row["ranker"] for row in chosen.candidates]
    assert names == ["popularity", "implicit ALS"]
    assert chosen.skipped and all("budget" in reason for reason in chosen.skipped)


def test_time_split_holds_out_each_users_latest_ratings(spark: SparkSession) -> None:
    ratings = RatingSet(spark, two_tastes(spark))
    fit, validation, how = selection.validation_split(ratings, "time", 0.25, 42)
    assert "time" in how
    latest_fit = {r[0]: r[1] for r in fit.df.groupBy("user_id").max("timestamp").collect()}
    for row in validation.df.groupBy("user_id").min("timestamp").collect():
        assert row[1] >= latest_fit[row[0]]
    _, _, random_how = selection.validation_split(ratings, "random", 0.25, 42)
    assert "random" in random_how


def test_evaluation_tunes_on_its_training_side_only(
    spark: SparkSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`movierec evaluate`'s tuned GetTopN row: everything the tuning fits or validates on
    comes from the training side of the evaluation's split."""
    seen: list[set[tuple[str, str]]] = []

    class Recording(RankingHoldout):
        def __init__(self, train: RatingSet, test: RatingSet) -> None:
            seen.extend([train.pairs(), test.pairs()])
            super().__init__(train, test)

    monkeypatch.setattr(selection, "RankingHoldout", Recording)
    ratings = RatingSet(spark, two_tastes(spark))
    train, test = ratings.per_user_split(0.25, 42)
    rows = evaluate.ranking(train, test, SMALL, dataclasses.replace(RANKER_ONLY, budget_s=30), 10)
    assert len(seen) == 2 and all(seen)  # the tuning's fit and validation sides
    assert not (seen[0] | seen[1]) & test.pairs()
    tuned = [name for name in rows if name.startswith("GetTopN, tuned")]
    assert len(tuned) == 1 and rows[tuned[0]]["tuning_seconds"] > 0


class _Figures:
    """A holdout stand-in whose scorers are their own summaries: the pick rule alone."""

    def summary(self, score, k):  # type: ignore[no-untyped-def]
        return score(0, None)


def _candidate(ndcg: float, se: float):  # type: ignore[no-untyped-def]
    return lambda _u, _r: {"ndcg@10": ndcg, "ndcg@10_se": se, "precision@10": 0.0}


def test_the_pick_is_the_configured_or_simplest_within_one_standard_error() -> None:
    configured = ModelSettings()
    other = ModelSettings(blend_als_weight=0.5)
    chooser = selection._Chooser(_Figures(), 10, configured)  # type: ignore[arg-type]
    chooser.measure("popularity", _candidate(0.10, 0.01), ModelSettings(blend_popularity_weight=1))
    chooser.measure("implicit ALS", _candidate(0.20, 0.01), ModelSettings(blend_als_weight=1))
    chooser.measure("simple", _candidate(0.295, 0.01), other)
    chooser.measure("configured", _candidate(0.30, 0.01), configured)
    chooser.measure("lucky", _candidate(0.305, 0.01), other)
    assert chooser.best()[0] == "configured"  # within 0.01 of the best, and configured

    chooser = selection._Chooser(_Figures(), 10, ModelSettings(cf_neighbours=7))  # type: ignore[arg-type]
    chooser.measure("popularity", _candidate(0.10, 0.01), ModelSettings(blend_popularity_weight=1))
    chooser.measure("implicit ALS", _candidate(0.20, 0.01), ModelSettings(blend_als_weight=1))
    chooser.measure("far below", _candidate(0.25, 0.01), other)
    chooser.measure("simple", _candidate(0.30, 0.01), other)
    chooser.measure("best", _candidate(0.305, 0.01), configured)
    assert chooser.best()[0] == "simple"  # the first within noise of the best

    chooser = selection._Chooser(_Figures(), 10, configured)  # type: ignore[arg-type]
    chooser.measure("popularity", _candidate(0.30, 0.05), ModelSettings(blend_popularity_weight=1))
    chooser.measure("implicit ALS", _candidate(0.20, 0.05), ModelSettings(blend_als_weight=1))
    chooser.measure("configured", _candidate(0.29, 0.05), configured)
    assert chooser.best()[0] == "popularity"  # never below popularity or ALS alone
