"""Checks requests and turns them into domain values; every problem names its field."""

from __future__ import annotations

import re
from collections.abc import Iterable

from movierec.v1 import movierec_pb2 as pb

from rec_service.core.errors import InvalidArgument
from rec_service.core.serving_model import MovieFilter, ServingModel

ID_PATTERN = re.compile(r"[A-Za-z0-9_.:@-]{1,64}")
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
# Above this a page_size is a caller's bug (an underflow, a unit mix-up), not a wish to coerce.
REJECT_PAGE_SIZE_ABOVE = 10_000
MAX_FILTER_MOVIE_IDS = 1000
NO_FILTER = MovieFilter()  # immutable: one for every request without a filter


def id_problem(value: str) -> str | None:
    """Why a wire id is malformed, or None if it is fine."""
    if not value:
        return "must not be empty"
    if not ID_PATTERN.fullmatch(value):
        return "must be 1-64 characters of letters, digits and _.:@-"
    return None


def page_size(value: int, violations: list[tuple[str, str]]) -> int:
    """AIP-158: 0 means the default, above the maximum is coerced, negative is an error."""
    if value < 0:
        violations.append(("page_size", "must not be negative"))
    elif value > REJECT_PAGE_SIZE_ABOVE:
        violations.append(("page_size", f"must be at most {REJECT_PAGE_SIZE_ABOVE}"))
    elif value == 0:
        return DEFAULT_PAGE_SIZE
    return min(value, MAX_PAGE_SIZE)


def _genre_bits(
    names: Iterable[str], field: str, model: ServingModel, violations: list[tuple[str, str]]
) -> int:
    bits = 0
    for i, name in enumerate(names):
        bit = model.genre_bits.get(name)
        if bit is None:
            reason = "must not be empty" if not name else f"unknown genre {name!r}"
            violations.append((f"{field}[{i}]", reason))
        else:
            bits |= bit
    return bits


def movie_filter(
    flt: pb.TopNFilter, model: ServingModel, violations: list[tuple[str, str]]
) -> MovieFilter:
    include = _genre_bits(flt.include_genres, "filter.include_genres", model, violations)
    exclude = _genre_bits(flt.exclude_genres, "filter.exclude_genres", model, violations)
    if flt.min_rating_count < 0:
        violations.append(("filter.min_rating_count", "must not be negative"))
    allowed: frozenset[str] | None = None
    if flt.movie_ids:
        if len(flt.movie_ids) > MAX_FILTER_MOVIE_IDS:
            violations.append(("filter.movie_ids", f"at most {MAX_FILTER_MOVIE_IDS} ids"))
        for i, movie_id in enumerate(flt.movie_ids):
            problem = id_problem(movie_id)
            if problem is None and movie_id not in model.movies:
                problem = f"unknown movie id {movie_id!r}"
            if problem:
                violations.append((f"filter.movie_ids[{i}]", problem))
        allowed = frozenset(flt.movie_ids)
    return MovieFilter(include, exclude, max(0, flt.min_rating_count), allowed)


def top_n_request(req: pb.GetTopNRequest, model: ServingModel) -> tuple[str, int, MovieFilter]:
    """(user_id, page_size, filter) of a valid GetTopNRequest; InvalidArgument otherwise."""
    violations: list[tuple[str, str]] = []
    problem = id_problem(req.user_id)
    if problem:
        violations.append(("user_id", problem))
    size = page_size(req.page_size, violations)
    flt = movie_filter(req.filter, model, violations) if req.HasField("filter") else NO_FILTER
    if violations:
        raise InvalidArgument(violations)
    return req.user_id, size, flt


MAX_BATCH = 100


def batch_top_n_request(
    req: pb.BatchGetTopNRequest, model: ServingModel
) -> list[tuple[str, int, MovieFilter]]:
    """Each request of a valid batch as top_n_request parses it; InvalidArgument naming every
    bad field as requests[i].field otherwise."""
    violations: list[tuple[str, str]] = []
    if not req.requests:
        violations.append(("requests", "must not be empty"))
    elif len(req.requests) > MAX_BATCH:
        violations.append(("requests", f"at most {MAX_BATCH} requests"))
    parsed = []
    for i, one in enumerate(req.requests[:MAX_BATCH]):
        try:
            parsed.append(top_n_request(one, model))
        except InvalidArgument as err:
            violations += [(f"requests[{i}].{field}", why) for field, why in err.violations]
    if violations:
        raise InvalidArgument(violations)
    return parsed


def similar_request(
    req: pb.GetSimilarMoviesRequest, model: ServingModel
) -> tuple[str, int, MovieFilter]:
    """(movie_id, page_size, filter) of a valid GetSimilarMoviesRequest; InvalidArgument
    otherwise. An unknown but well-formed movie id is the recommender's NOT_FOUND."""
    violations: list[tuple[str, str]] = []
    problem = id_problem(req.movie_id)
    if problem:
        violations.append(("movie_id", problem))
    size = page_size(req.page_size, violations)
    flt = movie_filter(req.filter, model, violations) if req.HasField("filter") else NO_FILTER
    if violations:
        raise InvalidArgument(violations)
    return req.movie_id, size, flt


def predict_request(req: pb.PredictRatingRequest) -> tuple[str, str]:
    """(user_id, movie_id) of a well-formed PredictRatingRequest; InvalidArgument otherwise."""
    violations = [
        (name, problem)
        for name, value in (("user_id", req.user_id), ("movie_id", req.movie_id))
        if (problem := id_problem(value))
    ]
    if violations:
        raise InvalidArgument(violations)
    return req.user_id, req.movie_id
