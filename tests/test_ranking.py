"""The shared top-N function: order, ties, exclusions and filters."""

from __future__ import annotations

import numpy as np

from rec_service.domain.ranking import DenseItemWeights, ItemModelBlend, ItemNeighbours, top_n


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


def test_a_two_model_item_part_scales_each_model_then_weighs_the_second_by_its_share() -> None:
    first = DenseItemWeights(
        4, np.arange(4), np.array([[0, 2, 0, 1], [2, 0, 0, 0], [0, 0, 0, 4], [1, 0, 4, 0]], "f4")
    )
    second = ItemNeighbours.from_pairs(
        np.array([1, 2]), np.array([0, 0]), np.array([0.5, 0.25], "f4"), 4
    )
    blended = ItemModelBlend(first, second, 0.25)
    rated = np.array([0])
    # first: [0, 2, 0, 1] / 2; second: [0, 0.5, 0.25, 0] / 0.5
    expected = 0.75 * np.array([0, 1, 0, 0.5]) + 0.25 * np.array([0, 1, 0.5, 0])
    np.testing.assert_allclose(blended.scores(rated, 4), expected)
    assert blended.items == 4
    grown = blended.with_items(6)
    assert grown.items == 6 and grown.second_share == 0.25
    np.testing.assert_allclose(grown.scores(rated, 6)[:4], expected)
    assert not grown.scores(rated, 6)[4:].any()
    assert blended.with_items(4) is blended
