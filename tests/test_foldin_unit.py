"""Fold-in's half-steps without Spark: each solution is the minimum of its own objective (the
gradient vanishes there), written out from the objective rather than from the solver's
normal equations. The Spark comparison is tests/test_foldin.py."""

from __future__ import annotations

import numpy as np

from rec_service.core.foldin import solve_explicit, solve_implicit

RNG = np.random.default_rng(7)
ITEMS, RANK = 40, 6


def test_explicit_solution_minimises_the_regularised_squared_error() -> None:
    factors = RNG.normal(size=(ITEMS, RANK))
    rated = RNG.choice(ITEMS, size=12, replace=False)
    ratings = RNG.uniform(0.5, 5.0, size=12)
    reg = 0.1

    def loss(x: np.ndarray) -> float:
        error = ratings - factors[rated] @ x
        return float(error @ error + reg * len(rated) * x @ x)

    x = solve_explicit(factors[rated], ratings, reg).astype(np.float64)
    for step in np.eye(RANK) * 1e-3:
        assert loss(x) <= loss(x + step) and loss(x) <= loss(x - step)


def test_implicit_solution_minimises_the_confidence_weighted_error() -> None:
    factors = RNG.normal(size=(ITEMS, RANK))
    rated = RNG.choice(ITEMS, size=8, replace=False)
    ratings = RNG.uniform(1.0, 5.0, size=8)
    reg, alpha = 0.1, 5.0
    confidence = np.ones(ITEMS)
    preference = np.zeros(ITEMS)
    confidence[rated] += alpha * ratings
    preference[rated] = 1.0

    def loss(x: np.ndarray) -> float:
        error = preference - factors @ x
        return float(confidence @ (error * error) + reg * len(rated) * x @ x)

    x = solve_implicit(factors[rated], ratings, reg, alpha, factors.T @ factors).astype(np.float64)
    for step in np.eye(RANK) * 1e-3:
        assert loss(x) <= loss(x + step) and loss(x) <= loss(x - step)
