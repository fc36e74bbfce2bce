"""Chooses the ranker on the data it will serve, at every training: candidates are fitted on a
validation split carved from the training ratings only and compared by NDCG@k.

PredictRating's settings are then chosen on the same split (rating_selection.py).

What is measured is fixed before tuning starts, by counts in TuningSettings, so the choice
depends on the data, the settings and the seed only, never on how busy the machine is:
  - the data: all ratings, or whole users sampled by a seeded hash up to `max_ratings`;
  - validation: a random share of each user's ratings (or their latest, with split "time"),
    scored on a seeded sample of at most `max_validation_users` users;
  - candidates, in a fixed order: popularity (rating count) and the configured implicit ALS;
    the serving model's settings on a retrain; then the first `item_models` item-item models
    (item_models: cosine item-KNN, RP3beta, EASE^R over the `ease_max_items` most-rated
    movies), each alone; then the `blended_models` best of them alone, each blended with ALS
    and with popularity; then the best of all those with the best model alone of each other
    kind blended into its item-item part (SECOND_MODEL_SHARES).
`limit_s` is a safety net only: when it is hit, the candidates left are skipped and listed, at
WARNING, in the model's tuning record (GetModelInfo) and in metrics.

The pick rule (_Chooser) compares candidates by their paired per-user differences on the same
validation users: of those not clearly below the best by that measure (one standard error of
the paired difference), and never below popularity or ALS alone, it serves the serving
settings where they are among them (a retrain), else the one with the fewest parts
(popularity, ALS, each item-item model), then the highest NDCG. A retrain never serves a pick that
validates clearly below the serving settings, nor one chosen without measuring them: then the
serving settings stay (the tuning record's `outcome` says which).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from rec_service.domain.item_item import ItemModel, links_per_movie
from rec_service.domain.model_types import ModelSettings, TuningSettings
from rec_service.domain.ranking import ItemModelBlend, ItemScorer, SingleItemScorer, blend
from rec_service.domain.ranking_metrics import beyond_noise
from spark_store.holdout import RankingHoldout, RatingSet, Scorer, als_scorer
from spark_store.item_models import CoRatings, ranker_item_item
from spark_store.rating_selection import RatingSelection, select_rating
from spark_store.splits import per_user_latest_split, per_user_split, user_sample
from spark_store.tuning_limit import TuningLimit

log = logging.getLogger(__name__)

ALS_WEIGHTS = (0.1, 0.2, 0.3, 0.5, 0.7)
POPULARITY_WEIGHTS = (0.05, 0.1, 0.2, 0.4)
# A second item-item model's share of the item-item part, and the kinds it may be, in the order
# they are measured (_two_model_blends). The probes' best shares lay at 0.1-0.35
# (benchmarks/results/quality-probes.md).
SECOND_MODEL_SHARES = (0.1, 0.2, 0.35, 0.5)
SECOND_MODEL_KINDS = ("ease", "rp3beta", "cosine")


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
    sample: str = ""  # the ratings tuning fitted on
    outcome: str = ""  # the choice against the serving settings (a retrain) or "first tuning"
    result: str = "first"  # the outcome as a metric label: first, unchanged, changed, kept
    limit_hit: bool = False  # the safety limit stopped tuning: `skipped` says what it left
    notes: list[str] = field(default_factory=list)  # what a candidate could not cover
    # What the rule before the paired one (_Chooser.one_standard_error_pick) would have served,
    # so reports can score both picks on the test side.
    one_se_pick: tuple[str, ModelSettings] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "candidates": self.candidates,
            "split": self.split,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "rating": self.rating.as_dict() if self.rating is not None else None,
            "sample": self.sample,
            "outcome": self.outcome,
            "result": self.result,
            "limit_hit": self.limit_hit,
            "notes": self.notes,
            "one_se_pick": self.one_se_pick[0] if self.one_se_pick is not None else "",
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


def describe_ranker(settings: ModelSettings) -> str:
    """A ranker's name as tuning labels its candidates."""
    if settings.blend_popularity_weight >= 1.0:
        return "popularity"
    if settings.blend_als_weight >= 1.0:
        return "implicit ALS"
    als, popularity = settings.blend_als_weight, settings.blend_popularity_weight
    second = settings.second_item_model_of()
    return (
        settings.first_item_model().describe()
        + (f" & {second.describe()} at {settings.second_item_model_share:g}" if second else "")
        + (f" + ALS {als:g}" if als else "")
        + (f" + popularity {popularity:g}" if popularity else "")
    )


def ranker_parts(settings: ModelSettings) -> int:
    """How many models a ranker blends (popularity, ALS, one or two item-item models): its
    simplicity."""
    als, popularity = settings.blend_als_weight, settings.blend_popularity_weight
    item_item = 1.0 - als - popularity > 1e-9
    second = item_item and settings.has_second_item_model
    return sum(weight > 1e-9 for weight in (als, popularity)) + item_item + second


def select(
    spark: SparkSession,
    ratings: DataFrame,
    base: ModelSettings,
    tuning: TuningSettings,
    serving: ModelSettings | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Selection:
    """Measures the candidates TuningSettings fixes and returns the pick's settings; with
    `serving` (a retrain), measures those too and keeps them while they are within noise of
    the best (and whenever they could not be measured)."""
    limit = TuningLimit(tuning.limit_s, clock)
    source, sample = _tuning_ratings(RatingSet(spark, ratings), tuning)
    fit, validation, how = validation_split(
        source, tuning.split, tuning.validation_fraction, tuning.seed
    )
    holdout = RankingHoldout(fit, validation, tuning.max_validation_users, tuning.seed)
    log.info("tuning on %s: validation split (%s) in %.1f s", sample, how, limit.elapsed())
    chooser = _Chooser(holdout, tuning.k)
    skipped: list[str] = []  # candidates the safety limit left unmeasured
    notes: list[str] = []  # what a candidate could not cover
    co: CoRatings | None = None
    try:
        als = _measure_baselines(chooser, holdout, base)
        log.info("tuning: popularity and ALS measured at %.1f s", limit.elapsed())
        co = holdout.co_ratings(base)
        log.info("tuning: co-ratings counted at %.1f s", limit.elapsed())
        if serving is not None:
            if limit.hit():
                skipped.append(
                    f"the serving settings ({describe_ranker(serving)}): {limit.reason()}"
                )
            else:
                scorer = served_scorer(holdout, serving, co, tuning.ease_max_items, (base, als))
                chooser.measure(describe_ranker(serving), scorer, serving)
        _measure_item_models(chooser, holdout, co, als, base, tuning, limit, skipped, notes)
        co.release()  # its driver memory is not wanted while PredictRating's ALS fits run
        co = None
        # A retrain starts PredictRating's search from the serving settings, which it then
        # keeps unless a candidate is clearly better: the same no-regression rule.
        rating_base = serving if serving is not None else base
        rating = select_rating(fit, validation, rating_base, tuning.rating_fits, limit)
    finally:
        if co is not None:
            co.release()
        holdout.release()
        for ratings_set in (fit, validation, source):  # a retrain must not leave them cached
            ratings_set.release()
    for reason in skipped:
        log.warning("tuning: skipped %s", reason)
    pick = chooser.best(serving)
    old_rule = chooser.one_standard_error_pick()
    settings, chosen, result, outcome = pick.settings, pick.name, "first", "first tuning"
    if serving is not None:
        settings, chosen, result, outcome = _against_serving(chooser, pick, serving)
    log.info(
        "tuning: serving %s (validation NDCG@%d %.4f); %s", chosen, tuning.k, pick.mean, outcome
    )
    return Selection(
        settings=rating.applied(settings),
        chosen=chosen,
        candidates=chooser.rows,
        split=how,
        skipped=skipped + rating.skipped,
        seconds=limit.elapsed(),
        rating=rating,
        sample=sample,
        outcome=outcome,
        result=result,
        limit_hit=limit.was_hit,
        notes=notes,
        one_se_pick=(old_rule.name, rating.applied(old_rule.settings)),
    )


def _measure_baselines(chooser: _Chooser, holdout: RankingHoldout, base: ModelSettings) -> Scorer:
    """Popularity and the configured implicit ALS alone, the floor every pick must reach;
    returns the ALS scorer, which the blends reuse."""
    chooser.measure(
        "popularity",
        holdout.popularity(),
        dataclasses.replace(base, blend_als_weight=0.0, blend_popularity_weight=1.0),
    )
    als = _cached(als_scorer(*holdout.factors(base.ranking)))
    chooser.measure(
        "implicit ALS",
        als,
        dataclasses.replace(base, blend_als_weight=1.0, blend_popularity_weight=0.0),
    )
    return als


def _measure_item_models(
    chooser: _Chooser,
    holdout: RankingHoldout,
    co: CoRatings,
    als: Scorer,
    base: ModelSettings,
    tuning: TuningSettings,
    limit: TuningLimit,
    skipped: list[str],
    notes: list[str],
) -> None:
    """The first `tuning.item_models` item-item models alone, then the best
    `tuning.blended_models` of them blended with ALS and popularity; what the limit left is
    added to `skipped`, what a model could not cover to `notes`."""
    models = _item_models(base, holdout)[: tuning.item_models]
    rated = int(np.count_nonzero(holdout.counts))
    if rated > tuning.ease_max_items and any(m.kind == "ease" for m in models):
        notes.append(
            f"EASE^R: {rated} rated movies, above ease_max_items {tuning.ease_max_items}; "
            f"fitted on the {tuning.ease_max_items} most rated"
        )
    # Each item model alone; only the best `blended_models` of them are kept (their
    # links held, the others released at once) and blended: a blend of a weak model
    # does not beat the blend of a strong one, and blends are most of the scorings. The best
    # of each kind is held too, for the two-model blends (at most three more scorers, and
    # mostly the same ones): refitting them cost about a minute of a 25M tuning.
    strongest: list[tuple[float, int, SingleItemScorer, ModelSettings]] = []
    # kind -> (NDCG alone, model, links); the first measured wins a tie
    best_of_kind: dict[str, tuple[float, ItemModel, SingleItemScorer]] = {}
    for order, model in enumerate(models):
        if limit.hit():
            skipped.append(f"{model.describe()}: {limit.reason()}")
            continue
        fitted = limit.elapsed()
        links = co.links(model, tuning.ease_max_items)
        settings = dataclasses.replace(
            base,
            item_model=model.kind,
            item_model_param=model.param,
            item_model_links=model.neighbours,
            blend_als_weight=0.0,
            blend_popularity_weight=0.0,
        )
        ndcg = chooser.measure(model.describe(), _item_scorer(links), settings)
        strongest.append((ndcg, -order, links, settings))
        if model.kind not in best_of_kind or ndcg > best_of_kind[model.kind][0]:
            best_of_kind[model.kind] = (ndcg, model, links)
        strongest = sorted(strongest, key=lambda s: s[:2], reverse=True)
        strongest = strongest[: tuning.blended_models]
        log.info("tuning: %s measured in %.1f s", model.describe(), limit.elapsed() - fitted)
    for _, _, links, settings in strongest:
        if limit.hit():
            skipped.append(f"the blends of {describe_ranker(settings)}: {limit.reason()}")
            continue
        scored = limit.elapsed()
        _blends(
            chooser,
            links,
            als,
            holdout.counts,
            dataclasses.replace(settings, blend_als_weight=base.blend_als_weight),
        )
        log.info(
            "tuning: the blends of %s scored in %.1f s",
            describe_ranker(settings),
            limit.elapsed() - scored,
        )
    second_models = [best_of_kind[kind][1] for kind in SECOND_MODEL_KINDS if kind in best_of_kind]
    held = {settings.first_item_model(): links for _, _, links, settings in strongest}
    held.update({model: links for _, model, links in best_of_kind.values()})
    _two_model_blends(chooser, co, als, holdout.counts, second_models, held, tuning, limit, skipped)


def _two_model_blends(
    chooser: _Chooser,
    co: CoRatings,
    als: Scorer,
    counts: np.ndarray,
    second_models: list[ItemModel],
    held: dict[ItemModel, SingleItemScorer],
    tuning: TuningSettings,
    limit: TuningLimit,
    skipped: list[str],
) -> None:
    """The best candidate measured with an item-item model (by mean NDCG), with each other
    kind's best model alone blended into its item-item part at every SECOND_MODEL_SHARES.
    Kinds see the catalogue differently (EASE^R's least-squares weights, RP3beta's
    popularity-damped walks, cosine's co-rating counts), and on some data sets a blend of two
    ranks above either; two of one kind differ too little to. The pick rule counts the second
    model as a part, so it is served only where it validates clearly above the simpler ones.
    `held`: links fitted already (the strongest models and each kind's best), not refitted."""
    lead = chooser.best_with_item_model()
    if lead is None:
        return
    first = lead.settings.first_item_model()
    others = [m for m in second_models if m.kind != first.kind]
    if not others:
        return
    if limit.hit():
        skipped.extend(f"{lead.name} & {m.describe()}: {limit.reason()}" for m in others)
        return
    first_links = held.get(first) or co.links(first, tuning.ease_max_items)
    for model in others:
        if limit.hit():
            skipped.append(f"{lead.name} & {model.describe()}: {limit.reason()}")
            continue
        scored = limit.elapsed()
        second_links = held.get(model) or co.links(model, tuning.ease_max_items)
        for share in SECOND_MODEL_SHARES:
            settings = dataclasses.replace(
                lead.settings,
                second_item_model=model.kind,
                second_item_model_param=model.param,
                second_item_model_links=model.neighbours,
                second_item_model_share=share,
            )
            item_item = ItemModelBlend(first_links, second_links, share)
            scorer = _blend_scorer(item_item, als, settings, counts)
            chooser.measure(describe_ranker(settings), scorer, settings)
        log.info(
            "tuning: %s & %s scored in %.1f s",
            lead.name,
            model.describe(),
            limit.elapsed() - scored,
        )


def _blend_scorer(
    item_item: ItemScorer, als: Scorer, settings: ModelSettings, counts: np.ndarray
) -> Scorer:
    """GetTopN's blend with these settings' weights over an item-item part already fitted."""
    if settings.blend_als_weight == settings.blend_popularity_weight == 0.0:
        return _item_scorer(item_item)
    return lambda u, rated: blend(
        als(u, rated),
        item_item.scores(rated, item_item.items),
        settings.blend_als_weight,
        counts,
        settings.blend_popularity_weight,
    )


def _tuning_ratings(source: RatingSet, tuning: TuningSettings) -> tuple[RatingSet, str]:
    """The ratings tuning fits on: all, or whole users up to tuning.max_ratings."""
    total = source.count()
    if total <= tuning.max_ratings:
        return source, f"all {total} ratings"
    sampled, kept, users = user_sample(source.df, tuning.max_ratings, tuning.seed)
    sample = RatingSet(source.spark, sampled)
    source.release()
    return sample, (
        f"{sample.count()} of {total} ratings: {kept} of {users} users, sampled up to "
        f"tuning_max_ratings {tuning.max_ratings}"
    )


def _against_serving(
    chooser: _Chooser, pick: _Measured, serving: ModelSettings
) -> tuple[ModelSettings, str, str, str]:
    """(settings, name, result, outcome): the pick, unless it validates clearly below the
    serving settings or they could not be measured; then the serving settings stay."""
    name = describe_ranker(serving)
    current = chooser.find(serving)
    if current is None:
        why = "the tuning limit was hit before they were measured"
        return serving, name, "kept", f"kept the serving settings: {why}"
    if pick.settings.ranker() == serving.ranker():
        return pick.settings, pick.name, "unchanged", "the serving settings again"
    if beyond_noise(current.ndcg - pick.ndcg):
        why = f"{pick.name} validates below them ({pick.mean:.4f} against {current.mean:.4f})"
        return serving, name, "kept", f"kept the serving settings: {why}"
    change = f"changed from {name} ({current.mean:.4f}) to {pick.name} ({pick.mean:.4f})"
    return pick.settings, pick.name, "changed", change


@dataclass
class _Measured:
    """One candidate's settings and each validation user's NDCG@k."""

    name: str
    settings: ModelSettings
    ndcg: np.ndarray

    @property
    def mean(self) -> float:
        return float(self.ndcg.mean()) if len(self.ndcg) else 0.0

    @property
    def parts(self) -> int:
        return ranker_parts(self.settings)


class _Chooser:
    """Scores candidates on the validation users and picks one.

    Many candidates land within noise of each other on a few thousand validation users, and the
    top one is then partly luck. Each candidate's own standard error is wide enough for most to
    tie (on MovieLens 100K that rule served a three-part blend measured early, well below EASE^R
    alone on the test side: benchmarks/results/pick-rule-ml-100k.md); candidates scored on the
    same users are told apart far more sharply by their paired per-user differences. So: of the
    candidates not clearly below the best by the paired difference, and never below popularity
    or ALS alone, the fewest parts, then the highest NDCG. The order of measurement plays no
    part."""

    def __init__(self, holdout: RankingHoldout, k: int) -> None:
        self.holdout, self.k = holdout, k
        self.rows: list[dict[str, Any]] = []
        self.measured: list[_Measured] = []

    def measure(self, name: str, score: Scorer, settings: ModelSettings) -> float:
        """Scores a candidate (once: a ranker measured already keeps its figures)."""
        known = self.find(settings)
        if known is not None:
            return known.mean
        summary, per_user = self.holdout.measure(score, self.k)
        self.rows.append(
            {
                "ranker": name,
                "parts": ranker_parts(settings),
                **{k: round(v, 5) for k, v in summary.items()},
            }
        )
        self.measured.append(_Measured(name, settings, per_user))
        log.info("tuning: %s: validation NDCG@%d %.4f", name, self.k, self.measured[-1].mean)
        return self.measured[-1].mean

    def find(self, settings: ModelSettings) -> _Measured | None:
        ranker = (settings.ranker(), settings.ranking)
        return next(
            (m for m in self.measured if (m.settings.ranker(), m.settings.ranking) == ranker),
            None,
        )

    def best(self, serving: ModelSettings | None = None) -> _Measured:
        """The pick by the paired rule; the serving settings first where they are within noise
        of the best (a retrain does not churn every list for a change it cannot show)."""
        top = max(self.measured, key=lambda m: m.mean)
        floor = max(m.mean for m in self.measured[:2])  # popularity and ALS alone
        band = [m for m in self.measured if m.mean >= floor and not beyond_noise(top.ndcg - m.ndcg)]
        kept = self.find(serving) if serving is not None else None
        if kept is not None and any(m is kept for m in band):
            return kept
        return min(band, key=lambda m: (m.parts, -m.mean))

    def best_with_item_model(self) -> _Measured | None:
        """The candidate with the highest mean NDCG among those with an item-item part (the
        first measured on a tie); None if none was measured."""
        with_item_model = [
            m
            for m in self.measured
            if m.settings.blend_als_weight + m.settings.blend_popularity_weight < 1.0 - 1e-9
        ]
        return max(with_item_model, key=lambda m: m.mean, default=None)

    def one_standard_error_pick(self) -> _Measured:
        """The rule before the paired one, for reports: of those within the best's own standard
        error, and not below popularity or ALS alone, the first measured."""
        top = max(self.measured, key=lambda m: m.mean)
        se = float(top.ndcg.std(ddof=1) / np.sqrt(len(top.ndcg))) if len(top.ndcg) > 1 else 0.0
        floor = max(m.mean for m in self.measured[:2])
        return next(m for m in self.measured if m.mean >= max(top.mean - se, floor))


def _blends(
    chooser: _Chooser,
    links: ItemScorer,
    als: Scorer,
    counts: np.ndarray,
    settings: ModelSettings,
) -> None:
    """The item-item model alone, then its best ALS weight, then popularity on top of that:
    a coordinate search, a few dozen scorings instead of a full grid."""
    items = _cached(_item_scorer(links))

    def blended(als_weight: float, popularity_weight: float) -> Scorer:
        return lambda u, rated: blend(
            als(u, rated), items(u, rated), als_weight, counts, popularity_weight
        )

    def measure(als_weight: float, popularity_weight: float) -> float:
        weighted = dataclasses.replace(
            settings, blend_als_weight=als_weight, blend_popularity_weight=popularity_weight
        )
        scorer = (
            items
            if als_weight == popularity_weight == 0.0
            else blended(als_weight, popularity_weight)
        )
        return chooser.measure(describe_ranker(weighted), scorer, weighted)

    best_als, best = 0.0, measure(0.0, 0.0)
    configured = settings.blend_als_weight  # measured too, so the configured blend is compared
    for weight in sorted({*ALS_WEIGHTS, configured} - {0.0, 1.0}):
        ndcg = measure(weight, 0.0)
        if ndcg > best:
            best_als, best = weight, ndcg
    for weight in POPULARITY_WEIGHTS:
        if best_als + weight < 1.0:
            measure(best_als, weight)


def _item_models(base: ModelSettings, holdout: RankingHoldout) -> list[ItemModel]:
    """The item-item candidates, cheapest and most often best first: tuning_item_models takes
    the first ones."""
    items = int(np.count_nonzero(holdout.counts))
    links = links_per_movie(items, base.cf_neighbours)
    # lambda in units of the mean rating count of a movie: the ridge then weighs the same
    # against the co-rating counts on a small data set and a large one.
    scale = float(holdout.counts.sum()) / max(items, 1)
    # The best lambda lay at 9x on MovieLens 100K and at 17-35x on the demo data (full
    # training sides, dense weights): 10x first, then the grid around it.
    return [
        ItemModel("cosine", 0.0, base.cf_neighbours),
        ItemModel("ease", round(10 * scale, 1), links),
        ItemModel("rp3beta", 0.3, links),
        ItemModel("ease", round(25 * scale, 1), links),
        ItemModel("ease", round(3 * scale, 1), links),
        ItemModel("ease", round(60 * scale, 1), links),
        ItemModel("rp3beta", 0.5, links),
        ItemModel("rp3beta", 0.7, links),
    ]


def served_scorer(
    holdout: RankingHoldout,
    settings: ModelSettings,
    co: CoRatings,
    ease_max_items: int,
    fitted_als: tuple[ModelSettings, Scorer] | None = None,
) -> Scorer:
    """GetTopN's ranker with these settings, fitted on the holdout's training side: what
    ServingModel.scores computes, for measuring it. `fitted_als`: an ALS scorer already fitted
    on this holdout, reused when its settings' ranking ALS is the same."""
    if settings.blend_popularity_weight >= 1.0:
        return holdout.popularity()

    def als_fit() -> Scorer:
        if fitted_als is not None and fitted_als[0].ranking == settings.ranking:
            return fitted_als[1]
        return als_scorer(*holdout.factors(settings.ranking))

    if settings.blend_als_weight >= 1.0:
        return als_fit()
    links = ranker_item_item(co, settings, ease_max_items)
    als = als_fit() if settings.blend_als_weight > 0 else (lambda _u, _rated: holdout.counts * 0.0)
    return _blend_scorer(links, als, settings, holdout.counts)


def _item_scorer(links: ItemScorer) -> Scorer:
    """An item-item model's scores for a user: the user's rated movies times its matrix."""
    return lambda _u, rated: links.scores(rated, links.items)


def _cached(score: Scorer) -> Scorer:
    """A scorer that remembers each user's scores: the blends reuse them many times."""
    memo: dict[int, np.ndarray] = {}

    def cached(u: int, rated: np.ndarray) -> np.ndarray:
        if u not in memo:
            memo[u] = np.asarray(score(u, rated), dtype=np.float32)
        return memo[u]

    return cached
