"""`movierec evaluate`: the quality of what GetTopN and PredictRating serve, beside the baselines
they must beat, on any data set the service reads, or on a given train/test pair of files.

- Ranking, on a per-user split (default 75/25): precision, recall, NDCG and MAP at k and catalogue
  coverage of top-k lists that exclude each user's training movies, as GetTopN does; relevant =
  the user's held-out movies. Rows, all from the same split: popularity (most rated in
  training), plain explicit ALS (the original tutorial's ranker), plain implicit ALS, each
  item-item candidate alone (item-KNN cosine, RP3beta, EASE^R), GetTopN with the fixed
  settings, and GetTopN as the service tunes it: its ranker chosen on a validation split carved
  from the training side only (spark_store/selection.py), then fitted on the whole training side.
- Rating accuracy, on a random split (default 80/20): RMSE and MAE of PredictRating's bias-aware
  ALS, with the fixed settings and as the service tunes it on a validation split of the
  training side (spark_store/rating_selection.py), beside plain Spark ALS at several ranks and
  regParams, on the same test pairs: those
  whose user and movie are in training (as Spark's coldStartStrategy=drop), the rest counted.
Every model, bias, neighbour and popularity count is fitted on the training side only.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rec_service.domain.item_item import ItemModel, links_per_movie
from rec_service.domain.model_types import AlsParams, ModelSettings, TuningSettings
from spark_store.holdout import RankingHoldout, RatingHoldout, als_scorer, cf_scorer
from spark_store.holdout import RatingSet as RatingSet  # the jobs' input, for the CLI's annotations
from spark_store.rating_selection import RatingSelection, select_rating
from spark_store.selection import select, served_scorer, validation_split
from spark_store.tuning_limit import TuningLimit

# The baselines' settings: the tutorial's explicit ALS and a plain implicit ALS (issue 6's table).
TUTORIAL_ALS = AlsParams(rank=10, reg_param=0.05, max_iter=10)
PLAIN_IMPLICIT_ALS = AlsParams(rank=32, reg_param=0.1, max_iter=10, implicit_prefs=True, alpha=10)
# Plain ALS's best is taken over these (rank, regParam): the tutorial's rank and the rating
# model's, so the comparison is not won by rank alone.
FIXED_PREDICTOR = "PredictRating (bias-aware ALS)"
PLAIN_ALS_GRID = tuple((rank, reg) for rank in (10, 40) for reg in (0.05, 0.1, 0.15, 0.2))


TUNE_RATING = "rating accuracy: tune PredictRating"
MEASURE_RATING = "rating accuracy: plain ALS and PredictRating"
TUNE_RANKER = "ranking: tune the ranker"
MEASURE_RANKING = "ranking: baselines, candidates and GetTopN"
OnStage = Callable[[str], None]


def _quiet(_stage: str) -> None:
    pass


def evaluate_stages(tuning: TuningSettings) -> list[str]:
    """The stages an evaluation reports, in order (the tuning ones only when tuning is on)."""
    on = tuning.enabled
    return [*([TUNE_RATING] if on else []), MEASURE_RATING, *([TUNE_RANKER] if on else []),
            MEASURE_RANKING]  # fmt: skip


@dataclass
class Evaluation:
    """Every figure of one evaluation run."""

    accuracy: dict[str, dict[str, float]] = field(default_factory=dict)
    ranking: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: float = 0.0


def ranking(
    train: RatingSet,
    test: RatingSet,
    settings: ModelSettings,
    tuning: TuningSettings,
    k: int,
    on_stage: OnStage = _quiet,
) -> dict[str, dict[str, float]]:
    """Every ranker fitted on `train` and measured on `test`. The tuned GetTopN chooses its
    ranker on a validation split of `train` alone, as a training of the service does."""
    tuned = None
    if tuning.enabled:
        on_stage(TUNE_RANKER)
        tuned = select(train.spark, train.df, settings, tuning)
    on_stage(MEASURE_RANKING)
    holdout = RankingHoldout(train, test)
    co = holdout.co_ratings(settings)
    try:
        rows = {
            "popularity": holdout.summary(holdout.popularity(), k),
            "explicit ALS (tutorial)": holdout.summary(
                als_scorer(*holdout.factors(TUTORIAL_ALS)), k
            ),
            "implicit ALS (plain)": holdout.summary(
                als_scorer(*holdout.factors(PLAIN_IMPLICIT_ALS)), k
            ),
        }
        for model in _item_models(settings, holdout, tuning):
            links = co.links(model, tuning.ease_max_items)
            rows[model.describe()] = holdout.summary(cf_scorer(links), k)
        fixed = dataclasses.replace(
            settings, item_model="cosine", item_model_links=0, blend_popularity_weight=0.0
        )
        rows["GetTopN, fixed settings (implicit ALS + Item-CF)"] = holdout.summary(
            served_scorer(holdout, fixed, co, tuning.ease_max_items), k
        )
        if tuned is not None:
            served = served_scorer(holdout, tuned.settings, co, tuning.ease_max_items)
            rows[f"GetTopN, tuned: {tuned.chosen}"] = {
                **holdout.summary(served, k),
                "tuning_seconds": tuned.seconds,
            }
            if tuned.one_se_pick is not None:  # the pick rule before the paired one
                name, old = tuned.one_se_pick
                scorer = served_scorer(holdout, old, co, tuning.ease_max_items)
                rows[f"one-SE rule's pick (before): {name}"] = holdout.summary(scorer, k)
        return rows
    finally:
        co.release()
        holdout.release()


def _item_models(
    settings: ModelSettings, holdout: RankingHoldout, tuning: TuningSettings
) -> list[ItemModel]:
    """One of each item-item candidate, with middle settings, for the side-by-side rows."""
    mean_count = float(holdout.counts.sum()) / max(int(np.count_nonzero(holdout.counts)), 1)
    links = links_per_movie(int(np.count_nonzero(holdout.counts)), settings.cf_neighbours)
    return [
        ItemModel("cosine", 0.0, settings.cf_neighbours),
        ItemModel("rp3beta", 0.5, links),
        ItemModel("ease", round(10 * mean_count, 1), links),
    ]


def accuracy(
    train: RatingSet,
    test: RatingSet,
    settings: ModelSettings,
    tuning: TuningSettings | None = None,
    plain_grid: Sequence[tuple[int, float]] = PLAIN_ALS_GRID,
    on_stage: OnStage = _quiet,
) -> dict[str, dict[str, float]]:
    """RMSE and MAE on `test` of plain ALS, PredictRating with the fixed settings and, with
    tuning, PredictRating as a training of the service tunes it on a validation split of
    `train` alone."""
    tuned = None
    if tuning and tuning.enabled:
        on_stage(TUNE_RATING)
        tuned = _tuned_rating(train, settings, tuning)
    on_stage(MEASURE_RATING)
    holdout = RatingHoldout(train, test)
    out = {}
    try:
        for rank, reg in plain_grid:
            predicted = holdout.plain_als(AlsParams(rank=rank, reg_param=reg, max_iter=10))
            out[f"plain ALS rank {rank} regParam {reg:g}"] = _accuracy_row(holdout, predicted)
        predicted = holdout.bias_aware(settings.bias, settings.rating)
        out[FIXED_PREDICTOR] = _accuracy_row(holdout, predicted)
        if tuned is not None:
            predicted = holdout.bias_aware(tuned.bias, tuned.rating)
            out[f"PredictRating, tuned: {tuned.chosen}"] = {
                **_accuracy_row(holdout, predicted),
                "tuning_seconds": tuned.seconds,
            }
    finally:
        holdout.release()
    return out


def _tuned_rating(
    train: RatingSet, settings: ModelSettings, tuning: TuningSettings
) -> RatingSelection:
    fit, validation, _how = validation_split(
        train, tuning.split, tuning.validation_fraction, tuning.seed
    )
    try:
        return select_rating(
            fit, validation, settings, tuning.rating_fits, TuningLimit(tuning.limit_s)
        )
    finally:
        fit.release()
        validation.release()


def _accuracy_row(holdout: RatingHoldout, predicted: np.ndarray) -> dict[str, float]:
    return {
        "rmse": holdout.rmse(predicted),
        "mae": holdout.mae(predicted),
        "test_ratings": float(len(holdout.actual)),
        "cold_start_dropped": float(holdout.dropped),
    }


def served_predictor(accuracy_rows: dict[str, dict[str, float]]) -> tuple[str, dict[str, float]]:
    """The row of what PredictRating serves: the tuned settings where tuning ran, else fixed."""
    tuned = [n for n in accuracy_rows if n.startswith("PredictRating, tuned")]
    name = tuned[0] if tuned else FIXED_PREDICTOR
    return name, accuracy_rows[name]


def best_plain(accuracy_rows: dict[str, dict[str, float]]) -> tuple[str, dict[str, float]]:
    """The plain-ALS row with the lowest RMSE."""
    plain = {n: r for n, r in accuracy_rows.items() if n.startswith("plain ALS")}
    name = min(plain, key=lambda n: plain[n]["rmse"])
    return name, plain[name]


def evaluate(
    ratings: RatingSet,
    settings: ModelSettings,
    tuning: TuningSettings,
    seed: int = 42,
    k: int = 10,
    accuracy_test_fraction: float = 0.2,
    ranking_test_fraction: float = 0.25,
    on_stage: OnStage = _quiet,
) -> Evaluation:
    """Both protocols on one data set: rating accuracy on a random split, ranking on a
    per-user split; `on_stage` hears each of evaluate_stages(tuning) as it starts."""
    started = time.perf_counter()
    accuracy_split = ratings.random_split(accuracy_test_fraction, seed)
    accuracy_rows = accuracy(*accuracy_split, settings, tuning, on_stage=on_stage)
    ranking_split = ratings.per_user_split(ranking_test_fraction, seed)
    result = Evaluation(
        accuracy=accuracy_rows, ranking=ranking(*ranking_split, settings, tuning, k, on_stage)
    )
    result.seconds = time.perf_counter() - started
    return result


def evaluate_given(
    train: RatingSet,
    test: RatingSet,
    settings: ModelSettings,
    tuning: TuningSettings,
    k: int = 10,
    on_stage: OnStage = _quiet,
) -> Evaluation:
    """Both protocols on a train/test pair given as files (a published split)."""
    started = time.perf_counter()
    result = Evaluation(
        accuracy=accuracy(train, test, settings, tuning, on_stage=on_stage),
        ranking=ranking(train, test, settings, tuning, k, on_stage),
    )
    result.seconds = time.perf_counter() - started
    return result
