"""`movierec tune`: picks the model settings on validation splits carved from training data only.

The evaluation's test side is split off first, with the same seed and fractions `movierec
evaluate` uses, and never read here: the grids are scored on a validation split cut from what
remains (per-user for ranking, random for rating accuracy). So the figures `evaluate` then
reports for the chosen settings are not fitted to their own test set.

- Ranking: every ranking ALS setting of the grid, each with every Item-CF neighbour count and
  blend weight; chosen by NDCG@k of the blended lists.
- Rating: every bias-aware ALS setting of the grid; chosen by RMSE.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rec_service.domain.model_types import BiasParams, ModelSettings
from spark_store.holdout import (
    RankingHoldout,
    RatingHoldout,
    RatingSet,
    als_scorer,
    blend_scorer,
    cf_scorer,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Grid:
    """The values tried; every combination within each model is fitted."""

    ranks: tuple[int, ...] = (32, 64)
    reg_params: tuple[float, ...] = (0.05, 0.1)
    alphas: tuple[float, ...] = (5.0, 10.0, 20.0)
    max_iters: tuple[int, ...] = (10,)
    cf_neighbours: tuple[int, ...] = (25, 50, 100)
    blend_als_weights: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)
    rating_ranks: tuple[int, ...] = (10, 20, 40)
    rating_reg_params: tuple[float, ...] = (0.1, 0.15, 0.2)
    rating_max_iter: int = 15
    bias_regs: tuple[tuple[float, float], ...] = ((5.0, 10.0), (10.0, 15.0), (25.0, 25.0))

    @classmethod
    def quick(cls) -> Grid:
        """A small grid for a smoke run (tests, a first look at a new data set)."""
        return cls(
            ranks=(16,),
            reg_params=(0.1,),
            alphas=(10.0,),
            cf_neighbours=(25,),
            blend_als_weights=(0.0, 0.5, 1.0),
            rating_ranks=(10,),
            rating_reg_params=(0.15,),
            rating_max_iter=5,
            bias_regs=((10.0, 15.0),),
        )


@dataclass
class TuneResult:
    """The chosen settings and every grid point's validation figure."""

    settings: ModelSettings
    ranking_rows: list[dict[str, Any]] = field(default_factory=list)
    rating_rows: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "settings": self.settings.as_dict(),
            "ranking": self.ranking_rows,
            "rating": self.rating_rows,
            "seconds": self.seconds,
        }


def _ranking_grid(grid: Grid) -> list[tuple[int, float, float, int]]:
    return list(itertools.product(grid.ranks, grid.reg_params, grid.alphas, grid.max_iters))


def _rating_grid(grid: Grid) -> list[tuple[tuple[float, float], int, float]]:
    return list(itertools.product(grid.bias_regs, grid.rating_ranks, grid.rating_reg_params))


def _ranking_stage(rank: int, reg: float, alpha: float, iters: int) -> str:
    return f"ranking ALS rank {rank} reg {reg:g} alpha {alpha:g} iter {iters}"


def _rating_stage(bias: tuple[float, float], rank: int, reg: float) -> str:
    return f"rating biases {bias[0]:g}/{bias[1]:g} ALS rank {rank} reg {reg:g}"


def tune_stages(grid: Grid) -> list[str]:
    """The stages `tune` reports, in order: one per ranking ALS fit (each measured with every
    neighbour count and blend weight), then one per rating model."""
    return [_ranking_stage(*point) for point in _ranking_grid(grid)] + [
        _rating_stage(*point) for point in _rating_grid(grid)
    ]


def tune(
    ratings: RatingSet,
    base: ModelSettings,
    grid: Grid,
    seed: int = 42,
    k: int = 10,
    ranking_test_fraction: float = 0.25,
    accuracy_test_fraction: float = 0.2,
    on_stage: Callable[[str], None] = lambda _stage: None,
) -> TuneResult:
    """The grid's best settings; `on_stage` hears each of tune_stages(grid) as it starts."""
    started = time.perf_counter()
    ranking_train, _ = ratings.per_user_split(ranking_test_fraction, seed)
    accuracy_train, _ = ratings.random_split(accuracy_test_fraction, seed)
    settings, ranking_rows = _tune_ranking(ranking_train, base, grid, seed, k, on_stage)
    settings, rating_rows = _tune_rating(accuracy_train, settings, grid, seed, on_stage)
    return TuneResult(settings, ranking_rows, rating_rows, time.perf_counter() - started)


def _tune_ranking(
    train: RatingSet,
    base: ModelSettings,
    grid: Grid,
    seed: int,
    k: int,
    on_stage: Callable[[str], None],
) -> tuple[ModelSettings, list[dict[str, Any]]]:
    fit, validation = train.per_user_split(0.25, seed + 1)
    holdout = RankingHoldout(fit, validation)
    rows: list[dict[str, Any]] = []
    best: tuple[float, ModelSettings] | None = None
    try:
        neighbours = {n: holdout.neighbours(n, base) for n in grid.cf_neighbours}
        for rank, reg, alpha, iters in _ranking_grid(grid):
            on_stage(_ranking_stage(rank, reg, alpha, iters))
            params = dataclasses.replace(
                base.ranking,
                rank=rank,
                reg_param=reg,
                alpha=alpha,
                max_iter=iters,
                implicit_prefs=True,
            )
            als = als_scorer(*holdout.factors(params))
            for n, weight in itertools.product(grid.cf_neighbours, grid.blend_als_weights):
                summary = holdout.summary(blend_scorer(als, cf_scorer(neighbours[n]), weight), k)
                ndcg = summary[f"ndcg@{k}"]
                rows.append(
                    {
                        "rank": rank,
                        "reg_param": reg,
                        "alpha": alpha,
                        "max_iter": iters,
                        "cf_neighbours": n,
                        "blend_als_weight": weight,
                        **summary,
                    }
                )
                if best is None or ndcg > best[0]:
                    chosen = dataclasses.replace(
                        base, ranking=params, cf_neighbours=n, blend_als_weight=weight
                    )
                    best = (ndcg, chosen)
            log.info("tune: ranking %s done, best NDCG so far %.4f", params, best[0] if best else 0)
    finally:
        holdout.release()
    assert best is not None
    return best[1], rows


def _tune_rating(
    train: RatingSet, base: ModelSettings, grid: Grid, seed: int, on_stage: Callable[[str], None]
) -> tuple[ModelSettings, list[dict[str, Any]]]:
    fit, validation = train.random_split(0.2, seed + 1)
    holdout = RatingHoldout(fit, validation)
    rows: list[dict[str, Any]] = []
    best: tuple[float, ModelSettings] | None = None
    try:
        for (reg_item, reg_user), rank, reg in _rating_grid(grid):
            on_stage(_rating_stage((reg_item, reg_user), rank, reg))
            bias = BiasParams(reg_item=reg_item, reg_user=reg_user)
            params = dataclasses.replace(
                base.rating, rank=rank, reg_param=reg, max_iter=grid.rating_max_iter
            )
            rmse = holdout.rmse(holdout.bias_aware(bias, params))
            rows.append(
                {
                    "rank": rank,
                    "reg_param": reg,
                    "bias_reg_item": reg_item,
                    "bias_reg_user": reg_user,
                    "rmse": rmse,
                }
            )
            if best is None or rmse < best[0]:
                best = (rmse, dataclasses.replace(base, rating=params, bias=bias))
    finally:
        holdout.release()
    assert best is not None
    return best[1], rows
