"""Loads the service: Spark session, data, model (train or load), tables, precomputed lists.

The server listens while this runs; health says NOT_SERVING and reads get UNAVAILABLE until
the recommender is ready.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from grpc_health.v1 import health, health_pb2
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from rec_service.config import Config
from rec_service.errors import Unavailable
from rec_service.recommender import Recommender, now_us
from rec_service.serving_model import Movie, ServingModel
from spark_store import model_files, tables
from spark_store.activity_store import ActivityStore
from spark_store.list_store import SparkListStore
from spark_store.loaders import Dataset, load_dataset
from spark_store.precompute import precompute_lists
from spark_store.session import build_session
from spark_store.training import AlsParams, apply_index, train_als

log = logging.getLogger(__name__)
SERVICE_NAME = "movierec.v1.RecommendationService"


def als_params(config: Config) -> AlsParams:
    return AlsParams(
        rank=config.als_rank,
        reg_param=config.als_reg_param,
        max_iter=config.als_max_iter,
        implicit_prefs=config.als_implicit_prefs,
        alpha=config.als_alpha,
        seed=config.als_seed,
        blocks=config.als_blocks,
    )


def spark_session(config: Config) -> SparkSession:
    return build_session(
        master=config.spark_master,
        driver_memory=config.spark_driver_memory,
        shuffle_partitions=config.spark_shuffle_partitions,
        extra_conf=config.spark_conf,
    )


def train_and_save(spark: SparkSession, config: Config, dataset: Dataset) -> str:
    """Trains ALS on the data set and saves the model directory; returns the version."""
    params = als_params(config)
    trained = train_als(spark, dataset.ratings, params)
    version = model_files.save_model(trained, config.model_dir, params, dataset.path)
    log.info("model %s saved to %s", version, config.model_dir)
    return version


@dataclass
class LoadTimings:
    """Seconds per start-up stage, logged and reported by the benchmark."""

    stages: dict[str, float] = field(default_factory=dict)

    def run(self, name: str, step: Callable[[], object]) -> object:
        log.info("start-up: %s ...", name)
        started = time.perf_counter()
        result = step()
        self.stages[name] = time.perf_counter() - started
        log.info("start-up: %s done in %.2f s", name, self.stages[name])
        return result


class ServiceState:
    """Owns the loaded recommender, the Spark session, health status and the write-back thread."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.health = health.HealthServicer()
        for name in ("", SERVICE_NAME):
            self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        self.spark: SparkSession | None = None
        self.timings = LoadTimings()
        self._recommender: Recommender | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._load_error: BaseException | None = None
        self._writer: threading.Thread | None = None

    def recommender(self) -> Recommender:
        """The ready recommender; UNAVAILABLE while the model is still loading."""
        rec = self._recommender
        if rec is None:
            raise Unavailable("the model is still loading; retry shortly")
        return rec

    @property
    def load_failed(self) -> bool:
        """Whether loading ended in an error (the log has it)."""
        return self._load_error is not None

    def start_loading(self) -> threading.Thread:
        thread = threading.Thread(target=self._load_guarded, name="movierec-load", daemon=True)
        thread.start()
        return thread

    def wait_ready(self, timeout: float | None = None) -> None:
        """Blocks until loaded; re-raises a load failure."""
        if not self._ready.wait(timeout):
            raise TimeoutError("service did not load in time")
        if self._load_error is not None:
            raise RuntimeError("service failed to load") from self._load_error

    def _load_guarded(self) -> None:
        try:
            self.load()
        except BaseException as exc:  # the server must report it, not die silently
            log.exception("loading failed")
            self._load_error = exc
            self._ready.set()

    def start_spark(self) -> SparkSession:
        """Starts the Spark session (the JVM). Call it before the gRPC server starts: launching
        the JVM from a process whose gRPC threads are running fails in gRPC's fork handlers."""
        if self.spark is None:
            self.spark = self.timings.run("spark session", lambda: spark_session(self.config))  # type: ignore[assignment]
        assert self.spark is not None
        return self.spark

    def load(self) -> Recommender:
        """Runs every start-up stage and flips health to SERVING."""
        cfg = self.config
        t = self.timings
        started = time.perf_counter()
        spark = self.start_spark()
        dataset: Dataset = t.run(  # type: ignore[assignment]
            "load data", lambda: load_dataset(spark, cfg.data_dir, cfg.data_format)
        )
        movies_df = t.run(
            "register ratings and movies",
            lambda: tables.register_ratings_and_movies(spark, dataset.ratings, dataset.movies),
        )
        if not model_files.model_exists(cfg.model_dir):
            log.info("no model in %s: training one (first start)", cfg.model_dir)
            t.run("train model", lambda: train_and_save(spark, cfg, dataset))
        factors: model_files.FactorModel = t.run(  # type: ignore[assignment]
            "load model", lambda: model_files.load_model(spark, cfg.model_dir)
        )
        indexed = apply_index(spark, dataset.ratings, factors.user_ids, factors.item_ids).cache()
        model: ServingModel = t.run(  # type: ignore[assignment]
            "build serving model", lambda: self._serving_model(factors, movies_df, indexed)
        )
        activity = ActivityStore(spark)
        t.run(
            "user_activity table",
            lambda: activity.load(tables.activity_from_ratings(dataset.ratings)),
        )
        lists = SparkListStore(spark)
        computed_at = now_us()
        count = t.run(
            "precompute lists",
            lambda: lists.load_bulk(
                precompute_lists(
                    spark,
                    factors,
                    cfg.model_dir,
                    indexed,
                    tables.most_active_users(spark, cfg.active_users),
                    cfg.list_length,
                    computed_at,
                )
            ),
        )
        log.info("precomputed %s lists for the most active users", count)
        self._recommender = Recommender(model, lists, activity, cfg.list_length)
        self._writer = threading.Thread(
            target=self._write_back, name="movierec-writeback", daemon=True
        )
        self._writer.start()
        self.timings.stages["total"] = time.perf_counter() - started
        for name in ("", SERVICE_NAME):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        self._ready.set()
        log.info("serving model %s (start-up %.1f s)", model.version, self.timings.stages["total"])
        return self._recommender

    @staticmethod
    def _serving_model(
        factors: model_files.FactorModel, movies_df: object, indexed: object
    ) -> ServingModel:
        movie_rows = movies_df.select(  # type: ignore[attr-defined]
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
        pairs = indexed.select("user_idx", "item_idx").collect()  # type: ignore[attr-defined]
        users = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
        items = np.fromiter((p[1] for p in pairs), dtype=np.int64, count=len(pairs))
        trained_at_us = int(datetime.fromisoformat(factors.trained_at).timestamp() * 1_000_000)
        return ServingModel.build(factors, movies, (users, items), trained_at_us)

    def flush(self, counts: bool = True) -> None:
        """Writes queued lists and activity (with read counts, unless counts=False) now."""
        rec = self._recommender
        if rec is not None:
            rec.lists.flush()
            rec.activity.flush(counts=counts)

    def _write_back(self) -> None:
        last_counts = time.monotonic()
        while not self._stop.wait(self.config.writeback_interval_s):
            try:
                counts = time.monotonic() - last_counts >= self.config.access_count_flush_s
                self.flush(counts=counts)
                if counts:
                    last_counts = time.monotonic()
            except Exception:
                log.exception("write-back to the Spark SQL tables failed; will retry")

    def close(self) -> None:
        """Stops the write-back thread after one last flush."""
        self._stop.set()
        if self._writer is not None:
            self._writer.join(timeout=30)
        try:
            self.flush()
        except Exception:
            log.exception("final write-back failed")
        for name in ("", SERVICE_NAME):
            self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
