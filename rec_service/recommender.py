"""Answers top-N and rating reads with the lazy-update rule; no Spark job runs here.

On a read: the stored list is fresh when it was computed with the current model after the
user's last activity (computed_at > last_active). A fresh list is served; a stale or missing
one is recomputed from the factors, written back (newer wins) and served.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from typing import Protocol

from rec_service.errors import NotFound
from rec_service.serving_model import Movie, MovieFilter, ServingModel
from spark_store.list_store import RecList
from spark_store.ranking import top_n


class ListStore(Protocol):
    """Where per-user lists live; reads must be cheap, writes keep the newest list."""

    kind: str

    def get(self, user_id: str) -> RecList | None: ...

    def put(self, user_id: str, rec: RecList) -> RecList: ...

    def flush(self) -> int: ...


class Activity(Protocol):
    """Per-user last activity and access frequency."""

    def last_active_us(self, user_id: str) -> int: ...

    def record_access(self, user_id: str) -> None: ...

    def record_activity(self, user_id: str, at_us: int) -> None: ...

    def flush(self, counts: bool = True) -> int: ...


class Source(enum.Enum):
    """Where an answer came from (mirrors the API's RecommendationSource)."""

    PRECOMPUTED = 1
    RECOMPUTED = 2
    FILTER_SCAN = 3
    POPULARITY = 4
    MODEL = 5
    MOVIE_MEAN = 6


@dataclass(frozen=True, slots=True)
class TopN:
    """A served list: (movie, score) pairs, best first, and its provenance."""

    items: list[tuple[Movie, float]]
    source: Source
    computed_at_us: int
    model_version: str


@dataclass(frozen=True, slots=True)
class Prediction:
    """A predicted rating, already clipped to the data's scale."""

    rating: float
    source: Source
    model_version: str


def now_us() -> int:
    return time.time_ns() // 1000


class Recommender:
    """The read side of movierec over one swappable ServingModel."""

    def __init__(
        self, model: ServingModel, lists: ListStore, activity: Activity, list_length: int
    ) -> None:
        self._model = model
        self.lists = lists
        self.activity = activity
        self.list_length = list_length

    @property
    def model(self) -> ServingModel:
        return self._model

    def top_n(self, user_id: str, page_size: int, flt: MovieFilter) -> TopN:
        model = self._model
        self.activity.record_access(user_id)
        user_idx = model.user_index.get(user_id)
        if user_idx is None:
            return self._popularity(model, page_size, flt)
        rec = self.lists.get(user_id)
        source = Source.PRECOMPUTED
        if not self._is_fresh(rec, model, user_id):
            rec = self.recompute(model, user_id, user_idx)
            source = Source.RECOMPUTED
        assert rec is not None
        items = self._page(model, rec, page_size, flt)
        if items is None:
            items = self._scan(model, user_idx, page_size, flt)
            if source is Source.PRECOMPUTED:
                source = Source.FILTER_SCAN
        return TopN(items, source, rec.computed_at_us, rec.model_version)

    def _is_fresh(self, rec: RecList | None, model: ServingModel, user_id: str) -> bool:
        return (
            rec is not None
            and rec.model_version == model.version
            and rec.computed_at_us > self.activity.last_active_us(user_id)
        )

    def recompute(self, model: ServingModel, user_id: str, user_idx: int) -> RecList:
        """Ranks every movie for the user, writes the list back and returns the current list."""
        # Taken before reading the user's data: activity after this instant makes the list stale.
        computed_at = now_us()
        best, scores = top_n(
            model.scores(user_idx), self.list_length, exclude=model.rated(user_idx)
        )
        rec = RecList(
            movie_ids=tuple(model.item_ids[j] for j in best),
            scores=tuple(float(s) for s in scores),
            computed_at_us=computed_at,
            model_version=model.version,
        )
        return self.lists.put(user_id, rec)

    def _page(
        self, model: ServingModel, rec: RecList, page_size: int, flt: MovieFilter
    ) -> list[tuple[Movie, float]] | None:
        """The page from the stored list, or None when the list is too short for the filter."""
        movies = model.movies
        if flt.is_empty:
            if page_size <= len(rec.movie_ids) or len(rec.movie_ids) < self.list_length:
                head = zip(rec.movie_ids[:page_size], rec.scores[:page_size], strict=True)
                return [(movies[m], s) for m, s in head]
            return None
        picked: list[tuple[Movie, float]] = []
        for movie_id, score in zip(rec.movie_ids, rec.scores, strict=True):
            movie = movies[movie_id]
            if model.accepts(movie, flt):
                picked.append((movie, score))
                if len(picked) == page_size:
                    return picked
        # A list shorter than list_length already held every candidate movie.
        return picked if len(rec.movie_ids) < self.list_length else None

    def _scan(
        self, model: ServingModel, user_idx: int, page_size: int, flt: MovieFilter
    ) -> list[tuple[Movie, float]]:
        best, scores = top_n(
            model.scores(user_idx),
            page_size,
            exclude=model.rated(user_idx),
            allowed=model.allowed_mask(flt),
        )
        return [
            (model.movies[model.item_ids[j]], float(s)) for j, s in zip(best, scores, strict=True)
        ]

    def _popularity(self, model: ServingModel, page_size: int, flt: MovieFilter) -> TopN:
        mask = model.allowed_mask(flt)
        order = model.popularity if mask is None else model.popularity[mask[model.popularity]]
        items = [
            (model.movies[model.item_ids[j]], float(model.item_rating_count[j]))
            for j in order[:page_size]
        ]
        return TopN(items, Source.POPULARITY, model.trained_at_us, model.version)

    def predict(self, user_id: str, movie_id: str) -> Prediction:
        model = self._model
        movie = model.movies.get(movie_id)
        if movie is None:
            raise NotFound(f"movie {movie_id!r} is not in the catalogue")
        user_idx = model.user_index.get(user_id)
        item_idx = model.item_index.get(movie_id)
        if user_idx is None or item_idx is None or model.implicit:
            # No factors to combine (or implicit factors, which predict preference, not ratings).
            return Prediction(
                model.clip(model.damped_mean(movie)), Source.MOVIE_MEAN, model.version
            )
        raw = float(model.user_factors[user_idx] @ model.item_factors[item_idx])
        return Prediction(model.clip(raw), Source.MODEL, model.version)
