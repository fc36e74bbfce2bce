"""Builds the configured adapters: the Spark engine, the rating log (file or JetStream), the list
store (Spark SQL or MySQL). The composition root (service.py), the trainer and the CLI's offline
jobs build theirs here; none of them owns what this returns until it takes it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rec_service.app.config import Config
from rec_service.app.list_stores.mysql import MySqlListStore
from rec_service.app.rating_logs.file_log import RatingLog
from rec_service.app.rating_logs.jetstream import JetStreamLog
from rec_service.core.durable_log import DurableLog
from rec_service.core.list_store import ListStore
from spark_store.engine import SparkEngine


def start_engine(config: Config) -> SparkEngine:
    """Starts Spark (the JVM) with the configured master, memory and settings."""
    return SparkEngine.start(config.spark)


def open_rating_log(
    config: Config, on_connection: Callable[[bool], None] | None = None
) -> DurableLog:
    """The configured rating log: the file log under ingest_dir, or the shared JetStream one
    (`on_connection` hears whether NATS is reachable, as that changes)."""
    if config.log.backend == "jetstream":
        return JetStreamLog(
            config.log.nats_url,
            config.log.stream,
            config.log.replicas,
            config.log.connect_timeout_s,
            on_connection,
        )
    return RatingLog(Path(config.ingest.ingest_dir) / "log")


def list_store(config: Config, engine: SparkEngine) -> ListStore:
    """The configured list store: the Spark SQL one, or the MySQL baseline."""
    if config.serving.list_store == "mysql":
        return MySqlListStore(config.mysql)
    return engine.list_store()
