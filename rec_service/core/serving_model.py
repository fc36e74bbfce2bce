"""The immutable snapshot a read works on: factors, id maps, catalogue, rated items, popularity.

It is immutable and holds every piece of one model version, so a model swap is one reference
change: a read never mixes factors from one version with id maps from another. Movies that get
factors by fold-in produce a new snapshot (`with_item_factors`), never an in-place change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rec_service.core.foldin import solve_explicit
from rec_service.domain import model_types
from rec_service.domain.arrays import zero_padded
from rec_service.domain.model_types import BiasParams, FactorModel, RatingScale
from rec_service.domain.ranking import ItemNeighbours, ItemScorer, blend, top_n

# Pseudo-ratings at the global mean added to each movie's mean for the cold-start prediction:
# a movie with 1 rating of 5.0 should not be predicted 5.0 for strangers.
MEAN_DAMPING = 5.0


@dataclass(frozen=True, slots=True)
class Movie:
    """One catalogue movie with its rating statistics from the training data."""

    movie_id: str
    title: str
    genres: tuple[str, ...]
    rating_count: int  # interactions, with or without a rating: popularity
    rating_sum: float
    rated_count: int  # the ratings rating_sum adds up (no interactions without a rating)


@dataclass(frozen=True)
class MovieFilter:
    """A compiled TopNFilter: genre bit masks, a minimum count and an optional allow-list."""

    include_bits: int = 0
    exclude_bits: int = 0
    min_rating_count: int = 0
    allowed: frozenset[str] | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.include_bits or self.exclude_bits or self.min_rating_count) and (
            self.allowed is None
        )


@dataclass(frozen=True)
class ModelFacts:
    """What GetModelInfo reports about a version, fixed when the version is built, so the
    version and its settings are always read from the same snapshot."""

    settings: dict[str, object]
    user_count: int
    movie_count: int
    rating_count: int
    fit_seconds: float
    tuning: dict[str, Any] | None = None  # the ranker's choice at training (selection.py)


@dataclass(frozen=True)
class ServingModel:
    """Everything a read needs, in NumPy and dicts; built once per model version."""

    version: str
    trained_at_us: int
    scale: RatingScale
    implicit: bool
    movies: dict[str, Movie]
    genre_bits: dict[str, int]
    global_mean: float
    user_index: dict[str, int]
    item_ids: list[str]
    item_index: dict[str, int]
    user_factors: np.ndarray  # the ranking ALS (GetTopN)
    item_factors: np.ndarray
    rating: RatingModel  # the bias-aware ALS (PredictRating)
    neighbours: ItemNeighbours  # Item-CF cosine: similar movies and explanations
    item_item: ItemScorer  # the ranker's item-item part (may be `neighbours` itself)
    blend_als_weight: float
    blend_popularity_weight: float
    item_genre_bits: np.ndarray  # int64 per model item
    item_rating_count: np.ndarray  # int64 per model item
    rated_indptr: np.ndarray  # CSR over users: rated items of user u are
    rated_items: np.ndarray  #   rated_items[rated_indptr[u]:rated_indptr[u + 1]]
    rated_values: np.ndarray  # float32 ratings aligned with rated_items (for fold-in); NaN:
    #   an interaction without a rating (the data's implicit_value)
    popularity: np.ndarray = field(repr=False)  # model items by rating count, most first
    facts: ModelFacts = field(repr=False)
    reg_param: float = 0.1  # the ranking ALS settings fold-in must solve with
    alpha: float = 1.0
    implicit_weight: float = 1.0  # the ranking ALS value of an interaction without a rating

    @classmethod
    def build(
        cls,
        factors: FactorModel,
        movies: Iterable[Movie],
        rated: tuple[np.ndarray, np.ndarray, np.ndarray],
        trained_at_us: int,
    ) -> ServingModel:
        """Assembles the snapshot; rated is (user_idx, item_idx, rating) arrays of the training
        ratings."""
        catalogue = {m.movie_id: m for m in movies}
        genres = sorted({g for m in catalogue.values() for g in m.genres})
        if len(genres) > 62:
            raise ValueError(f"{len(genres)} genres; at most 62 fit the genre bit mask")
        genre_bits = {g: 1 << i for i, g in enumerate(genres)}
        item_ids = list(factors.item_ids)
        bits = np.zeros(len(item_ids), dtype=np.int64)
        counts = np.zeros(len(item_ids), dtype=np.int64)
        for j, movie_id in enumerate(item_ids):
            movie = catalogue.get(movie_id)
            if movie is not None:
                bits[j] = sum(genre_bits[g] for g in movie.genres)
                counts[j] = movie.rating_count
        total = sum(m.rated_count for m in catalogue.values())
        global_mean = sum(m.rating_sum for m in catalogue.values()) / total if total else 0.0
        users, items, values = rated
        order = np.argsort(users, kind="stable")
        indptr = np.zeros(len(factors.user_ids) + 1, dtype=np.int64)
        np.add.at(indptr, users.astype(np.int64) + 1, 1)
        arrays, settings = factors.arrays, factors.settings
        return cls(
            version=factors.version,
            trained_at_us=trained_at_us,
            scale=factors.scale,
            implicit=settings.ranking.implicit_prefs,
            movies=catalogue,
            genre_bits=genre_bits,
            global_mean=global_mean,
            user_index={u: i for i, u in enumerate(factors.user_ids)},
            item_ids=item_ids,
            item_index={m: j for j, m in enumerate(item_ids)},
            user_factors=arrays.ranking_users,
            item_factors=arrays.ranking_items,
            rating=RatingModel(
                mean=arrays.biases.mean,
                user_bias=arrays.biases.user,
                item_bias=arrays.biases.item,
                user_factors=arrays.rating_users,
                item_factors=arrays.rating_items,
                reg_param=settings.rating.reg_param,
                bias=settings.bias,
            ),
            neighbours=arrays.neighbours,
            item_item=arrays.ranker_item_item,
            blend_als_weight=settings.blend_als_weight,
            blend_popularity_weight=settings.blend_popularity_weight,
            item_genre_bits=bits,
            item_rating_count=counts,
            rated_indptr=np.cumsum(indptr),
            rated_items=items[order].astype(np.int64),
            rated_values=values[order].astype(np.float32),
            popularity=_popularity(counts),
            facts=ModelFacts(
                settings=settings.as_dict(),
                user_count=len(factors.user_ids),
                movie_count=len(factors.item_ids),
                rating_count=int(factors.metadata.get("num_ratings", 0)),
                fit_seconds=float(factors.metadata.get("fit_seconds", 0.0)),
                tuning=factors.metadata.get("tuning"),
            ),
            reg_param=settings.ranking.reg_param,
            alpha=settings.ranking.alpha,
            implicit_weight=float(factors.metadata.get("implicit_weight", 1.0)),
        )

    def with_item_factors(
        self, updates: dict[str, np.ndarray], rating_updates: dict[str, tuple[float, np.ndarray]]
    ) -> ServingModel:
        """A snapshot where these movies have these ranking factors and these rating-model
        (bias, factors) (appended when they had none). A movie added to the ranking model
        without rating-model values gets bias 0 and zero factors there."""
        item_ids = list(self.item_ids)
        item_index = dict(self.item_index)
        added = [m for m in [*updates, *rating_updates] if m not in item_index]
        added = list(dict.fromkeys(added))
        for movie_id in added:
            item_index[movie_id] = len(item_ids)
            item_ids.append(movie_id)
        factors = zero_padded(self.item_factors, len(item_ids))
        for movie_id, vector in updates.items():
            factors[item_index[movie_id]] = vector
        rating = self.rating.with_items(
            {item_index[m]: value for m, value in rating_updates.items()}, len(item_ids)
        )
        bits = np.concatenate(
            [self.item_genre_bits, [self.genre_mask(self.movies[m].genres) for m in added]]
        ).astype(np.int64)
        counts = np.concatenate(
            [self.item_rating_count, [self.movies[m].rating_count for m in added]]
        ).astype(np.int64)
        return dataclasses.replace(
            self,
            item_ids=item_ids,
            item_index=item_index,
            item_factors=factors,
            rating=rating,
            neighbours=self.neighbours.with_items(len(item_ids)),
            item_item=self.item_item.with_items(len(item_ids)),
            item_genre_bits=bits,
            item_rating_count=counts,
            popularity=_popularity(counts),
        )

    def genre_mask(self, genres: Iterable[str]) -> int:
        return sum(self.genre_bits[g] for g in genres)

    def rated_ratings(self, user_idx: int) -> np.ndarray:
        """The user's training ratings, aligned with rated(user_idx); NaN where they interacted
        without rating."""
        return self.rated_values[self.rated_indptr[user_idx] : self.rated_indptr[user_idx + 1]]

    def rated(self, user_idx: int) -> np.ndarray:
        """Model item indices the user rated in the training data."""
        return self.rated_items[self.rated_indptr[user_idx] : self.rated_indptr[user_idx + 1]]

    def scores(self, user_vector: np.ndarray, rated: np.ndarray) -> np.ndarray:
        """The ranking score of every model item for a user with these ranking factors who
        rated these items: the ALS preference blended with the item-item score and popularity,
        as tuned at training."""
        als: np.ndarray = self.item_factors @ user_vector
        if self.blend_als_weight >= 1.0:
            return als
        return blend(
            als,
            self.item_item.scores(rated, len(als)),
            self.blend_als_weight,
            self.item_rating_count,
            self.blend_popularity_weight,
        )

    def similar(
        self, item: int, n: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        """(items, similarities, from Item-CF) of the n movies most similar to `item` that pass
        `allowed`: its Item-CF neighbours, or for a movie without any (one first rated after
        training), the cosine of the ranking model's item factors."""
        neighbours, similarity = self.neighbours.neighbours(item)
        if len(neighbours):
            keep = allowed[neighbours] if allowed is not None else slice(None)
            return neighbours[keep][:n], similarity[keep][:n].astype(np.float64), True
        cosine = self._factor_cosine(item)
        exclude = np.asarray([item], dtype=np.int64)
        best, scores = top_n(cosine, n, exclude=exclude, allowed=allowed)
        return best, scores, False

    def reasons(self, item: int, rated: np.ndarray, limit: int) -> list[int]:
        """The rated movies that most made `item` recommended: its Item-CF neighbours among
        them, or else the rated movies nearest to it by the ranking model's item factors."""
        found = self.neighbours.reasons(item, rated, limit)
        if found or not len(rated):
            return found
        cosine = self._factor_cosine(item)[rated]
        order = np.lexsort((rated, -cosine))[:limit]
        return [int(j) for j in rated[order]]

    def _factor_cosine(self, item: int) -> np.ndarray:
        norms = np.linalg.norm(self.item_factors, axis=1)
        target = self.item_factors[item]
        denominator = norms * (norms[item] or 1.0)
        denominator[denominator == 0] = 1.0
        cosine: np.ndarray = (self.item_factors @ target) / denominator
        return cosine.astype(np.float64)

    def allowed_mask(self, flt: MovieFilter) -> np.ndarray | None:
        """Boolean mask over model items passing the filter; None when the filter is empty."""
        if flt.is_empty:
            return None
        mask = np.ones(len(self.item_ids), dtype=bool)
        if flt.include_bits:
            mask &= (self.item_genre_bits & flt.include_bits) != 0
        if flt.exclude_bits:
            mask &= (self.item_genre_bits & flt.exclude_bits) == 0
        if flt.min_rating_count:
            mask &= self.item_rating_count >= flt.min_rating_count
        if flt.allowed is not None:
            allow = np.zeros(len(self.item_ids), dtype=bool)
            idx = [self.item_index[m] for m in flt.allowed if m in self.item_index]
            allow[idx] = True
            mask &= allow
        return mask

    def accepts(self, movie: Movie, flt: MovieFilter) -> bool:
        """Whether one movie passes the filter (for filtering a short stored list)."""
        if flt.allowed is not None and movie.movie_id not in flt.allowed:
            return False
        if movie.rating_count < flt.min_rating_count:
            return False
        if flt.include_bits or flt.exclude_bits:
            bits = self.genre_mask(movie.genres)
            if flt.include_bits and not bits & flt.include_bits:
                return False
            if bits & flt.exclude_bits:
                return False
        return True

    def clip(self, rating: float) -> float:
        return min(self.scale.high, max(self.scale.low, rating))

    def damped_mean(self, movie: Movie) -> float:
        """The movie's mean rating pulled towards the global mean by MEAN_DAMPING pseudo-ratings."""
        return (movie.rating_sum + MEAN_DAMPING * self.global_mean) / (
            movie.rated_count + MEAN_DAMPING
        )


@dataclass(frozen=True)
class RatingModel:
    """Bias-aware explicit ALS: rating = mean + user bias + movie bias + user . movie factors.
    Arrays are row-aligned with the ServingModel's user and item indices."""

    mean: float
    user_bias: np.ndarray
    item_bias: np.ndarray
    user_factors: np.ndarray
    item_factors: np.ndarray
    reg_param: float
    bias: BiasParams

    def predict(self, user_bias: float, user_vector: np.ndarray, item: int) -> float:
        return float(
            self.mean + user_bias + self.item_bias[item] + user_vector @ self.item_factors[item]
        )

    def solve_user(self, rated: np.ndarray, values: np.ndarray) -> tuple[float, np.ndarray]:
        """Fold-in of a user: their bias, then their factors on what the biases leave, the
        order training used (so a trained user folded back in gets their trained values)."""
        item_bias = self.item_bias[rated]
        bias = model_types.user_bias(values, item_bias, self.mean, self.bias)
        residual = values - self.mean - item_bias - bias
        return bias, solve_explicit(self.item_factors[rated], residual, self.reg_param)

    def solve_movie(
        self, user_bias: np.ndarray, user_factors: np.ndarray, values: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """Fold-in of a movie without training ratings from its raters' biases and factors."""
        bias = model_types.item_bias(values, user_bias, self.mean, self.bias)
        residual = values - self.mean - user_bias - bias
        return bias, solve_explicit(user_factors, residual, self.reg_param)

    def with_items(self, updates: dict[int, tuple[float, np.ndarray]], items: int) -> RatingModel:
        item_bias = np.concatenate([self.item_bias, np.zeros(items - len(self.item_bias))])
        factors = zero_padded(self.item_factors, items)
        for j, (bias, vector) in updates.items():
            item_bias[j] = bias
            factors[j] = vector
        return dataclasses.replace(self, item_bias=item_bias, item_factors=factors)


def _popularity(counts: np.ndarray) -> np.ndarray:
    """Model items by rating count, most first; ties by index so the order is stable."""
    return np.lexsort((np.arange(len(counts)), -counts))
