"""Tuning at training: the ranker is chosen on validation carved from the training data only,
is never below popularity or ALS there, serves popularity where nothing beats it, and what was
chosen is what the trained model serves."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest
from pyspark.sql import DataFrame, SparkSession

from rec_service.domain.model_types import AlsParams, ModelSettings, TuningSettings
from rec_service.jobs import evaluate
from spark_store import selection
from spark_store.holdout import RankingHoldout, RatingSet
from spark_store.models import train_models
from spark_store.splits import user_sample

SCHEMA = "user_id string, movie_id string, rating double, timestamp long"
SMALL = ModelSettings(
    ranking=AlsParams(rank=8, reg_param=0.1, max_iter=5, implicit_prefs=True, alpha=5.0),
    rating=AlsParams(rank=4, reg_param=0.1, max_iter=5),
    cf_neighbours=10,
)
# The ranker's choice alone: PredictRating's (tests/test_rating_selection.py) measures only the
# configured settings.
RANKER_ONLY = TuningSettings(rating_fits=0)


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
    # Every item model alone; blends of the two best alone only.
    names = [row["ranker"] for row in chosen.candidates]
    alone = names[2 : 2 + RANKER_ONLY.item_models]
    assert not any("+" in name or "&" in name for name in alone)
    two_models = [name for name in names if " & " in name]
    blended = {name.split(" + ")[0] for name in names if " + " in name and name not in two_models}
    best_alone = sorted(alone, key=lambda name: -figures[name])[:2]
    assert blended <= set(best_alone) and len(blended) == 2
    # Then the best with an item-item model, with each other kind's best alone blended in at
    # every share: one lead, so one first model for all of them.
    firsts = {name.split(" & ")[0] for name in two_models}
    assert len(firsts) == 1 and firsts <= set(alone)
    lead_kind = next(iter(firsts)).split(" (")[0]
    kinds = {"EASE^R", "RP3beta", "item-KNN cosine"} - {lead_kind}
    seconds = {name.split(" & ")[1].split(" at ")[0] for name in two_models}
    assert {second.split(" (")[0] for second in seconds} == kinds and seconds <= set(alone)
    assert len(two_models) == len(kinds) * len(selection.SECOND_MODEL_SHARES)


def test_the_trained_model_serves_what_tuning_chose(spark: SparkSession) -> None:
    trained = train_models(spark, two_tastes(spark), SMALL, tuning=RANKER_ONLY)
    assert trained.tuning is not None
    assert trained.tuning["chosen"] in {row["ranker"] for row in trained.tuning["candidates"]}
    assert trained.settings.item_model in ("cosine", "rp3beta", "ease")
    if not trained.settings.ranking_uses_cf_neighbours:
        assert trained.item_item is not None
        assert trained.item_item.scores(np.arange(3), len(trained.item_ids)).any()
    untuned = train_models(spark, two_tastes(spark), SMALL, tuning=TuningSettings(enabled=False))
    assert untuned.tuning is None and untuned.settings == SMALL


class _SlowClock:
    """A clock on which every second of real time reads as `factor` seconds: a busy machine."""

    def __init__(self, factor: float) -> None:
        self.factor, self.start = factor, time.perf_counter()

    def __call__(self) -> float:
        return (time.perf_counter() - self.start) * self.factor


def test_a_slow_machine_measures_the_same_candidates_and_makes_the_same_choice(
    spark: SparkSession,
) -> None:
    tuning = dataclasses.replace(RANKER_ONLY, item_models=3)
    quiet = selection.select(spark, two_tastes(spark), SMALL, tuning)
    busy = selection.select(spark, two_tastes(spark), SMALL, tuning, clock=_SlowClock(30.0))
    assert busy.seconds > 10 * quiet.seconds / 2  # the clock did run slow
    assert [row["ranker"] for row in busy.candidates] == [row["ranker"] for row in quiet.candidates]
    assert busy.candidates == quiet.candidates and busy.chosen == quiet.chosen
    assert busy.settings == quiet.settings and not busy.skipped and not busy.limit_hit


def test_the_tuning_limit_is_a_safety_net_that_says_what_it_left(spark: SparkSession) -> None:
    chosen = selection.select(
        spark, two_tastes(spark), SMALL, dataclasses.replace(RANKER_ONLY, limit_s=0)
    )
    names = [row["ranker"] for row in chosen.candidates]
    assert names == ["popularity", "implicit ALS"]  # the baselines are always measured
    assert chosen.limit_hit and len(chosen.skipped) == RANKER_ONLY.item_models
    assert all("tuning limit of 0 s was hit" in reason for reason in chosen.skipped)


def test_a_retrain_keeps_the_serving_settings_where_they_validate_best(
    spark: SparkSession,
) -> None:
    tuning = dataclasses.replace(RANKER_ONLY, item_models=2)
    first = selection.select(spark, two_tastes(spark), SMALL, tuning)
    # The serving model's settings are the best candidate of a wider search (RP3beta is not in
    # this tuning's two item models): measured too, they stay while nothing beats them.
    wider = selection.select(spark, two_tastes(spark), SMALL, RANKER_ONLY)
    again = selection.select(spark, two_tastes(spark), SMALL, tuning, serving=wider.settings)
    served = selection.describe_ranker(wider.settings)
    assert served in {row["ranker"] for row in again.candidates}
    # Alone, the narrower tuning picks another ranker; with the serving settings measured
    # beside it (within noise of its best), they stay.
    assert first.settings.ranker() != wider.settings.ranker()
    assert again.settings.ranker() == wider.settings.ranker()
    assert (again.result, again.outcome) == ("unchanged", "the serving settings again")


def test_a_retrain_that_could_not_measure_the_serving_settings_keeps_them(
    spark: SparkSession,
) -> None:
    serving = dataclasses.replace(SMALL, item_model="rp3beta", item_model_param=0.5)
    chosen = selection.select(
        spark,
        two_tastes(spark),
        SMALL,
        dataclasses.replace(RANKER_ONLY, limit_s=0),
        serving=serving,
    )
    assert chosen.settings.ranker() == serving.ranker() and chosen.result == "kept"
    assert "tuning limit" in chosen.outcome
    assert any(reason.startswith("the serving settings") for reason in chosen.skipped)


def test_tuning_on_a_large_set_fits_on_whole_users_up_to_max_ratings(spark: SparkSession) -> None:
    ratings = two_tastes(spark)  # 200 users x 12 ratings
    sample, kept, users = user_sample(ratings, 600, 42)
    rows = sample.collect()
    assert users == 200 and kept == 50 and len(rows) == 600
    per_user = {r.user_id for r in rows}
    assert len(per_user) == 50
    again, _, _ = user_sample(ratings, 600, 42)
    assert sorted(map(tuple, again.collect())) == sorted(map(tuple, rows))
    chosen = selection.select(
        spark, ratings, SMALL, dataclasses.replace(RANKER_ONLY, max_ratings=600, item_models=1)
    )
    assert "600 of 2400 ratings: 50 of 200 users" in chosen.sample


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
        def __init__(self, train: RatingSet, test: RatingSet, *sample: int) -> None:
            seen.extend([train.pairs(), test.pairs()])
            super().__init__(train, test, *sample)

    monkeypatch.setattr(selection, "RankingHoldout", Recording)
    ratings = RatingSet(spark, two_tastes(spark))
    train, test = ratings.per_user_split(0.25, 42)
    rows = evaluate.ranking(train, test, SMALL, dataclasses.replace(RANKER_ONLY, item_models=2), 10)
    assert len(seen) == 2 and all(seen)  # the tuning's fit and validation sides
    assert not (seen[0] | seen[1]) & test.pairs()
    tuned = [name for name in rows if name.startswith("GetTopN, tuned")]
    assert len(tuned) == 1 and rows[tuned[0]]["tuning_seconds"] > 0


class _PerUser:
    """A holdout stand-in whose scorers return each user's NDCG themselves: the rule alone."""

    def measure(self, score, k):  # type: ignore[no-untyped-def]
        ndcg = np.asarray(score(0, None), dtype=float)
        return {"ndcg@10": float(ndcg.mean()), "ndcg@10_se": 0.0}, ndcg


POPULARITY = ModelSettings(blend_als_weight=0.0, blend_popularity_weight=1.0)
ALS = ModelSettings(blend_als_weight=1.0, blend_popularity_weight=0.0)
EASE = ModelSettings(item_model="ease", item_model_param=400, blend_als_weight=0.0)
EASE_ALS = dataclasses.replace(EASE, blend_als_weight=0.2)
EASE_ALS_POP = dataclasses.replace(EASE, blend_als_weight=0.2, blend_popularity_weight=0.1)
EASE_RP3_ALS = dataclasses.replace(
    EASE_ALS,
    second_item_model="rp3beta",
    second_item_model_param=0.5,
    second_item_model_links=20,
    second_item_model_share=0.35,
)


def _chooser(*measured: tuple[str, np.ndarray, ModelSettings]) -> selection._Chooser:
    chooser = selection._Chooser(_PerUser(), 10)  # type: ignore[arg-type]
    for name, ndcg, settings in measured:
        chooser.measure(name, lambda _u, _r, ndcg=ndcg: ndcg, settings)
    return chooser


def test_the_paired_rule_sees_a_small_gain_for_every_user() -> None:
    """One candidate is better for every user by 0.004: each one's own standard error
    (about 0.009 over 900 users) hides it, the paired difference does not."""
    rng = np.random.default_rng(3)
    base = rng.uniform(0.0, 0.6, 900)
    chooser = _chooser(
        ("popularity", base * 0.3, POPULARITY),
        ("implicit ALS", base * 0.5, ALS),
        ("item-KNN blend, measured first", base, EASE_ALS_POP),
        ("EASE^R + ALS", base + 0.004, EASE_ALS),
    )
    old = chooser.one_standard_error_pick()
    own_se = float((base + 0.004).std(ddof=1) / np.sqrt(900))
    assert own_se > 0.004 and old.name == "item-KNN blend, measured first"
    assert chooser.best().name == "EASE^R + ALS"


def test_within_noise_the_fewest_parts_win_whatever_the_order() -> None:
    rng = np.random.default_rng(4)
    base = rng.uniform(0.0, 0.6, 900)
    noise = rng.normal(0, 0.05, 900)
    noise -= noise.mean()  # the same mean as base: a tie, only noise apart
    blend_first = _chooser(
        ("popularity", base * 0.3, POPULARITY),
        ("implicit ALS", base * 0.5, ALS),
        ("EASE^R + ALS + popularity", base + noise, EASE_ALS_POP),
        ("EASE^R + ALS", base - noise, EASE_ALS),
        ("EASE^R", base, EASE),
    )
    assert blend_first.best().name == "EASE^R"  # one part, within noise of the others
    # Clearly better beats simpler: 0.02 for every user is far beyond the paired noise.
    better = _chooser(
        ("popularity", base * 0.3, POPULARITY),
        ("implicit ALS", base * 0.5, ALS),
        ("EASE^R", base, EASE),
        ("EASE^R + ALS", base + 0.02, EASE_ALS),
    )
    assert better.best().name == "EASE^R + ALS"
    assert selection.ranker_parts(EASE) == 1 and selection.ranker_parts(EASE_ALS_POP) == 3
    assert selection.ranker_parts(POPULARITY) == selection.ranker_parts(ALS) == 1
    assert selection.ranker_parts(EASE_RP3_ALS) == 3  # two item-item models and ALS


def test_a_second_item_model_is_served_only_when_clearly_better() -> None:
    rng = np.random.default_rng(7)
    base = rng.uniform(0.0, 0.6, 900)
    noise = rng.normal(0, 0.05, 900)
    noise -= noise.mean()
    measured = [
        ("popularity", base * 0.3, POPULARITY),
        ("implicit ALS", base * 0.5, ALS),
        ("EASE^R + ALS", base, EASE_ALS),
    ]
    within_noise = _chooser(*measured, ("EASE^R & RP3beta + ALS", base + noise, EASE_RP3_ALS))
    assert within_noise.best().name == "EASE^R + ALS"
    clearly = _chooser(*measured, ("EASE^R & RP3beta + ALS", base + 0.02, EASE_RP3_ALS))
    assert clearly.best().name == "EASE^R & RP3beta + ALS"
    # The lead of the two-model blends is the best measured with an item-item part.
    assert clearly.best_with_item_model() is clearly.measured[3]
    only_baselines = _chooser(*measured[:2])
    assert only_baselines.best_with_item_model() is None


def test_the_pick_is_never_below_popularity_or_als_alone() -> None:
    rng = np.random.default_rng(5)
    base = rng.uniform(0.0, 0.6, 900)
    noise = rng.normal(0, 0.05, 900)
    noise -= noise.mean()
    chooser = _chooser(
        ("popularity", base, POPULARITY),
        ("implicit ALS", base * 0.5, ALS),
        ("EASE^R", base - 0.0005 + noise, EASE),  # within noise, but below popularity
    )
    assert chooser.best().name == "popularity"


def test_the_serving_settings_stay_within_noise_and_go_when_clearly_beaten() -> None:
    rng = np.random.default_rng(6)
    base = rng.uniform(0.0, 0.6, 900)
    noise = rng.normal(0, 0.05, 900)
    noise -= noise.mean()  # the same mean as base: a tie, only noise apart
    measured = [
        ("popularity", base * 0.3, POPULARITY),
        ("implicit ALS", base * 0.5, ALS),
        ("EASE^R", base + noise, EASE),
        ("EASE^R + ALS", base, EASE_ALS),
    ]
    assert _chooser(*measured).best().name == "EASE^R"
    assert _chooser(*measured).best(serving=EASE_ALS).name == "EASE^R + ALS"
    measured[3] = ("EASE^R + ALS", base - 0.03, EASE_ALS)
    assert _chooser(*measured).best(serving=EASE_ALS).name == "EASE^R"


def test_describe_ranker_names_candidates_as_tuning_labels_them() -> None:
    assert selection.describe_ranker(POPULARITY) == "popularity"
    assert selection.describe_ranker(ALS) == "implicit ALS"
    assert (
        selection.describe_ranker(EASE_ALS_POP) == "EASE^R (lambda 400) + ALS 0.2 + popularity 0.1"
    )
    assert (
        selection.describe_ranker(EASE_RP3_ALS)
        == "EASE^R (lambda 400) & RP3beta (beta 0.5, 20 links) at 0.35 + ALS 0.2"
    )
