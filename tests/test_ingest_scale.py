"""Ingestion checks a rating against the model's scale: a stepped scale wants a value on its
step (rounded onto it), a continuous one (step 0) takes any value in range. No JVM."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from movierec.v1 import movierec_pb2 as pb

from rec_service.core.ingest import check_event
from rec_service.domain.model_types import RatingScale


def check(rating: float, scale: RatingScale) -> tuple[float | None, list[tuple[str, str]]]:
    model = SimpleNamespace(movies={"m1"}, scale=scale)
    event = pb.RatingEvent(user_id="u1", movie_id="m1", rating=rating)
    accepted, problems = check_event(event, model, now=0, max_future_us=0)  # type: ignore[arg-type]
    return (accepted.rating if accepted else None), problems


@pytest.mark.parametrize("rating", [-10.0, -3.14159, 0.0, 9.99, 10.0])
def test_a_continuous_scale_takes_any_value_in_range(rating: float) -> None:
    assert check(rating, RatingScale(-10.0, 10.0, 0.0)) == (rating, [])


@pytest.mark.parametrize("rating", [-10.01, 10.5])
def test_a_continuous_scale_still_has_bounds(rating: float) -> None:
    value, problems = check(rating, RatingScale(-10.0, 10.0, 0.0))
    assert value is None and problems[0][0] == "rating" and "outside the scale" in problems[0][1]


def test_a_stepped_scale_wants_its_step() -> None:
    scale = RatingScale(0.0, 10.0, 1.0)
    assert check(7.0, scale) == (7.0, [])
    assert check(6.9999999999, scale) == (7.0, [])
    value, problems = check(6.5, scale)
    assert value is None and "step" in problems[0][1]
