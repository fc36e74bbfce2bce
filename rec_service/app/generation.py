"""One model version loaded for serving: its factors, its training data and what reads need.

The server loads one at start and a retrain loads the next beside it; everything a version
needs is built here, so the swap that follows is a reference change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from rec_service.app.config import Config
from rec_service.core.serving_model import Movie, ServingModel
from spark_store import model_files, tables
from spark_store.list_store import bulk_lists
from spark_store.model_types import FactorModel, RecList
from spark_store.precompute import precompute_lists
from spark_store.training import apply_index
from spark_store.training_data import read_ratings


@dataclass
class Generation:
    """A loaded model version with its training ratings (cached DataFrames)."""

    factors: FactorModel
    model: ServingModel
    ratings: DataFrame  # the training ratings: the `ratings` table while this version serves
    movies: DataFrame  # the catalogue with rating statistics: the `movies` table
    indexed: DataFrame  # ratings with model indices, for bulk precompute

    def release(self) -> None:
        """Drops the cached DataFrames once a newer generation serves."""
        for df in (self.ratings, self.movies, self.indexed):
            df.unpersist()


def load_generation(spark: SparkSession, config: Config, catalogue: DataFrame) -> Generation:
    """Loads the saved model in config.models.model_dir with the ratings it was trained on."""
    factors = model_files.load_model(spark, config.models.model_dir)
    ratings = read_ratings(spark, factors.training_data).cache()
    movies = tables.movies_with_stats(ratings, catalogue)
    indexed = apply_index(spark, ratings, factors.user_ids, factors.item_ids).cache()
    return Generation(factors, _serving_model(factors, movies, indexed), ratings, movies, indexed)


def _serving_model(factors: FactorModel, movies_df: DataFrame, indexed: DataFrame) -> ServingModel:
    movie_rows = movies_df.select(
        "movie_id",
        "title",
        "genres",
        "rating_count",
        (F.coalesce(F.col("mean_rating"), F.lit(0.0)) * F.col("rating_count")).alias("sum"),
    ).collect()
    movies = [
        Movie(r.movie_id, r.title, tuple(r.genres or ()), int(r.rating_count), float(r.sum))
        for r in movie_rows
    ]
    rows = indexed.select("user_idx", "item_idx", "rating").collect()
    users = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    items = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    values = np.fromiter((r[2] for r in rows), dtype=np.float32, count=len(rows))
    trained_at_us = int(datetime.fromisoformat(factors.trained_at).timestamp() * 1_000_000)
    return ServingModel.build(factors, movies, (users, items, values), trained_at_us)


def precompute(
    spark: SparkSession, config: Config, generation: Generation
) -> list[tuple[str, RecList]]:
    """Lists for the most active users, stamped with the model's data cut: a user who rated
    after the cut has later activity, so their list is stale and recomputed with fold-in."""
    return bulk_lists(
        precompute_lists(
            spark,
            generation.factors,
            config.models.model_dir,
            generation.indexed,
            tables.most_active_users(spark, config.serving.active_users),
            config.serving.list_length,
            generation.factors.data_cut_us,
        )
    )
