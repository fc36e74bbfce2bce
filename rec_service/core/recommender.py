"""Answers top-N and rating reads with the lazy-update rule; no Spark job runs here.

On a read: the stored list is fresh when it was computed with the current model after the
user's last activity (computed_at > last_active). A fresh list is served; a stale or missing
one is recomputed from the factors, written back (newer wins) and served.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rec_service.core.durable_log import LoggedRating
from rec_service.core.errors import NotFound
from rec_service.core.list_store import Activity, ListStore
from rec_service.core.live_model import LiveModel, UserView
from rec_service.core.serving_model import Movie, MovieFilter, ServingModel
from rec_service.domain.model_types import RecList
from rec_service.domain.ranking import top_n


class Source(enum.Enum):
    """Where an answer came from (mirrors the API's RecommendationSource)."""

    PRECOMPUTED = 1
    RECOMPUTED = 2
    FILTER_SCAN = 3
    POPULARITY = 4
    MODEL = 5
    MOVIE_MEAN = 6
    ITEM_CF = 7
    ITEM_FACTORS = 8


@dataclass(frozen=True, slots=True)
class TopN:
    """A served list: (movie, score) pairs, best first, and its provenance."""

    items: list[tuple[Movie, float]]
    source: Source
    computed_at_us: int
    model_version: str
    because: tuple[tuple[str, ...], ...] = ()  # per item, when asked to explain


@dataclass(frozen=True, slots=True)
class Similar:
    """Movies similar to one movie, most similar first, with their similarity."""

    items: list[tuple[Movie, float]]
    source: Source
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
    """The read side of movierec over one swappable LiveModel (a model version + fold-ins)."""

    def __init__(
        self,
        live: LiveModel,
        lists: ListStore,
        activity: Activity,
        list_length: int,
        on_recompute: Callable[[float], None] | None = None,
    ) -> None:
        self._live = live
        self.lists = lists
        self.activity = activity
        self.list_length = list_length
        self._on_recompute = on_recompute  # seconds per recompute, for metrics
        # Held while ratings are applied and while a model is swapped, so that no rating is
        # applied to a model that is being replaced without also reaching its successor.
        self._apply_lock = threading.Lock()

    @property
    def live(self) -> LiveModel:
        return self._live

    @property
    def model(self) -> ServingModel:
        return self._live.model

    def apply(self, records: Sequence[LoggedRating]) -> None:
        """Folds logged ratings in, then moves each rater's last activity to now.

        The activity time is taken after the ratings are visible to reads: a list computed
        before it is then stale, and one computed after it has seen them (read-your-writes).
        """
        with self._apply_lock:
            users = self._live.apply(records)
        at = now_us()
        for user_id in users:
            self.activity.record_activity(user_id, at)

    def swap(self, live: LiveModel, catch_up: Callable[[LiveModel], None]) -> None:
        """Makes `live` the serving model after `catch_up` applied the last logged ratings to
        it; reads see the old model or the new one, never a mix."""
        with self._apply_lock:
            catch_up(live)
            self._live = live

    def fresh_stamp(self, user_id: str) -> tuple[int, str] | None:
        """Counts a read of the user's list, as top_n does, and returns the list's stamp
        (computed_at_us, model_version) when it is fresh: top_n would then page that very list,
        so a response already built from it can be served again. None otherwise (no list, or
        a stale one); the caller then calls top_n(..., access_counted=True). A fresh list
        implies factors for the user: lists are only computed from them, per model version."""
        self.activity.record_access(user_id)
        stamp = self.lists.stamp(user_id)
        if (
            stamp is None
            or stamp[1] != self._live.model.version
            or stamp[0] <= self.activity.last_active_us(user_id)
        ):
            return None
        return stamp

    def list_freshness(self) -> dict[str, int]:
        """How many users a read would serve their stored list as it is ("fresh"), recompute
        it for ("stale": an older model's list, or activity since it was computed), or compute
        one for ("missing": a user the model was trained on who has no list). One pass over
        every list: for a metrics scrape, not for a read."""
        model = self._live.model
        fresh = stale = listed_model_users = 0
        for user_id, computed_at_us, version in self.lists.stamps():
            if version == model.version and computed_at_us > self.activity.last_active_us(user_id):
                fresh += 1
            else:
                stale += 1
            listed_model_users += user_id in model.user_index
        return {
            "fresh": fresh,
            "stale": stale,
            "missing": len(model.user_index) - listed_model_users,
        }

    def top_n(
        self,
        user_id: str,
        page_size: int,
        flt: MovieFilter,
        explain: bool = False,
        access_counted: bool = False,
    ) -> TopN:
        # Taken before reading the user's data: activity after this instant makes a list
        # recomputed on this read stale again.
        started = now_us()
        live = self._live
        if not access_counted:
            self.activity.record_access(user_id)
        view = live.user_view(user_id)
        model = live.model
        if view is None or view.vector is None:
            return self._popularity(model, page_size, flt, view)
        rec = self.lists.get(user_id)
        source = Source.PRECOMPUTED
        if not self._is_fresh(rec, model, user_id):
            clock = time.perf_counter()
            rec = self._recompute(model, user_id, view, started)
            source = Source.RECOMPUTED
            if self._on_recompute is not None:
                self._on_recompute(time.perf_counter() - clock)
        assert rec is not None
        items = self._page(model, rec, page_size, flt)
        if items is None:
            items = self._scan(model, view, page_size, flt)
            if source is Source.PRECOMPUTED:
                source = Source.FILTER_SCAN
        because = self._explain(model, view, items) if explain else ()
        return TopN(items, source, rec.computed_at_us, rec.model_version, because)

    def _explain(
        self, model: ServingModel, view: UserView, items: list[tuple[Movie, float]]
    ) -> tuple[tuple[str, ...], ...]:
        ids = model.item_ids
        return tuple(
            tuple(ids[r] for r in model.reasons(model.item_index[m.movie_id], view.rated, 3))
            for m, _ in items
        )

    def similar_movies(self, movie_id: str, page_size: int, flt: MovieFilter) -> Similar:
        model = self._live.model
        if movie_id not in model.movies:
            raise NotFound(f"movie {movie_id!r} is not in the catalogue")
        item = model.item_index.get(movie_id)
        if item is None:  # in the catalogue, but nobody has rated it: nothing to compare
            return Similar([], Source.ITEM_CF, model.version)
        best, scores, from_cf = model.similar(item, page_size, model.allowed_mask(flt))
        items = [
            (model.movies[model.item_ids[j]], float(s)) for j, s in zip(best, scores, strict=True)
        ]
        source = Source.ITEM_CF if from_cf else Source.ITEM_FACTORS
        return Similar(items, source, model.version)

    def _is_fresh(self, rec: RecList | None, model: ServingModel, user_id: str) -> bool:
        return (
            rec is not None
            and rec.model_version == model.version
            and rec.computed_at_us > self.activity.last_active_us(user_id)
        )

    def _recompute(
        self, model: ServingModel, user_id: str, view: UserView, computed_at: int
    ) -> RecList:
        """Ranks every movie for the user, writes the list back and returns the current list.

        computed_at must be taken before the user's data was read."""
        assert view.vector is not None
        best, scores = top_n(
            model.scores(view.vector, view.rated), self.list_length, exclude=view.rated
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
        self, model: ServingModel, view: UserView, page_size: int, flt: MovieFilter
    ) -> list[tuple[Movie, float]]:
        assert view.vector is not None
        best, scores = top_n(
            model.scores(view.vector, view.rated),
            page_size,
            exclude=view.rated,
            allowed=model.allowed_mask(flt),
        )
        return [
            (model.movies[model.item_ids[j]], float(s)) for j, s in zip(best, scores, strict=True)
        ]

    def _popularity(
        self, model: ServingModel, page_size: int, flt: MovieFilter, view: UserView | None
    ) -> TopN:
        mask = model.allowed_mask(flt)
        if view is not None and len(view.rated):  # a new user whose movies have no factors yet
            mask = np.ones(len(model.item_ids), dtype=bool) if mask is None else mask.copy()
            mask[view.rated] = False
        order = model.popularity if mask is None else model.popularity[mask[model.popularity]]
        items = [
            (model.movies[model.item_ids[j]], float(model.item_rating_count[j]))
            for j in order[:page_size]
        ]
        return TopN(items, Source.POPULARITY, model.trained_at_us, model.version)

    def predict(self, user_id: str, movie_id: str) -> Prediction:
        live = self._live
        model = live.model
        movie = model.movies.get(movie_id)
        if movie is None:
            raise NotFound(f"movie {movie_id!r} is not in the catalogue")
        item_idx = model.item_index.get(movie_id)
        view = live.user_view(user_id) if item_idx is not None else None
        if view is None or view.rating_vector is None or item_idx is None:
            # No rating-model factors to combine: the movie's damped mean.
            return Prediction(
                model.clip(model.damped_mean(movie)), Source.MOVIE_MEAN, model.version
            )
        raw = model.rating.predict(view.rating_bias, view.rating_vector, item_idx)
        return Prediction(model.clip(raw), Source.MODEL, model.version)
