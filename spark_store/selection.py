"""Chooses the ranker on the data it will serve, at every training: candidates are fitted on a
validation split carved from the training ratings only and compared by NDCG@k.

PredictRating's settings are then chosen on the same split (rating_selection.py).

Candidates, cheapest first, so a tight time budget still compares the baselines:
  1. popularity (rating count) and the configured implicit ALS: always measured;
  2. each item-item model (item_models: cosine item-KNN, RP3beta, EASE^R where the catalogue
     is small enough), alone and blended with ALS and with popularity.
The served ranker is picked by the one-standard-error rule (_Chooser): within noise of the best
on validation, the configured settings if they are there, else the simplest. It is never below
popularity or ALS alone on validation; where nothing beats popularity, popularity serves.
The split is per user: each user's latest ratings by time where the data has timestamps (what
a recommender must predict is what users rate next), otherwise a random share.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_store.holdout import RankingHoldout, RatingSet, Scorer, als_scorer
from spark_store.item_models import CoRatings, ItemModel, links_per_movie
from spark_store.model_types import ModelSettings, TuningSettings
from spark_store.ranking import ItemScorer, blend
from spark_store.rating_selection import RatingSelection, select_rating
from spark_store.splits import per_user_latest_split, per_user_split

log = logging.getLogger(__name__)

ALS_WEIGHTS = (0.1, 0.2, 0.3, 0.5, 0.7)
POPULARITY_WEIGHTS = (0.05, 0.1, 0.2, 0.4)


@dataclass
class Selection:
    """The chosen settings, every candidate's validation figures and what it took."""

    settings: ModelSettings
    chosen: str
    candidates: list[dict[str, Any]] = field(default_factory=list)
    split: str = ""
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    rating: RatingSelection | None = None  # PredictRating's choice, on the same split

    def as_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "candidates": self.candidates,
            "split": self.split,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "rating": self.rating.as_dict() if self.rating is not None else None,
        }


def validation_split(
    ratings: RatingSet, split: str, fraction: float, seed: int
) -> tuple[RatingSet, RatingSet, str]:
    """(fit, validation, how): per user, a random share of their ratings, or with split "time"
    their latest ones where the data has timestamps."""
    if split == "time":
        spread = ratings.df.agg(F.min("timestamp"), F.max("timestamp")).first()
        if spread is not None and spread[0] is not None and spread[0] != spread[1]:
            fit, validation = per_user_latest_split(ratings.df, fraction, seed)
            how = f"per user, latest {fraction:.0%} by time"
            return RatingSet(ratings.spark, fit), RatingSet(ratings.spark, validation), how
    fit, validation = per_user_split(ratings.df, fraction, seed)
    how = f"per user, random {fraction:.0%}" + (" (no timestamps)" if split == "time" else "")
    return RatingSet(ratings.spark, fit), RatingSet(ratings.spark, validation), how


def select(
    spark: SparkSession, ratings: DataFrame, base: ModelSettings, tuning: TuningSettings
) -> Selection:
    """Measures every candidate that fits the budget and returns the best one's settings."""
    started = time.perf_counter()
    source = RatingSet(spark, ratings)
    fit, validation, how = validation_split(
        source, tuning.split, tuning.validation_fraction, tuning.seed
    )
    holdout = RankingHoldout(fit, validation)
    _sample_users(holdout, tuning.max_validation_users, tuning.seed)
    log.info("tuning: validation split (%s) in %.1f s", how, time.perf_counter() - started)
    chooser = _Chooser(holdout, tuning.k, base)
    skipped: list[str] = []
    co: CoRatings | None = None
    try:
        popularity = holdout.popularity()
        chooser.measure(
            "popularity",
            popularity,
            dataclasses.replace(base, blend_als_weight=0.0, blend_popularity_weight=1.0),
        )
        als = _cached(als_scorer(*holdout.factors(base.ranking)))
        chooser.measure(
            "implicit ALS",
            als,
            dataclasses.replace(base, blend_als_weight=1.0, blend_popularity_weight=0.0),
        )
        log.info("tuning: popularity and ALS measured at %.1f s", time.perf_counter() - started)
        co = holdout.co_ratings(base)
        log.info("tuning: co-ratings counted at %.1f s", time.perf_counter() - started)
        for model in _item_models(base, holdout, tuning, skipped):
            if time.perf_counter() - started > tuning.budget_s:
                skipped.append(f"{model.describe()}: over the {tuning.budget_s:g} s budget")
                continue
            fitted = time.perf_counter()
            links = co.links(model, tuning.ease_max_items)
            fitted = time.perf_counter() - fitted
            settings = dataclasses.replace(
                base,
                item_model=model.kind,
                item_model_param=model.param,
                item_model_links=model.neighbours,
            )
            scored = time.perf_counter()
            _blends(chooser, model.describe(), links, als, holdout.counts, settings)
            log.info(
                "tuning: %s fitted in %.1f s, its blends scored in %.1f s",
                model.describe(),
                fitted,
                time.perf_counter() - scored,
            )
        co.release()  # its driver memory is not wanted while PredictRating's ALS fits run
        co = None
        rating = select_rating(fit, validation, base, tuning.rating_budget_s)
    finally:
        if co is not None:
            co.release()
        holdout.release()
        for ratings_set in (fit, validation, source):  # a retrain must not leave them cached
            ratings_set.release()
    for reason in skipped:
        log.info("tuning: skipped %s", reason)
    best = chooser.best()
    log.info("tuning: serving %s (validation NDCG@%d %.4f)", best[0], tuning.k, best[1])
    return Selection(
        settings=rating.applied(best[2]),
        chosen=best[0],
        candidates=chooser.rows,
        split=how,
        skipped=skipped,
        seconds=time.perf_counter() - started,
        rating=rating,
    )


class _Chooser:
    """Scores candidates on the validation split and picks one.

    Many candidates land within noise of each other on a few hundred validation users, and the
    top one is then partly luck (on the demo data the top pick by 0.002 lost 4% NDCG on the
    test side to the configured blend). So the pick is the one-standard-error rule: of the
    candidates within one standard error of the best, and never below popularity or ALS alone,
    the configured settings if among them, else the first measured (the simplest)."""

    def __init__(self, holdout: RankingHoldout, k: int, configured: ModelSettings) -> None:
        self.holdout, self.k, self.configured = holdout, k, configured
        self.rows: list[dict[str, Any]] = []
        self._measured: list[tuple[str, float, float, ModelSettings]] = []

    def measure(self, name: str, score: Scorer, settings: ModelSettings) -> float:
        summary = self.holdout.summary(score, self.k)
        ndcg, se = summary[f"ndcg@{self.k}"], summary[f"ndcg@{self.k}_se"]
        self.rows.append({"ranker": name, **{k: round(v, 5) for k, v in summary.items()}})
        self._measured.append((name, ndcg, se, settings))
        return ndcg

    def best(self) -> tuple[str, float, ModelSettings]:
        """(name, validation NDCG, settings) of the pick."""
        top = max(self._measured, key=lambda m: m[1])
        floor = max(m[1] for m in self._measured[:2])  # popularity and ALS alone
        band = [m for m in self._measured if m[1] >= max(top[1] - top[2], floor)]
        configured = self.configured.ranker()
        pick = next((m for m in band if m[3].ranker() == configured), band[0])
        return pick[0], pick[1], pick[3]


def _blends(
    chooser: _Chooser,
    name: str,
    links: ItemScorer,
    als: Scorer,
    counts: np.ndarray,
    settings: ModelSettings,
) -> None:
    """The item-item model alone, then its best ALS weight, then popularity on top of that:
    a coordinate search, a few dozen scorings instead of a full grid."""
    items = _cached(lambda _u, rated: links.scores(rated, links.items))

    def blended(als_weight: float, popularity_weight: float) -> Scorer:
        return lambda u, rated: blend(
            als(u, rated), items(u, rated), als_weight, counts, popularity_weight
        )

    def with_weights(als_weight: float, popularity_weight: float) -> ModelSettings:
        return dataclasses.replace(
            settings, blend_als_weight=als_weight, blend_popularity_weight=popularity_weight
        )

    best_als, best = 0.0, chooser.measure(name, items, with_weights(0.0, 0.0))
    configured = settings.blend_als_weight  # measured too, so the configured blend can be kept
    for weight in sorted({*ALS_WEIGHTS, configured} - {0.0, 1.0}):
        ndcg = chooser.measure(
            f"{name} + ALS {weight:g}", blended(weight, 0.0), with_weights(weight, 0.0)
        )
        if ndcg > best:
            best_als, best = weight, ndcg
    for weight in POPULARITY_WEIGHTS:
        if best_als + weight >= 1.0:
            continue
        with_als = f" + ALS {best_als:g}" if best_als else ""
        label = f"{name}{with_als} + popularity {weight:g}"
        chooser.measure(label, blended(best_als, weight), with_weights(best_als, weight))


def _item_models(
    base: ModelSettings, holdout: RankingHoldout, tuning: TuningSettings, skipped: list[str]
) -> Iterator[ItemModel]:
    """The item-item candidates, cheapest and most often best first."""
    items = int(np.count_nonzero(holdout.counts))
    links = links_per_movie(items, base.cf_neighbours)
    yield ItemModel("cosine", 0.0, base.cf_neighbours)
    if items > tuning.ease_max_items:
        skipped.append(
            f"EASE^R: {items} rated movies, above ease_max_items {tuning.ease_max_items}; "
            f"fitted on the {tuning.ease_max_items} most rated"
        )
    # lambda in units of the mean rating count of a movie: the ridge then weighs the same
    # against the co-rating counts on a small data set and a large one.
    scale = float(holdout.counts.sum()) / max(items, 1)
    # The best lambda lay at 9x on MovieLens 100K and at 17-35x on the demo data (full
    # training sides, dense weights): 10x first, then the grid around it.
    yield ItemModel("ease", round(10 * scale, 1), links)
    yield ItemModel("rp3beta", 0.3, links)
    yield ItemModel("ease", round(25 * scale, 1), links)
    yield ItemModel("ease", round(3 * scale, 1), links)
    yield ItemModel("ease", round(60 * scale, 1), links)
    yield ItemModel("rp3beta", 0.5, links)
    yield ItemModel("rp3beta", 0.7, links)


def served_scorer(
    holdout: RankingHoldout, settings: ModelSettings, co: CoRatings, ease_max_items: int
) -> Scorer:
    """GetTopN's ranker with these settings, fitted on the holdout's training side: what
    ServingModel.scores computes, for measuring it."""
    if settings.blend_als_weight >= 1.0:
        return als_scorer(*holdout.factors(settings.ranking))
    model = ItemModel(settings.item_model, settings.item_model_param, settings.links_per_movie)
    links = co.links(model, ease_max_items)
    als = (
        als_scorer(*holdout.factors(settings.ranking))
        if settings.blend_als_weight > 0
        else (lambda _u, _rated: holdout.counts * 0.0)
    )
    return lambda u, rated: blend(
        als(u, rated),
        links.scores(rated, links.items),
        settings.blend_als_weight,
        holdout.counts,
        settings.blend_popularity_weight,
    )


def _cached(score: Scorer) -> Scorer:
    """A scorer that remembers each user's scores: the blends reuse them many times."""
    memo: dict[int, np.ndarray] = {}

    def cached(u: int, rated: np.ndarray) -> np.ndarray:
        if u not in memo:
            memo[u] = np.asarray(score(u, rated), dtype=np.float32)
        return memo[u]

    return cached


def _sample_users(holdout: RankingHoldout, limit: int, seed: int) -> None:
    """Keeps at most `limit` validation users, a reproducible random sample."""
    if len(holdout.relevant) <= limit:
        return
    users = sorted(holdout.relevant)
    keep = np.random.default_rng(seed).choice(len(users), size=limit, replace=False)
    holdout.relevant = {users[i]: holdout.relevant[users[i]] for i in sorted(keep)}
