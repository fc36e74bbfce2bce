"""One model version loaded for serving: its factors, its tables and what reads need.

The server loads one at start and a retrain loads the next beside it; everything a version
needs is built here, so the swap that follows is a reference change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rec_service.app.config import Config
from rec_service.core.serving_model import Movie, ServingModel
from rec_service.domain.model_types import FactorModel, RecList
from spark_store.engine import Catalogue, SparkEngine, VersionTables


@dataclass
class Generation:
    """A loaded model version with its Spark tables (cached until released)."""

    factors: FactorModel
    model: ServingModel
    tables: VersionTables  # the `ratings` and `movies` tables while this version serves

    def release(self) -> None:
        """Drops the cached tables once a newer generation serves."""
        self.tables.release()


def load_generation(engine: SparkEngine, config: Config, catalogue: Catalogue) -> Generation:
    """Loads the saved model in config.models.model_dir with the ratings it was trained on."""
    loaded = engine.load_version(config.models.model_dir, catalogue)
    factors = loaded.factors
    movies = [
        Movie(movie_id, title, genres, count, total, rated)
        for movie_id, title, genres, count, total, rated in loaded.movies
    ]
    trained_at_us = int(datetime.fromisoformat(factors.trained_at).timestamp() * 1_000_000)
    model = ServingModel.build(factors, movies, loaded.ratings, trained_at_us)
    return Generation(factors, model, loaded.tables)


def precompute(
    engine: SparkEngine, config: Config, generation: Generation
) -> list[tuple[str, RecList]]:
    """Bulk lists for the most active users."""
    return engine.precompute(
        generation.factors,
        config.models.model_dir,
        generation.tables,
        config.serving.active_users,
        config.serving.list_length,
        generation.model.item_rating_count,
    )
