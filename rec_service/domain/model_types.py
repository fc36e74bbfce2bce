"""The model's vocabulary: values that training (Spark) produces and serving (NumPy) reads.

No pyspark here, on purpose: the Spark-free serving core (rec_service.core) imports these types,
and a test imports that core with pyspark made unimportable.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from rec_service.domain.ranking import ItemNeighbours, ItemScorer


@dataclass(frozen=True)
class AlsParams:
    """ALS hyper-parameters; names follow the paper, not Spark's camelCase."""

    rank: int = 10
    reg_param: float = 0.1
    max_iter: int = 10
    implicit_prefs: bool = False
    alpha: float = 1.0
    seed: int = 42
    blocks: int = 2

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class RatingScale:
    """The data set's rating scale: predictions are clipped to [low, high]."""

    low: float
    high: float
    step: float


@dataclass(frozen=True)
class BiasParams:
    """Pseudo-counts that shrink each bias towards zero: a movie rated once by a fan must not get
    that fan's enthusiasm as its bias."""

    reg_item: float = 10.0
    reg_user: float = 15.0


@dataclass(frozen=True)
class Biases:
    """Global mean and per-index biases, row-aligned with the model's id lists."""

    mean: float
    user: np.ndarray  # float64 (users,)
    item: np.ndarray  # float64 (items,)


def user_bias(ratings: np.ndarray, item_bias: np.ndarray, mean: float, params: BiasParams) -> float:
    """One user's bias from their ratings and the rated movies' biases, as fit_biases computes
    it; used to fold a user in."""
    return float(np.sum(ratings - mean - item_bias) / (len(ratings) + params.reg_user))


def item_bias(ratings: np.ndarray, user_bias: np.ndarray, mean: float, params: BiasParams) -> float:
    """A new movie's bias from its raters' ratings and biases (fold-in of a movie)."""
    return float(np.sum(ratings - mean - user_bias) / (len(ratings) + params.reg_item))


def _ranking_default() -> AlsParams:
    return AlsParams(rank=64, reg_param=0.1, max_iter=10, implicit_prefs=True, alpha=5.0)


def _rating_default() -> AlsParams:
    return AlsParams(rank=40, reg_param=0.15, max_iter=15)


@dataclass(frozen=True)
class ModelSettings:
    """Everything that decides the models; the defaults are `movierec tune`'s choice on the
    demo data (benchmarks/results/tuning.md)."""

    ranking: AlsParams = field(default_factory=_ranking_default)
    rating: AlsParams = field(default_factory=_rating_default)
    bias: BiasParams = field(default_factory=lambda: BiasParams(reg_item=5.0, reg_user=10.0))
    cf_neighbours: int = 50
    cf_ratings_per_user: int = 300
    cf_pairs_per_rating: float = 10.0  # co-rating budget past the driver (item_models.co_ratings)
    blend_als_weight: float = 0.3
    # The ranker's item-item part: "cosine" (the Item-CF neighbours above), "rp3beta" or
    # "ease", with its parameter (beta, lambda) and links kept per movie (item_item).
    item_model: str = "cosine"
    item_model_param: float = 0.0
    item_model_links: int = 0  # 0: cf_neighbours
    # Share of the ranking score given to plain popularity (rating count); the item-item part
    # gets what ALS and popularity leave.
    blend_popularity_weight: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def links_per_movie(self) -> int:
        """The ranker's item-item links per movie."""
        return self.item_model_links or self.cf_neighbours

    @property
    def ranking_uses_cf_neighbours(self) -> bool:
        """Whether the ranker's item-item part is the Item-CF neighbour table itself."""
        return self.item_model == "cosine" and self.links_per_movie == self.cf_neighbours

    def ranker(self) -> tuple[str, float, int, float, float]:
        """What decides GetTopN's ranking beyond the ALS settings, with links resolved: two
        settings with the same ranker rank alike."""
        return (
            self.item_model,
            self.item_model_param,
            self.links_per_movie,
            self.blend_als_weight,
            self.blend_popularity_weight,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSettings:
        """Settings as saved; a model saved before a field existed gets its default."""
        return cls(
            ranking=AlsParams(**data["ranking"]),
            rating=AlsParams(**data["rating"]),
            bias=BiasParams(**data["bias"]),
            cf_neighbours=int(data["cf_neighbours"]),
            cf_ratings_per_user=int(data["cf_ratings_per_user"]),
            cf_pairs_per_rating=float(data.get("cf_pairs_per_rating", 10.0)),
            blend_als_weight=float(data["blend_als_weight"]),
            item_model=str(data.get("item_model", "cosine")),
            item_model_param=float(data.get("item_model_param", 0.0)),
            item_model_links=int(data.get("item_model_links", 0)),
            blend_popularity_weight=float(data.get("blend_popularity_weight", 0.0)),
        )


@dataclass(frozen=True)
class TuningSettings:
    """How the ranker is chosen at training (the `tuning_*` settings). Every bound is a count
    fixed before tuning starts, so what is measured and chosen depends on the data, these
    settings and the seed only; `limit_s` is a safety net that reports itself when hit."""

    enabled: bool = True
    split: str = "random"  # validation per user: "random" share, or "time" (latest ratings)
    max_ratings: int = 1_000_000  # tuning fits on whole users, sampled up to this many ratings
    item_models: int = 8  # item-item candidates measured, in selection._item_models' order
    blended_models: int = 2  # the best item models alone are blended with ALS and popularity
    rating_fits: int = 4  # PredictRating's ALS fits beyond the configured (rating_selection)
    limit_s: float = 3600.0  # safety net: candidates left when it is hit are reported
    validation_fraction: float = 0.2
    ease_max_items: int = 5000  # EASE^R's dense item matrix covers the most-rated movies only
    max_validation_users: int = 3000  # a larger data set is scored on a fixed sample of users
    retune_growth: float = 0.2  # a retrain re-tunes once the data grew this share since tuning
    retune_every: int = 5  # ... or once this many retrains in a row reused a tuning
    k: int = 10
    seed: int = 42


@dataclass(frozen=True)
class ServingChoice:
    """What a retrain knows of the model it may replace: its settings, and its tuning record
    (Selection.as_dict() plus how it was reached) as saved; None when it was not tuned."""

    version: str
    settings: ModelSettings
    tuning: dict[str, Any] | None


@dataclass(frozen=True)
class ModelArrays:
    """The trained models in driver memory as NumPy, row-aligned with the id lists."""

    ranking_users: np.ndarray  # float32 (users, rank)
    ranking_items: np.ndarray  # float32 (items, rank)
    rating_users: np.ndarray  # float32 (users, rating rank)
    rating_items: np.ndarray  # float32 (items, rating rank)
    biases: Biases
    neighbours: ItemNeighbours  # Item-CF cosine: similar movies and explanations
    ranking_links: ItemScorer | None = None  # the ranker's item-item part; None: neighbours

    @property
    def ranker_links(self) -> ItemScorer:
        return self.ranking_links if self.ranking_links is not None else self.neighbours


@dataclass(frozen=True)
class TrainingData:
    """A ratings set: a MovieLens directory (format auto/latest/100k/1m), a user's csv/parquet
    files read through `layout` (table_loader.TableLayout's fields), or the service's own
    Parquet snapshot (format parquet, no layout), holding every logged rating of segments up to
    `segments_through` of the rating log named `log` ("file", or "jetstream:<stream>")."""

    path: str
    format: str
    segments_through: int = 0
    layout: dict[str, Any] = field(default_factory=dict)
    log: str = "file"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def through_in(self, log_name: str) -> int:
        """What this data holds of the log `log_name`: positions of another log (the service
        moved from the file log to JetStream) count for nothing there."""
        return self.segments_through if self.log == log_name else 0


@dataclass(frozen=True)
class FactorModel:
    """A loaded model in driver memory: NumPy factors row-aligned with the id lists."""

    version: str
    trained_at: str
    user_ids: list[str]
    item_ids: list[str]
    arrays: ModelArrays  # row i of a user array is user_ids[i], row j of an item array item_ids[j]
    scale: RatingScale
    settings: ModelSettings
    training_data: TrainingData
    data_cut_us: int  # ratings accepted after this instant are not in the training data
    metadata: dict[str, Any]  # metadata.json as saved (counts, fit time)


@dataclass(frozen=True, slots=True)
class RecList:
    """One user's ranked movies with the time (Unix microseconds) and model that computed them."""

    movie_ids: tuple[str, ...]
    scores: tuple[float, ...]
    computed_at_us: int
    model_version: str
