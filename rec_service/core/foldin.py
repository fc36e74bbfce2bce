"""Fold-in: one ALS half-step for one user (or one movie) against fixed factors of the other side.

These are the normal equations Spark's ALS solves for each row in every iteration
(``ALS.computeFactors``), including its regularisation weighted by the number of ratings
(ALS-WR). Since Spark's last half-step solves the users against the final item factors,
folding a trained user back in with their own training ratings gives their ALS vector back,
which the tests check.
"""

from __future__ import annotations

import numpy as np


def solve_explicit(factors: np.ndarray, ratings: np.ndarray, reg_param: float) -> np.ndarray:
    """The vector x minimising sum (r_i - f_i.x)^2 + reg_param * n * |x|^2 over the rated rows."""
    f = factors.astype(np.float64, copy=False)
    rank = f.shape[1]
    a = f.T @ f + reg_param * len(ratings) * np.eye(rank)
    b = f.T @ ratings.astype(np.float64, copy=False)
    return _solve(a, b)


def solve_implicit(
    factors: np.ndarray,
    ratings: np.ndarray,
    reg_param: float,
    alpha: float,
    gram_all: np.ndarray,
) -> np.ndarray:
    """Hu-Koren-Volinsky implicit ALS for one row, as Spark solves it.

    Confidence is 1 + alpha*|r| and preference is 1 for r > 0; `gram_all` is F^T F over every
    row of the fixed side (Spark's YtY), so unrated rows count as preference 0, confidence 1.
    """
    f = factors.astype(np.float64, copy=False)
    r = ratings.astype(np.float64, copy=False)
    extra = alpha * np.abs(r)  # confidence - 1
    positive = r > 0
    a = gram_all + (f * extra[:, None]).T @ f
    a += reg_param * int(positive.sum()) * np.eye(f.shape[1])
    b = f[positive].T @ (1.0 + extra[positive])
    return _solve(a, b)


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        x = np.linalg.solve(a, b)
    except np.linalg.LinAlgError:  # only with reg_param 0 and too few ratings
        x = np.linalg.lstsq(a, b, rcond=None)[0]
    return x.astype(np.float32)
