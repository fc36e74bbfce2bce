"""A model version plus the ratings logged since its training data was cut, folded in.

The trained ServingModel never changes. Ratings accepted after the model's data cut are kept
here per user and per new movie:
  - a user with new ratings gets their vectors re-solved against the fixed item factors (one
    ALS half-step of the ranking model; bias then half-step of the rating model), lazily, on
    their next read, and cached until they rate again; Item-CF needs no solve, it scores the
    user's rated movies as they are;
  - a catalogue movie that had no training ratings gets factors (and a rating-model bias)
    solved from the users who rated it, at once; that makes a new ServingModel snapshot with
    the movie added.
Applying a rating is idempotent and order-free: per (user, movie) the record with the latest
log position wins, so a record applied twice (as a model swap may do) changes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rec_service.core.durable_log import LoggedRating
from rec_service.core.foldin import solve_explicit, solve_implicit
from rec_service.core.serving_model import ServingModel

APPLY_CHUNK = 256


@dataclass(frozen=True, slots=True)
class UserView:
    """What a read needs of a user: ranking factors (None when nothing could be solved), the
    model items they rated (never recommended back), and their rating-model bias and factors."""

    vector: np.ndarray | None
    rated: np.ndarray
    rating_bias: float = 0.0
    rating_vector: np.ndarray | None = None


@dataclass(slots=True)
class _Solved:
    revision: int
    model: ServingModel
    view: UserView


# A rating since the data cut: (rating, log position, event_us, accepted_us). Plain tuples of
# numbers, not objects: the cyclic GC stops tracking them, so millions of ratings do not
# lengthen its pauses.
_Rated = tuple[float, tuple[int, int], int, int]


@dataclass(slots=True)
class _UserRatings:
    """A user's ratings since the data cut, by movie id."""

    ratings: dict[str, _Rated] = field(default_factory=dict)
    revision: int = 0
    solved: _Solved | None = None


@dataclass(frozen=True, slots=True)
class LiveRating:
    """A rating since the data cut, as the `rating_log` table shows it."""

    user_id: str
    movie_id: str
    rating: float
    event_us: int
    accepted_us: int


class LiveModel:
    """One model version with fold-in state; swapped whole when a retrain finishes."""

    def __init__(self, base: ServingModel, segments_through: int = 0) -> None:
        self._model = base
        self.segments_through = segments_through  # log segments already in the training data
        self._users: dict[str, _UserRatings] = {}
        self._new_movies: dict[str, dict[str, tuple[float, tuple[int, int]]]] = {}
        self._pairs = 0  # distinct (user, movie) ratings held
        self._lock = threading.Lock()
        self._item_gram: tuple[ServingModel, np.ndarray] | None = None
        self._user_gram: np.ndarray | None = None

    @property
    def model(self) -> ServingModel:
        """The current snapshot: the trained model plus movies folded in so far."""
        return self._model

    @property
    def version(self) -> str:
        return self._model.version

    @property
    def rating_count(self) -> int:
        """Distinct (user, movie) ratings since the data cut."""
        return self._pairs

    @property
    def folded_in_users(self) -> int:
        return len(self._users)

    @property
    def folded_in_movies(self) -> int:
        return sum(1 for m in self._new_movies if m in self._model.item_index)

    def live_ratings(self) -> list[LiveRating]:
        with self._lock:
            return [
                LiveRating(user_id, movie_id, rating, event_us, accepted_us)
                for user_id, entry in self._users.items()
                for movie_id, (rating, _, event_us, accepted_us) in entry.ratings.items()
            ]

    def apply(self, records: Sequence[LoggedRating]) -> set[str]:
        """Takes logged ratings in; returns the users whose data changed.

        The lock is taken per chunk, not per call: a read that must solve a user waits for at
        most one chunk of a large ingestion batch, not the whole batch.
        """
        touched_users: set[str] = set()
        for start in range(0, len(records), APPLY_CHUNK):
            with self._lock:
                self._apply_chunk(records[start : start + APPLY_CHUNK], touched_users)
        return touched_users

    def _apply_chunk(self, records: Sequence[LoggedRating], touched_users: set[str]) -> None:
        touched_movies: set[str] = set()
        model = self._model
        for r in records:
            entry = self._users.get(r.user_id)
            if entry is None:
                entry = self._users[r.user_id] = _UserRatings()
            current = entry.ratings.get(r.movie_id)
            if current is not None and current[1] >= r.position:
                continue  # already applied, or an older rating than the one we hold
            entry.ratings[r.movie_id] = (r.rating, r.position, r.event_us, r.accepted_us)
            entry.revision += 1
            touched_users.add(r.user_id)
            if current is None:
                self._pairs += 1
            if r.movie_id in self._new_movies or r.movie_id not in model.item_index:
                self._new_movies.setdefault(r.movie_id, {})[r.user_id] = (r.rating, r.position)
                touched_movies.add(r.movie_id)
        if touched_movies:
            self._fold_in_movies(touched_movies)

    def _fold_in_movies(self, movie_ids: set[str]) -> None:
        """Solves factors for movies without training ratings from their raters' vectors."""
        model = self._model
        updates: dict[str, np.ndarray] = {}
        rating_updates: dict[str, tuple[float, np.ndarray]] = {}
        for movie_id in movie_ids:
            raters = [
                (self._rater_view(model, user_id), rating)
                for user_id, (rating, _) in self._new_movies[movie_id].items()
            ]
            ranked = [(v.vector, r) for v, r in raters if v is not None and v.vector is not None]
            if ranked:
                users_m = np.asarray([v for v, _ in ranked], dtype=np.float32)
                ratings = np.asarray([r for _, r in ranked], dtype=np.float64)
                updates[movie_id] = self._solve_ranking_movie(model, users_m, ratings)
            rated = [(v, r) for v, r in raters if v is not None and v.rating_vector is not None]
            if rated:
                rating_updates[movie_id] = model.rating.solve_movie(
                    np.asarray([v.rating_bias for v, _ in rated], dtype=np.float64),
                    np.asarray([v.rating_vector for v, _ in rated], dtype=np.float32),
                    np.asarray([r for _, r in rated], dtype=np.float64),
                )
        if updates or rating_updates:
            self._model = model.with_item_factors(updates, rating_updates)

    def _solve_ranking_movie(
        self, model: ServingModel, users_m: np.ndarray, ratings: np.ndarray
    ) -> np.ndarray:
        if model.implicit:
            if self._user_gram is None:
                uf = model.user_factors.astype(np.float64)
                self._user_gram = uf.T @ uf
            return solve_implicit(users_m, ratings, model.reg_param, model.alpha, self._user_gram)
        return solve_explicit(users_m, ratings, model.reg_param)

    def _rater_view(self, model: ServingModel, user_id: str) -> UserView | None:
        """A rater's trained view, or the folded-in one of a new user already solved."""
        idx = model.user_index.get(user_id)
        if idx is not None:
            return _trained_view(model, idx)
        entry = self._users.get(user_id)
        solved = entry.solved if entry is not None else None
        return solved.view if solved is not None else None

    def user_view(self, user_id: str) -> UserView | None:
        """The user's factors and rated items now; None for a user with no data at all."""
        model = self._model
        idx = model.user_index.get(user_id)
        entry = self._users.get(user_id)
        if entry is None:
            if idx is None:
                return None
            return _trained_view(model, idx)
        solved = entry.solved
        if solved is not None and solved.revision == entry.revision and solved.model is model:
            return solved.view
        with self._lock:
            revision = entry.revision
            recent = dict(entry.ratings)
        view = self._solve_user(model, idx, recent)
        entry.solved = _Solved(revision, model, view)
        return view

    def _solve_user(
        self, model: ServingModel, idx: int | None, recent: dict[str, _Rated]
    ) -> UserView:
        """One ALS half-step for the user over training ratings overridden by recent ones."""
        recent_items, recent_values = [], []
        for movie_id, (rating, *_) in recent.items():
            j = model.item_index.get(movie_id)
            if j is not None:
                recent_items.append(j)
                recent_values.append(rating)
        rated = np.asarray(recent_items, dtype=np.int64)
        values = np.asarray(recent_values, dtype=np.float64)
        if idx is not None:  # training ratings, minus the movies rated again since
            kept = ~np.isin(model.rated(idx), rated)
            rated = np.concatenate([model.rated(idx)[kept], rated])
            values = np.concatenate([model.rated_ratings(idx)[kept].astype(np.float64), values])
        if not len(rated):
            return UserView(None, rated)
        factors = model.item_factors[rated]
        unrated = np.isnan(values)  # interactions without a rating: ranking only
        if model.implicit:
            ranking_values = np.where(unrated, model.implicit_weight, values)
            vector = solve_implicit(
                factors, ranking_values, model.reg_param, model.alpha, self._gram_items(model)
            )
        else:
            vector = solve_explicit(factors[~unrated], values[~unrated], model.reg_param)
        bias, rating_vector = model.rating.solve_user(rated[~unrated], values[~unrated])
        return UserView(vector, rated, bias, rating_vector)

    def _gram_items(self, model: ServingModel) -> np.ndarray:
        cached = self._item_gram
        if cached is None or cached[0] is not model:
            f = model.item_factors.astype(np.float64)
            cached = self._item_gram = (model, f.T @ f)
        return cached[1]


def _trained_view(model: ServingModel, idx: int) -> UserView:
    return UserView(
        model.user_factors[idx],
        model.rated(idx),
        float(model.rating.user_bias[idx]),
        model.rating.user_factors[idx],
    )
