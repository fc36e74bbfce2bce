"""The model's vocabulary: values that training (Spark) produces and serving (NumPy) reads.

No pyspark here, on purpose: the Spark-free serving core (rec_service.core) imports these types,
and a test imports that core with pyspark made unimportable.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np

from rec_service.domain.item_item import ItemModel
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
    # A second item-item model blended into the item-item part (ranking.ItemModelBlend) with
    # this share of it; "" (the default) for none. Kinds and parameters as item_model's.
    second_item_model: str = ""
    second_item_model_param: float = 0.0
    second_item_model_links: int = 0  # 0: cf_neighbours
    second_item_model_share: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def links_per_movie(self) -> int:
        """The ranker's item-item links per movie."""
        return self.item_model_links or self.cf_neighbours

    @property
    def ranking_uses_cf_neighbours(self) -> bool:
        """Whether the ranker's (first) item-item model is the Item-CF neighbour table itself."""
        return self.item_model == "cosine" and self.links_per_movie == self.cf_neighbours

    @property
    def has_second_item_model(self) -> bool:
        return bool(self.second_item_model) and self.second_item_model_share > 0.0

    @property
    def second_is_cf_neighbours(self) -> bool:
        """Whether the second item-item model is the Item-CF neighbour table itself."""
        second = self.second_item_model_of()
        return second is not None and second == ItemModel("cosine", 0.0, self.cf_neighbours)

    def first_item_model(self) -> ItemModel:
        """The ranker's item-item model (the only one without a second)."""
        return ItemModel(self.item_model, self.item_model_param, self.links_per_movie)

    def second_item_model_of(self) -> ItemModel | None:
        """The item-item model blended into the first, or None."""
        if not self.has_second_item_model:
            return None
        links = self.second_item_model_links or self.cf_neighbours
        return ItemModel(self.second_item_model, self.second_item_model_param, links)

    def ranker(self) -> tuple[Any, ...]:
        """What decides GetTopN's ranking beyond the ALS settings, with links resolved: two
        settings with the same ranker rank alike."""
        second: tuple[Any, ...] = ()
        if (model := self.second_item_model_of()) is not None:
            second = (model.kind, model.param, model.neighbours, self.second_item_model_share)
        return (
            self.item_model,
            self.item_model_param,
            self.links_per_movie,
            self.blend_als_weight,
            self.blend_popularity_weight,
            *second,
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
            second_item_model=str(data.get("second_item_model", "")),
            second_item_model_param=float(data.get("second_item_model_param", 0.0)),
            second_item_model_links=int(data.get("second_item_model_links", 0)),
            second_item_model_share=float(data.get("second_item_model_share", 0.0)),
        )


@dataclass(frozen=True)
class TuningSettings:
    """[tuning] Choosing the ranker on the data at every training (spark_store/selection.py).
    Every bound is a count fixed before tuning starts, so what is measured and chosen depends on
    the data, these settings and the seed only; `limit_s` is a safety net that reports itself
    when hit."""

    flag_prefix: ClassVar[str] = "tuning_"

    enabled: bool = True
    """Choose GetTopN's ranker (item-item model, blend with ALS and popularity) on a validation
    split of the training data at every training and retrain; false keeps the [models] settings."""
    split: str = "random"
    """How validation is held out of each user's ratings: "random" (the protocol `movierec
    evaluate` measures with) or "time" (their latest ratings, where the data has timestamps)."""
    max_ratings: int = 1_000_000
    """Tuning fits its candidates on at most this many ratings: on a larger data set, whole
    users sampled by a seeded hash (so the choice is the same on any machine at any load)."""
    item_models: int = 8
    """How many item-item models are measured, each alone and blended: the first ones of the
    fixed list cosine, EASE^R (lambda 10x the mean count), RP3beta 0.3, EASE^R 25x, 3x, 60x,
    RP3beta 0.5, 0.7."""
    blended_models: int = 2
    """Of the item-item models, the ones best alone on validation are blended with ALS and
    popularity (a coordinate search, ten scorings each): this many."""
    rating_fits: int = 4
    """PredictRating's tuning (bias shrinkage, ALS regParam and rank, by validation RMSE) makes
    at most this many ALS fits beyond the configured settings and the configured ALS on the
    chosen biases: the regParams nearest the configured one first (7 covers the whole grid,
    ranks included; each fit costs about as much as training PredictRating's model)."""
    limit_s: float = 3600.0
    """A safety net, not a budget: tuning that runs this long stops measuring; what it left is
    logged at WARNING, counted in metrics and listed in GetModelInfo."""
    retune_growth: float = 0.2
    """A retrain reuses the serving model's tuning unless the data grew by this share since
    that tuning (or retune_every retrains reused it, or the operator asks); 0 re-tunes always."""
    retune_every: int = 5
    """A retrain re-tunes after this many retrains in a row reused a tuning."""
    validation_fraction: float = 0.2
    """Share of each user's ratings held out for validation."""
    ease_max_items: int = 5000
    """EASE^R's dense item matrix covers at most this many most-rated movies (memory grows with
    its square: X'X (kept across the lambdas tuning tries), a ridged copy, its inverse and the
    weights are 5000 x 5000 float32, 100 MB each, at most three at once while it is fitted; the
    served matrix is float32, 100 MB at 5000, per loaded model version)."""
    max_validation_users: int = 3000
    """Validation scores a reproducible sample of at most this many users."""
    k: int = 10
    """Candidates are compared by NDCG at this many movies."""
    seed: int = 42
    """Seed of the validation split and the samples of users, so a choice can be repeated."""

    def __post_init__(self) -> None:
        for name, low in (
            ("ease_max_items", 1), ("max_validation_users", 1), ("max_ratings", 1), ("k", 1),
            ("item_models", 0), ("blended_models", 0), ("rating_fits", 0), ("retune_every", 0),
            ("limit_s", 0), ("retune_growth", 0),
        ):  # fmt: skip
            if getattr(self, name) < low:
                raise ValueError(f"tuning_{name} must be at least {low}, not {getattr(self, name)}")
        if self.split not in ("random", "time"):
            raise ValueError(f"tuning_split must be one of random, time, not {self.split!r}")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(
                "tuning_validation_fraction must be between 0 and 1, "
                f"not {self.validation_fraction}"
            )


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
    item_item: ItemScorer | None = None  # the ranker's item-item part; None: neighbours

    @property
    def ranker_item_item(self) -> ItemScorer:
        return self.item_item if self.item_item is not None else self.neighbours


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
