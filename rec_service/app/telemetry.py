"""Prometheus metrics of the running service (edge/call_log.py times and logs the RPCs).

Each service has a registry of its own (tests run several services in one process). Counters
and histograms are updated where things happen; values that already exist somewhere (the
serving model's version, the write-back queue, the rating log's size, Spark's liveness) are
read when Prometheus scrapes, by a collector, rather than copied on every change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from spark_store.retune import TUNING_RESULTS

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
FSYNC_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)
BATCH_BUCKETS = (1, 10, 100, 500, 1000, 4096, 16384)


class ServiceView(Protocol):
    """What the scrape-time collector reads from the running service (each part may be
    missing while the service loads)."""

    def scrape_values(self) -> dict[str, float]: ...

    def list_freshness(self) -> dict[str, int]: ...

    def model_version(self) -> str: ...


class Telemetry:
    """Every metric of one service, in its own registry."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.rpc_requests = Counter(
            "movierec_rpc_requests", "RPCs handled, by method and status code",
            ["method", "code"], registry=r,
        )  # fmt: skip
        self.rpc_seconds = Histogram(
            "movierec_rpc_duration_seconds", "RPC latency from handler start to its answer",
            ["method"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.topn_answers = Counter(
            "movierec_topn_answers", "GetTopN answers (batched ones too), by list source",
            ["source"], registry=r,
        )  # fmt: skip
        self.recompute_seconds = Histogram(
            "movierec_recompute_duration_seconds",
            "Recomputing one stale list from the model (lazy update), write-back queued",
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.ingest_events = Counter(
            "movierec_ingest_events", "Rating events received, by outcome (accepted/rejected)",
            ["outcome"], registry=r,
        )  # fmt: skip
        self.ingest_batch = Histogram(
            "movierec_ingest_batch_size", "Accepted events made durable by one commit",
            buckets=BATCH_BUCKETS, registry=r,
        )  # fmt: skip
        self.fsync_seconds = Histogram(
            "movierec_rating_log_fsync_duration_seconds", "One fsync of the rating log",
            buckets=FSYNC_BUCKETS, registry=r,
        )  # fmt: skip
        self.sql_queries = Counter(
            "movierec_sql_queries", "QuerySql calls by outcome (ok, refused, failed, "
            "timed_out, busy)", ["outcome"], registry=r,
        )  # fmt: skip
        self.retrain_runs = Counter(
            "movierec_retrain_runs", "Finished retrains by outcome (succeeded/failed/cancelled)",
            ["outcome"], registry=r,
        )  # fmt: skip
        self.retrain_stage_seconds = Gauge(
            "movierec_retrain_stage_duration_seconds", "Each stage's time in the last retrain",
            ["stage"], registry=r,
        )  # fmt: skip
        self.retrain_last_success = Gauge(
            "movierec_retrain_last_success_timestamp_seconds",
            "When the last successful retrain finished (Unix time; 0 = none yet)",
            registry=r,
        )  # fmt: skip
        self.retrain_tuning = Counter(
            "movierec_retrain_tuning", "Successful retrains by how their ranker was chosen "
            "(first, unchanged, changed, kept: the serving settings stayed, reused, off)",
            ["result"], registry=r,
        )  # fmt: skip
        self.tuning_skipped = Counter(
            "movierec_tuning_skipped_candidates",
            "Tuning candidates left unmeasured because the tuning limit (tuning_limit_s) was hit",
            registry=r,
        )  # fmt: skip
        for result in TUNING_RESULTS:
            self.retrain_tuning.labels(result)
        for outcome in ("accepted", "rejected"):
            self.ingest_events.labels(outcome)
        for outcome in ("succeeded", "failed", "cancelled"):
            self.retrain_runs.labels(outcome)

    def events_checked(self, accepted: int, rejected: int) -> None:
        """Ingestion's counts (core.ingest.IngestMetrics)."""
        self.ingest_events.labels("accepted").inc(accepted)
        self.ingest_events.labels("rejected").inc(rejected)

    def batch_committed(self, size: int) -> None:
        self.ingest_batch.observe(size)

    def watch(self, service: ServiceView) -> None:
        """Reads the service's current values at every scrape."""
        self.registry.register(_ServiceCollector(service))

    def serve(self, host: str, port: int) -> int:
        """Serves /metrics over HTTP on its own port (0 picks one); returns the bound port."""
        server, _ = start_http_server(port, addr=host, registry=self.registry)
        return int(server.server_port)


GAUGES = {
    "rating_log_bytes": "Bytes in the rating log's segments on disk",
    "rating_log_skipped_records": "Lines of the rating log that were not valid ratings, "
    "skipped and never applied (another publisher on a shared stream)",
    "writeback_queue_lists": "Rewritten lists waiting to be merged into rec_lists",
    "writeback_lag_seconds": "Age of the oldest list waiting to reach rec_lists",
    "activity_queue_users": "Users whose last activity waits to reach user_activity",
    "ratings_since_model": "Ratings accepted since the serving model's data cut",
    "spark_up": "1 while the Spark driver (the JVM) is up",
    "serving": "1 while health says SERVING",
}


class _ServiceCollector(Collector):
    def __init__(self, service: ServiceView) -> None:
        self._service = service

    def collect(self) -> Iterable[Any]:
        values = self._service.scrape_values()
        for name, doc in GAUGES.items():
            if name in values:
                yield GaugeMetricFamily(f"movierec_{name}", doc, value=values[name])
        lists = GaugeMetricFamily(
            "movierec_lists",
            "Users by what a read of their list would do: fresh (served as stored), stale "
            "(recomputed: an older model's list or activity since), missing (a trained user "
            "without a list: computed on the first read)",
            labels=["state"],
        )
        for state, count in self._service.list_freshness().items():
            lists.add_metric([state], count)
        yield lists
        info = InfoMetricFamily("movierec_model", "The serving model version")
        info.add_metric([], {"version": self._service.model_version()})
        yield info
