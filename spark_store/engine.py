"""The service's one door into Spark: every Spark step of start-up, serving tables, retrain and
operator SQL, behind plain-value methods.

`rec_service` composes the service from these methods and never touches a DataFrame or a session
itself; what it holds of Spark (a catalogue, one model version's tables) it holds as opaque
handles that it can only publish or release. So the serving core and the wiring stay free of
pyspark, and a different engine would replace this module, not the service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from rec_service.domain.model_types import (
    FactorModel,
    ModelSettings,
    RatingScale,
    RecList,
    ServingChoice,
    TrainingData,
    TuningSettings,
)
from spark_store import model_files, tables
from spark_store.activity_store import ActivityStore
from spark_store.cancellation import Cancellable
from spark_store.columns import numeric_columns
from spark_store.holdout import RatingSet
from spark_store.list_store import SparkListStore, bulk_lists
from spark_store.loaders import load_dataset
from spark_store.models import TrainedModels, train_models
from spark_store.operator_sql import OperatorSql, SqlLimits
from spark_store.precompute import precompute_lists
from spark_store.session import SparkSettings, build_session
from spark_store.table_loader import TableLayout
from spark_store.training import apply_index
from spark_store.training_data import delete_path, merge_logged, read_ratings

# (movie_id, title, genres, rating_count, rating_sum, rated_count) per catalogue movie
MovieRow = tuple[str, str, tuple[str, ...], int, float, int]
# (user_id, movie_id, rating, event_us, accepted_us) per rating accepted since the data cut
LiveRating = tuple[str, str, float, int, int]
LIVE_RATINGS_VIEW = "rating_log"


class Catalogue:
    """The data set's movies (cached), joined with each model version's rating statistics."""

    def __init__(self, movies: DataFrame) -> None:
        self._movies = movies.cache()

    def release(self) -> None:
        self._movies.unpersist()


class VersionTables:
    """One model version's training ratings and catalogue with statistics, cached: the
    `ratings` and `movies` tables while the version serves, and the input of bulk precompute."""

    def __init__(self, ratings: DataFrame, movies: DataFrame, indexed: DataFrame) -> None:
        self.ratings, self.movies, self.indexed = ratings, movies, indexed

    def publish(self) -> None:
        """Makes these the `ratings` and `movies` tables operators query."""
        tables.register_ratings_and_movies(self.ratings, self.movies)

    def release(self) -> None:
        """Drops the cached DataFrames once a newer version serves."""
        for df in (self.ratings, self.movies, self.indexed):
            df.unpersist()


@dataclass(frozen=True)
class LoadedVersion:
    """A saved model as NumPy on the driver, with what building its serving model needs."""

    factors: FactorModel
    movies: list[MovieRow]
    ratings: tuple[np.ndarray, np.ndarray, np.ndarray]  # user index, item index, rating
    tables: VersionTables


class SparkEngine:
    """A Spark session and the service's operations on it; local or cluster by its master."""

    def __init__(self, session: SparkSession) -> None:
        self.session = session

    @classmethod
    def start(cls, settings: SparkSettings) -> SparkEngine:
        return cls(
            build_session(
                master=settings.master,
                driver_memory=settings.driver_memory,
                shuffle_partitions=settings.shuffle_partitions,
                extra_conf=settings.conf,
                checkpoint_dir=settings.checkpoint_dir,
            )
        )

    def is_up(self) -> bool:
        try:
            return not self.session.sparkContext._jsc.sc().isStopped()
        except Exception:  # the JVM is gone: the gateway itself fails
            return False

    def stop(self) -> None:
        self.session.stop()

    def cancellable(self, what: str) -> Cancellable:
        """A piece of background work (`what`: retrain, load) shutdown can cancel."""
        return Cancellable(self.session, what)

    # --- start-up and model versions ---

    def load_catalogue(self, path: str, fmt: str, layout: TableLayout | None) -> Catalogue:
        return Catalogue(load_dataset(self.session, path, fmt, layout).movies)

    def load_ratings(self, path: str, fmt: str, layout: TableLayout | None) -> RatingSet:
        """A data set's ratings, for offline jobs (evaluate, tune)."""
        return RatingSet(self.session, load_dataset(self.session, path, fmt, layout).ratings)

    def model_exists(self, model_dir: str) -> bool:
        """model_dir (a path or a Spark/Hadoop filesystem URL) holds a model of this format."""
        return model_files.model_exists(self.session, model_dir)

    def model_metadata(self, model_dir: str) -> dict[str, Any]:
        """The saved model's metadata.json: version, settings, training data, data cut."""
        return model_files.read_metadata(self.session, model_dir)

    def saved_choice(self, model_dir: str) -> ServingChoice | None:
        """The saved model's version, settings and tuning record: what a retrain measures
        against and may reuse; None when model_dir holds no model."""
        if not self.model_exists(model_dir):
            return None
        meta = self.model_metadata(model_dir)
        settings = ModelSettings.from_dict(meta["settings"])
        return ServingChoice(str(meta["version"]), settings, meta.get("tuning"))

    def load_version(self, model_dir: str, catalogue: Catalogue) -> LoadedVersion:
        """The saved model in model_dir with the ratings it was trained on."""
        spark = self.session
        factors = model_files.load_model(spark, model_dir)
        ratings = read_ratings(spark, factors.training_data).cache()
        movies_df = tables.movies_with_stats(ratings, catalogue._movies)
        indexed = apply_index(spark, ratings, factors.user_ids, factors.item_ids).cache()
        movie_rows = movies_df.select(
            "movie_id",
            "title",
            "genres",
            "rating_count",
            (F.coalesce(F.col("mean_rating"), F.lit(0.0)) * F.col("rated_count")).alias("sum"),
            "rated_count",
        ).collect()
        movies = [
            (
                r.movie_id,
                r.title,
                tuple(r.genres or ()),
                int(r.rating_count),
                float(r.sum),
                int(r.rated_count),
            )
            for r in movie_rows
        ]
        # NaN: an interaction without a rating (ServingModel.rated_ratings)
        users, items, values = numeric_columns(
            indexed.select("user_idx", "item_idx", "rating"), (np.int64, np.int64, np.float32)
        )
        return LoadedVersion(
            factors, movies, (users, items, values), VersionTables(ratings, movies_df, indexed)
        )

    def precompute(
        self,
        factors: FactorModel,
        model_dir: str,
        version_tables: VersionTables,
        active_users: int,
        list_length: int,
        popularity: np.ndarray,
    ) -> list[tuple[str, RecList]]:
        """Lists for the most active users (by the user_activity table), stamped with the
        model's data cut: a user who rated after the cut has later activity, so their list is
        stale and recomputed with fold-in."""
        return bulk_lists(
            precompute_lists(
                self.session,
                factors,
                model_dir,
                version_tables.indexed,
                tables.most_active_users(self.session, active_users),
                list_length,
                factors.data_cut_us,
                popularity,
            )
        )

    # --- serving tables ---

    def list_store(self) -> SparkListStore:
        return SparkListStore(self.session)

    def activity_store(self, version_tables: VersionTables, data_cut_us: int) -> ActivityStore:
        """The user_activity table, first filled from the version's training ratings."""
        store = ActivityStore(self.session)
        store.load(tables.activity_from_ratings(version_tables.ratings, data_cut_us))
        return store

    def operator_sql(
        self, limits: SqlLimits, live_ratings: Callable[[], Iterable[LiveRating]]
    ) -> OperatorSql:
        """Operator SQL over the service's tables and the `rating_log` view of `live_ratings`
        (what was accepted since the serving model's data cut), rebuilt for each query."""

        def live_view(session: SparkSession) -> DataFrame:
            return session.createDataFrame(
                list(live_ratings()),
                "user_id string, movie_id string, rating double, event_us long, accepted_us long",
            ).selectExpr(
                "user_id",
                "movie_id",
                "rating",
                "timestamp_micros(event_us) AS event_time",
                "timestamp_micros(accepted_us) AS accepted_at",
            )

        return OperatorSql(
            self.session, tables.SERVICE_VIEWS, limits, extra_views={LIVE_RATINGS_VIEW: live_view}
        )

    # --- training ---

    def write_snapshot(
        self,
        base: TrainingData,
        logged: Iterable[tuple[str, str, float, int, int, int]],
        target: TrainingData,
    ) -> None:
        """Writes base + logged ratings (the last per (user, movie) wins) to target, Parquet."""
        merged = merge_logged(self.session, read_ratings(self.session, base), logged)
        merged.write.mode("overwrite").parquet(target.path)

    def train(
        self,
        data: TrainingData,
        settings: ModelSettings,
        scale: RatingScale | None,
        tuning: TuningSettings | None = None,
        serving: ServingChoice | None = None,
        retune: bool = False,
    ) -> TrainedModels:
        """Fits every model on `data` (the ranker tuned on it first, or the serving model's
        tuning reused, unless tuning is off); `save` writes them out."""
        ratings = read_ratings(self.session, data)
        return train_models(self.session, ratings, settings, scale, tuning, serving, retune)

    def save(
        self, trained: TrainedModels, model_dir: str, data: TrainingData, data_cut_us: int
    ) -> str:
        """Saves the models atomically to model_dir; returns the version."""
        return model_files.save_model(self.session, trained, model_dir, data, data_cut_us)

    def delete_path(self, path: str) -> None:
        delete_path(self.session, path)
