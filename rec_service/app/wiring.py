"""Builds the configured adapters: the Spark engine, the rating log (file or JetStream), the list
store (Spark SQL or MySQL). The composition root (service.py), the trainer and the CLI's offline
jobs build theirs here, and each closes what it was given.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from rec_service.app.config import Config, LogSettings
from rec_service.app.list_stores.mysql import MySqlListStore
from rec_service.app.rating_logs.file_log import RatingLog
from rec_service.app.rating_logs.jetstream import JetStreamLog, NatsAccess, NatsAccessError
from rec_service.app.secret_files import read_secret
from rec_service.core.durable_log import DurableLog
from rec_service.core.list_store import ListStore
from spark_store.engine import SparkEngine


def start_engine(config: Config) -> SparkEngine:
    """Starts Spark (the JVM) with the configured master, memory and settings."""
    return SparkEngine.start(config.spark)


def open_rating_log(
    config: Config, on_connection: Callable[[bool], None] | None = None
) -> DurableLog:
    """The configured rating log: the file log under ingest_dir, or the shared JetStream one.
    `on_connection` hears whether the log can store ratings, as that changes: NATS reachable,
    or the file log's disk taking writes."""
    if config.log.backend == "jetstream":
        return JetStreamLog(
            config.log.nats_url,
            config.log.stream,
            config.log.replicas,
            config.log.connect_timeout_s,
            on_connection,
            nats_access(config.log),
        )
    return RatingLog(Path(config.ingest.ingest_dir) / "log", on_writable=on_connection)


def list_store(config: Config, engine: SparkEngine) -> ListStore:
    """The configured list store: the Spark SQL one, or the MySQL baseline."""
    if config.serving.list_store == "mysql":
        return MySqlListStore(config.mysql)
    return engine.list_store()


# Secrets the NATS connection may take from the environment (no flag exists for them: a flag
# shows in `ps`); the settings name files instead.
NATS_PASSWORD_ENV = "MOVIEREC_NATS_PASSWORD"
NATS_TOKEN_ENV = "MOVIEREC_NATS_TOKEN"


def nats_access(log: LogSettings, environ: Mapping[str, str] | None = None) -> NatsAccess:
    """The NATS connection's TLS and credential, secrets read from their files or the
    environment; a file that cannot be read is named."""
    environ = os.environ if environ is None else environ
    try:
        password = read_secret(
            environ.get(NATS_PASSWORD_ENV, ""),
            NATS_PASSWORD_ENV,
            log.nats_password_file,
            "log_nats_password_file",
        )
        token = read_secret(
            environ.get(NATS_TOKEN_ENV, ""),
            NATS_TOKEN_ENV,
            log.nats_token_file,
            "log_nats_token_file",
        )
    except ValueError as exc:
        raise NatsAccessError(str(exc)) from None
    access = NatsAccess(
        tls_ca_file=log.nats_tls_ca_file,
        tls_cert_file=log.nats_tls_cert_file,
        tls_key_file=log.nats_tls_key_file,
        creds_file=log.nats_creds_file,
        user=log.nats_user,
        password=password,
        token=token,
    )
    access.check()
    return access
