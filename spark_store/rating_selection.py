"""Chooses PredictRating's settings on the data it will serve, at every training: bias shrinkage,
then the ALS regularisation, then the rank, each measured by RMSE on the same validation split
the ranker is chosen on (selection.py), carved from the training ratings only.

A coordinate search, what matters most first:
  1. the biases' pseudo-counts, with the biases alone as the predictor: NumPy, no fit, so a
     whole grid costs less than one ALS fit;
  2. the regularisation of the ALS fitted on what the biases leave, at the configured rank;
  3. half and double the rank.
The configured settings are measured first, and the configured ALS on the chosen biases next;
then at most `fits` more ALS fits, a count fixed before tuning starts (tuning_rating_fits). A
candidate replaces the best so far only when its squared errors are lower by more than one
standard error of the paired difference: on MovieLens 100K three of its eight ALS fits lay
within 0.001 validation RMSE of each other, and a pick by noise alone doubled the rank for
nothing on the test side. The tuning limit (a safety net) skips the fits left when it is hit.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from rec_service.domain.model_types import AlsParams, BiasParams, ModelSettings
from rec_service.domain.ranking_metrics import beyond_noise
from spark_store.holdout import RatingHoldout, RatingSet
from spark_store.tuning_limit import TuningLimit

log = logging.getLogger(__name__)

T = TypeVar("T")

# Multiples of the configured pseudo-counts tried for each bias.
BIAS_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)
# Spark's regParam is scaled by each user's and movie's rating count (ALS-WR), so one grid
# suits small and large data sets alike.
ALS_REGS = (0.05, 0.1, 0.15, 0.25, 0.4)
RANK_FACTORS = (0.5, 2.0)
MAX_RANK = 200


@dataclass
class RatingSelection:
    """PredictRating's chosen settings, every candidate's validation figures, what it took."""

    bias: BiasParams
    rating: AlsParams
    chosen: str
    candidates: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def applied(self, settings: ModelSettings) -> ModelSettings:
        return dataclasses.replace(settings, bias=self.bias, rating=self.rating)

    def as_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "candidates": self.candidates,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
        }


def describe(bias: BiasParams, params: AlsParams | None) -> str:
    shrink = f"biases (shrinkage {bias.reg_item:g} movie, {bias.reg_user:g} user)"
    if params is None:
        return shrink
    return f"{shrink} + ALS rank {params.rank} regParam {params.reg_param:g}"


def select_rating(
    fit: RatingSet,
    validation: RatingSet,
    base: ModelSettings,
    fits: int,
    limit: TuningLimit | None = None,
) -> RatingSelection:
    """PredictRating's bias shrinkage, ALS regParam and rank with the lowest validation RMSE
    among the configured settings and at most `fits` more ALS fits."""
    limit = limit or TuningLimit(float("inf"))
    started = limit.elapsed()
    holdout = RatingHoldout(fit, validation)
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    left = [fits]

    def attempt(
        best: tuple[np.ndarray, BiasParams, AlsParams],
        bias: BiasParams,
        params: AlsParams,
        counted: bool = True,
    ) -> tuple[np.ndarray, BiasParams, AlsParams]:
        """Measures one fit, unless the count is spent or the limit hit; it replaces the best
        so far if its errors are clearly lower."""
        if counted and left[0] <= 0:
            return best
        if limit.hit():
            skipped.append(f"{describe(bias, params)}: {limit.reason()}")
            return best
        left[0] -= counted
        errors = measure(bias, params)
        return (errors, bias, params) if _clearly_lower(errors, best[0]) else best

    def measure(bias: BiasParams, params: AlsParams | None) -> np.ndarray:
        """The squared error of each validation rating."""
        if params is None:
            predicted = holdout.biases_only(bias)
        else:
            predicted = holdout.bias_aware(bias, params)
        rmse, mae = holdout.rmse(predicted), holdout.mae(predicted)
        rows.append(
            {"predictor": describe(bias, params), "rmse": round(rmse, 5), "mae": round(mae, 5)}
        )
        return holdout.squared_errors(predicted)

    try:
        best = (measure(base.bias, base.rating), base.bias, base.rating)
        biases = [(measure(base.bias, None), base.bias)]
        biases += [(measure(b, None), b) for b in _bias_grid(base.bias) if b != base.bias]
        bias = _pick(biases[0], biases)[1]
        regs = _nearest_first(base.rating, bias != base.bias)
        if bias != base.bias:  # always fitted: a count of 0 must not lose the better biases
            best = attempt(best, bias, regs.pop(0), counted=False)
        for params in regs:
            best = attempt(best, bias, params)
        regularised = best[2]
        for factor in RANK_FACTORS:
            rank = min(MAX_RANK, max(2, round(regularised.rank * factor)))
            best = attempt(best, best[1], dataclasses.replace(regularised, rank=rank))
    finally:
        holdout.release()
    chosen = describe(best[1], best[2])
    rmse = float(np.sqrt(best[0].mean()))
    log.info("tuning: PredictRating uses %s (validation RMSE %.4f)", chosen, rmse)
    return RatingSelection(
        bias=best[1],
        rating=best[2],
        chosen=chosen,
        candidates=rows,
        skipped=skipped,
        seconds=limit.elapsed() - started,
    )


def _nearest_first(configured: AlsParams, new_biases: bool) -> list[AlsParams]:
    """The regParam grid, nearest the configured value first: a small count of fits is then
    spent where the optimum most likely is. With new biases the configured value is refitted."""
    regs = sorted(ALS_REGS, key=lambda reg: abs(np.log(reg / configured.reg_param)))
    regs = [reg for reg in regs if new_biases or reg != configured.reg_param]
    return [dataclasses.replace(configured, reg_param=reg) for reg in regs]


def _pick(
    current: tuple[np.ndarray, T], measured: list[tuple[np.ndarray, T]]
) -> tuple[np.ndarray, T]:
    """The measured candidate with the lowest mean squared error if clearly below `current`."""
    lowest = min(measured, key=lambda m: float(m[0].mean()))
    return lowest if _clearly_lower(lowest[0], current[0]) else current


def _clearly_lower(errors: np.ndarray, than: np.ndarray) -> bool:
    """Whether the mean squared error is lower by more than one standard error of the paired
    difference (the same ratings, so most of the noise cancels)."""
    return beyond_noise(than - errors)


def _bias_grid(base: BiasParams) -> list[BiasParams]:
    return [
        BiasParams(reg_item=base.reg_item * fi, reg_user=base.reg_user * fu)
        for fi in BIAS_FACTORS
        for fu in BIAS_FACTORS
    ]
