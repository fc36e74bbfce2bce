"""The shared top-N function: order, ties, exclusions and filters."""

from __future__ import annotations

import numpy as np

from rec_service.domain.ranking import top_n


def test_best_first_with_ties_to_lower_index() -> None:
    idx, scores = top_n(np.array([1.0, 3.0, 2.0, 3.0, 0.5]), 3)
    assert idx.tolist() == [1, 3, 2]
    assert scores.tolist() == [3.0, 3.0, 2.0]


def test_excluded_items_never_returned() -> None:
    idx, _ = top_n(np.array([5.0, 4.0, 3.0, 2.0]), 4, exclude=np.array([0, 2]))
    assert idx.tolist() == [1, 3]


def test_allowed_mask_and_short_result() -> None:
    allowed = np.array([False, True, False, True, True])
    idx, _ = top_n(np.arange(5, dtype=float), 10, exclude=np.array([4]), allowed=allowed)
    assert idx.tolist() == [3, 1]


def test_nothing_left() -> None:
    idx, scores = top_n(np.ones(3), 2, exclude=np.array([0, 1, 2]))
    assert len(idx) == 0 and len(scores) == 0
