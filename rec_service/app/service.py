"""The composition root: builds the service's components, hands each only what it needs, and
owns their life (Spark session, rating log, model, tables, lists, threads, health).

Start-up: open the rating log, train a model if there is none (on the base data plus the log),
load it with its training data, replay the ratings logged since its data cut, precompute the
most active users' lists. The server listens meanwhile; health says NOT_SERVING and reads get
UNAVAILABLE until the recommender is ready.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from grpc_health.v1 import health_pb2

from rec_service.app.config import Config
from rec_service.app.generation import Generation, load_generation, precompute
from rec_service.app.health_states import HealthStates
from rec_service.app.operator_queries import OperatorQueries
from rec_service.app.parts import Operations, ReadWrite, Replica
from rec_service.app.rating_logs.follower import LocalLog, LogFollower
from rec_service.app.rating_logs.jetstream import JetStreamLog, LogUnreachable, NatsAccessError
from rec_service.app.replica_control import ReplicaControl
from rec_service.app.retrain import Retrainer, RetrainJob, base_data, build_model, compact, replay
from rec_service.app.telemetry import Telemetry
from rec_service.app.wiring import list_store, open_rating_log, start_engine
from rec_service.core.durable_log import DurableLog, LoggedRating
from rec_service.core.ingest import Ingestor
from rec_service.core.list_store import ListStore
from rec_service.core.live_model import LiveModel
from rec_service.core.loaded import Loaded
from rec_service.core.recommender import Recommender, now_us
from spark_store import model_files
from spark_store.activity_store import ActivityStore
from spark_store.cancellation import Cancellable, checkpoint
from spark_store.engine import Catalogue, SparkEngine
from spark_store.model_files import ModelDirDamaged
from spark_store.operator_sql import SqlLimits

log = logging.getLogger(__name__)
SERVICE_NAME = "movierec.v1.RecommendationService"
# Writers' health: NOT_SERVING while the rating log cannot store ratings (NATS unreachable),
# while reads, answered from memory, stay SERVING under the other names.
INGESTION_SERVICE_NAME = "movierec.v1.RecommendationService/IngestRatings"
ADMIN_SERVICE_NAME = "movierec.v1.AdminService"
HEALTH_NAMES = ("", SERVICE_NAME, ADMIN_SERVICE_NAME, INGESTION_SERVICE_NAME)
SHUTDOWN = "cancelled by shutdown"  # what a cancelled load or retrain says
JVM_CHECK_S = 2.0  # how often a serving process checks that its Spark JVM is alive


def ensure_model(engine: SparkEngine, config: Config, rating_log: DurableLog) -> None:
    """Makes model_dir hold a model consistent with the manifest, training one if needed.

    A model trained on fewer log segments than the manifest's base holds (an older model put
    back by hand) would miss ratings already compacted out of the log: it is retrained. A model
    ahead of the manifest (a crash between saving it and compacting) finishes its compaction.
    """
    base = base_data(config)
    if engine.model_exists(config.models.model_dir):
        meta = engine.model_metadata(config.models.model_dir)
        data = model_files.training_data_of(meta) if "training_data" in meta else None
        here = rating_log.name
        if data is not None and data.through_in(here) >= base.through_in(here):
            compact(engine, config, rating_log, data)
            return
        log.warning(
            "model in %s predates the rating log's base; retraining", config.models.model_dir
        )
    else:
        log.info("no model in %s: training one (first start)", config.models.model_dir)
    built = build_model(engine, config, rating_log)
    compact(engine, config, rating_log, built.data)


# Objects allocated between two young-generation collections. Ingestion allocates a few objects
# per rating in batches of thousands; with Python's default (700) most of a batch survived into
# the old generation and full collections ran often, each pausing every read for 100-600 ms
# under sustained ingestion (measured). With room for whole batches they die young.
GC_YOUNG_THRESHOLD = 50_000


def tune_gc() -> None:
    """Freezes what start-up built (models, Spark and gRPC internals) out of the collector's
    scans and lets ingestion batches die young; reads then rarely meet a long pause."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


# The start-up stages in order (Service.start_spark, then Service.load).
START_STAGES = (
    "spark session",
    "open rating log",
    "load catalogue",
    "ensure model",
    "load model",
    "user_activity table",
    "replay rating log",
    "precompute lists",
)


@dataclass
class LoadTimings:
    """Seconds per start-up stage, logged and reported by the benchmark; on_stage hears of
    each stage as it starts (serve's progress on a terminal)."""

    stages: dict[str, float] = field(default_factory=dict)
    on_stage: Callable[[str], None] | None = None

    def run(self, name: str, step: Callable[[], object]) -> object:
        checkpoint()  # a load cancelled by shutdown stops here, if not in a Spark job
        log.info("start-up: %s ...", name)
        if self.on_stage is not None:
            self.on_stage(name)
        started = time.perf_counter()
        result = step()
        self.stages[name] = time.perf_counter() - started
        log.info("start-up: %s done in %.2f s", name, self.stages[name])
        return result


@dataclass(frozen=True)
class _StageResults:
    """What start-up's data stages built, before the serving parts are put together."""

    rating_log: DurableLog
    catalogue: Catalogue
    generation: Generation
    activity: ActivityStore
    live: LiveModel
    replayed_through: tuple[int, int]
    lists: ListStore


class Service:
    """Builds the components at start-up (load) and owns them until close. The servicers get
    only `read_write` or `operations` (each UNAVAILABLE until loaded) and the telemetry."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.telemetry = Telemetry()
        self.telemetry.watch(self)
        self.metrics_port: int | None = None  # bound by create_server when metrics are on
        self.dashboard_port: int | None = None  # bound by create_server when the dashboard is on
        self._closers: list[Callable[[], None]] = []  # what the edge started beside the service
        self.health = HealthStates()
        for name in HEALTH_NAMES:
            self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        self.engine: SparkEngine | None = None
        self.timings = LoadTimings()
        self.rating_log: DurableLog | None = None
        self.read_write: Loaded[ReadWrite] = Loaded("model")
        self.operations: Loaded[Operations] = Loaded("model")
        self._catalogue: Catalogue | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._retrainer: Retrainer | None = None
        self._draining = False
        # Set by the edge when shutdown's grace period is over: calls still running then are
        # ended by the server (their clients see UNAVAILABLE), and recorded so.
        self.grace_over = threading.Event()
        self._log_reachable = True  # whether the rating log can store ratings now
        self.fatal = ""  # why this process must exit for its supervisor (the JVM died)
        self._load_error: BaseException | None = None
        self._loading: Cancellable | None = None  # the load's Spark work, which shutdown cancels
        self._load_thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None
        self._follower: LogFollower | None = None
        self._control: ReplicaControl | None = None

    # Shorthands for tests and tools that drive a whole service; UNAVAILABLE while loading.
    def recommender(self) -> Recommender:
        return self.read_write.get().recommender

    def retrainer(self) -> Retrainer:
        return self.operations.get().retrainer

    def operator_sql(self) -> OperatorQueries:
        return self.operations.get().operator_sql

    @property
    def load_ended(self) -> bool:
        """Whether loading is over, served or failed."""
        return self._ready.is_set()

    @property
    def load_failed(self) -> bool:
        """Whether loading ended in an error (the log has it)."""
        return self._load_error is not None

    def start_loading(self) -> threading.Thread:
        thread = threading.Thread(target=self._load_guarded, name="movierec-load", daemon=True)
        self._load_thread = thread
        thread.start()
        return thread

    def _load_guarded(self) -> None:
        work = None
        try:
            work = self.start_spark().cancellable("load")
            with self._lock:
                self._loading = work
                if self._draining:
                    work.cancel(SHUTDOWN)
            with work.running():
                self.load()
            with self._lock:
                self._loading = None  # loaded: nothing left to cancel
        except BaseException as exc:  # the server must report it, not die silently
            if work is not None and work.cancelled:  # an ordinary shutdown, not a failure
                log.warning("start-up: loading %s", work.reason)
            elif isinstance(exc, LogUnreachable | ModelDirDamaged | NatsAccessError):  # named
                log.error("start-up failed: %s", exc)
                self._load_error = exc
            else:
                log.exception("loading failed")
                self._load_error = exc
            self._ready.set()

    def start_spark(self) -> SparkEngine:
        """Starts Spark (the JVM). Call it before the gRPC server starts: launching the JVM
        from a process whose gRPC threads are running fails in gRPC's fork handlers."""
        if self.engine is None:
            self.engine = self.timings.run("spark session", lambda: start_engine(self.config))  # type: ignore[assignment]
        assert self.engine is not None
        return self.engine

    def load(self) -> Recommender:
        """Runs every start-up stage and flips health to SERVING."""
        started = time.perf_counter()
        engine = self.start_spark()
        built = self._run_stages(engine)
        recommender, retrainer = self._assemble(engine, built)
        self._go_live(started, recommender, retrainer)
        return recommender

    def _run_stages(self, engine: SparkEngine) -> _StageResults:
        """Start-up's data stages, timed: the log, the catalogue, the model (trained if
        missing), its tables, the replay of the log since its cut and the precomputed lists."""
        cfg = self.config
        t = self.timings
        rating_log: DurableLog = t.run(  # type: ignore[assignment]
            "open rating log", lambda: open_rating_log(cfg, self._log_connection)
        )
        rating_log.on_fsync = self.telemetry.fsync_seconds.observe
        self.rating_log = rating_log
        catalogue: Catalogue = t.run(  # type: ignore[assignment]
            "load catalogue",
            lambda: engine.load_catalogue(
                cfg.data.data_dir, cfg.data.data_format, cfg.data.layout()
            ),
        )
        self._catalogue = catalogue
        t.run("ensure model", lambda: ensure_model(engine, cfg, rating_log))
        generation: Generation = t.run(  # type: ignore[assignment]
            "load model", lambda: load_generation(engine, cfg, catalogue)
        )
        generation.tables.publish()
        if isinstance(rating_log, JetStreamLog):  # another publisher's ratings must fit it too
            rating_log.rating_scale = generation.factors.scale
        activity: ActivityStore = t.run(  # type: ignore[assignment]
            "user_activity table",
            lambda: engine.activity_store(generation.tables, generation.factors.data_cut_us),
        )
        training_data = generation.factors.training_data
        live = LiveModel(generation.model, training_data.through_in(rating_log.name))

        def replayed_activity(chunk: list[LoggedRating]) -> None:
            for record in chunk:
                activity.record_activity(record.user_id, record.accepted_us)

        replayed_through: tuple[int, int] = t.run(  # type: ignore[assignment]
            "replay rating log", lambda: replay(rating_log, live, on_chunk=replayed_activity)
        )
        log.info("replayed %d logged ratings since the model's data cut", live.rating_count)
        lists = list_store(cfg, engine)
        count = t.run(
            "precompute lists",
            lambda: lists.load_bulk(precompute(engine, cfg, generation)),
        )
        log.info("precomputed %s lists for the most active users", count)
        return _StageResults(
            rating_log, catalogue, generation, activity, live, replayed_through, lists
        )

    def _assemble(self, engine: SparkEngine, built: _StageResults) -> tuple[Recommender, Retrainer]:
        """The serving parts over what the stages built, handed to the servicers."""
        cfg = self.config
        rating_log, catalogue, generation = built.rating_log, built.catalogue, built.generation
        live, lists, activity = built.live, built.lists, built.activity
        recommender = Recommender(
            live, lists, activity, cfg.serving.list_length, self.telemetry.recompute_seconds.observe
        )
        replica = self._replica(rating_log, recommender, built.replayed_through[0])
        ingestor = Ingestor(
            rating_log,
            recommender,
            cfg.ingest.ingest_max_future_s,
            self.telemetry,
            visible=lambda logged: replica.visible(logged, recommender.apply),
        )
        control = (
            ReplicaControl(rating_log, cfg.log.lease_ttl_s)
            if isinstance(rating_log, JetStreamLog)
            else None
        )
        retrainer = Retrainer(
            engine,
            cfg,
            rating_log,
            recommender,
            catalogue,
            generation,
            self._retrain_finished,
            control=control,
            holder=f"{socket.gethostname()}:{os.getpid()}",
        )
        retrainer.expect_stage_seconds(
            {
                "train models": float(generation.factors.metadata.get("fit_seconds", 0.0)),
                "load model": self.timings.stages.get("load model", 0.0),
                "precompute lists": self.timings.stages.get("precompute lists", 0.0),
            }
        )
        if control is not None:  # a version another replica built is loaded here too
            control.watch(serving=lambda: recommender.live.version, adopt=retrainer.adopt)
            self._control = control
        operator_sql = engine.operator_sql(
            SqlLimits(
                cfg.admin.sql_timeout_s,
                cfg.admin.sql_max_concurrent,
                cfg.admin.sql_max_result_bytes,
            ),
            live_ratings=lambda: (
                (r.user_id, r.movie_id, r.rating, r.event_us, r.accepted_us)
                for r in recommender.live.live_ratings()
            ),
        )
        self._retrainer = retrainer
        self.read_write.set(ReadWrite(recommender, ingestor, cfg.ingest.ingest_batch, replica))
        self.operations.set(
            Operations(
                recommender,
                retrainer,
                OperatorQueries(operator_sql, self.telemetry.sql_queries),
                lambda: self.flush(counts=True),
            )
        )
        return recommender, retrainer

    def _go_live(self, started: float, recommender: Recommender, retrainer: Retrainer) -> None:
        """The write-back and retrain schedule started, health SERVING, the JVM watched."""
        live = recommender.live
        self._writer = threading.Thread(
            target=self._write_back, name="movierec-writeback", daemon=True
        )
        self._writer.start()
        retrainer.start_schedule()
        self.timings.stages["total"] = time.perf_counter() - started
        tune_gc()
        for name in HEALTH_NAMES:
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        self._ready.set()
        self._log_connection(self._log_reachable)
        threading.Thread(target=self._watch_jvm, name="movierec-jvm-watch", daemon=True).start()
        log.info("serving model %s (start-up %.1f s)", live.version, self.timings.stages["total"])

    def _watch_jvm(self) -> None:
        """The Spark JVM is part of this process's health: once it is gone (died, killed by the
        kernel's OOM killer) retrains, queries and list write-back cannot work, so health turns
        NOT_SERVING within JVM_CHECK_S and `fatal` tells serve to drain and exit non-zero for
        its supervisor to start it again. Reads from memory are answered meanwhile."""
        engine = self.engine
        while engine is not None and not self._stop.wait(JVM_CHECK_S):
            if engine.is_up() or self._draining:
                continue
            self.fatal = "the Spark JVM is gone (it died or was killed)"
            log.error("%s: health is NOT_SERVING; the process exits for a restart", self.fatal)
            for name in HEALTH_NAMES:
                self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
            return

    def _log_connection(self, reachable: bool) -> None:
        """Whether the rating log can store ratings changed (NATS reachable, the file log's
        disk taking writes): writers' health follows it once the service serves; reads are
        unaffected."""
        self._log_reachable = reachable
        if self._ready.is_set() and self._load_error is None and not self._draining:
            status = health_pb2.HealthCheckResponse
            self.health.set(
                INGESTION_SERVICE_NAME, status.SERVING if reachable else status.NOT_SERVING
            )

    def _replica(
        self, rating_log: DurableLog, recommender: Recommender, next_position: int
    ) -> Replica:
        """This process as a replica of its rating log: alone on the file log; on JetStream,
        following every message after the start-up replay, from any replica."""
        if not isinstance(rating_log, JetStreamLog):
            return LocalLog()
        follower = LogFollower(
            rating_log, recommender.apply, next_position, self.config.log.read_wait_s
        )
        follower.start()
        self._follower = follower
        return follower

    def _retrain_finished(self, job: RetrainJob) -> None:
        t = self.telemetry
        t.retrain_runs.labels(job.state).inc()
        for stage, seconds in job.stage_seconds.items():
            t.retrain_stage_seconds.labels(stage).set(seconds)
        if job.state == "succeeded":
            t.retrain_last_success.set(job.finished_us / 1e6)
        if job.tuning_result:  # a retrain built here (not a version another replica built)
            t.tuning_skipped.inc(job.tuning_skipped)
            if job.state == "succeeded":
                t.retrain_tuning.labels(job.tuning_result).inc()

    def model_version(self) -> str:
        """The serving model's version ("" while loading), for metrics."""
        parts = self.read_write.peek()
        return parts.recommender.live.version if parts is not None else ""

    def list_freshness(self) -> dict[str, int]:
        """Users by what a read of their list would do (Recommender.list_freshness); empty
        while the model loads."""
        parts = self.read_write.peek()
        return parts.recommender.list_freshness() if parts is not None else {}

    def scrape_values(self) -> dict[str, float]:
        """Current gauge values for a metrics scrape; parts not loaded yet are left out."""
        serving = self._ready.is_set() and self._load_error is None
        values: dict[str, float] = {
            "serving": float(serving and not self._draining and not self._stop.is_set())
        }
        if self.engine is not None:
            values["spark_up"] = float(self.engine.is_up())
        if self.rating_log is not None:
            values["rating_log_bytes"] = float(self.rating_log.size_bytes())
            values["rating_log_skipped_records"] = float(self.rating_log.skipped_records)
        parts = self.read_write.peek()
        if parts is not None:
            rec = parts.recommender
            values["ratings_since_model"] = float(rec.live.rating_count)
            pending = getattr(rec.lists, "pending", None)
            if pending is not None:
                count, oldest_us = pending()
                values["writeback_queue_lists"] = float(count)
                values["writeback_lag_seconds"] = (now_us() - oldest_us) / 1e6 if count else 0.0
            values["activity_queue_users"] = float(rec.activity.pending())
        return values

    def begin_shutdown(self) -> None:
        """Health says NOT_SERVING for every service name from now on, whatever loads later."""
        self._draining = True
        self.health.enter_graceful_shutdown()
        self._cancel_background(SHUTDOWN)

    def _cancel_background(self, reason: str) -> None:
        """Cancels a load or retrain in progress: its Spark jobs stop, it cleans up after
        itself and ends (close waits for that before Spark may be stopped)."""
        with self._lock:
            loading = self._loading
        if loading is not None:
            loading.cancel(reason)
        if self._retrainer is not None:
            self._retrainer.cancel(reason)

    def flush(self, counts: bool = True) -> None:
        """Writes queued lists and activity (with read counts, unless counts=False) now."""
        parts = self.read_write.peek()
        if parts is not None:
            rec = parts.recommender
            rec.lists.flush()
            rec.activity.flush(counts=counts)

    def _write_back(self) -> None:
        last_counts = time.monotonic()
        while not self._stop.wait(self.config.serving.writeback_interval_s):
            if self.fatal:
                return  # nothing to write to
            try:
                counts = time.monotonic() - last_counts >= self.config.serving.access_count_flush_s
                self.flush(counts=counts)
                if counts:
                    last_counts = time.monotonic()
            except Exception:
                log.exception("write-back to the Spark SQL tables failed; will retry")

    def stop_with_service(self, closer: Callable[[], None]) -> None:
        """Runs `closer` first when the service closes (the dashboard's HTTP server)."""
        self._closers.append(closer)

    def close(self, wait_s: float = 30.0) -> bool:
        """Stops the threads after one last flush and releases the rating log. A load or
        retrain in progress is cancelled first and given up to `wait_s` to end; returns whether
        it did (if not, Spark must not be stopped under it: the process should just exit)."""
        for closer in self._closers:
            closer()
        self._closers.clear()
        self._stop.set()
        self._cancel_background("stopped")
        deadline = time.monotonic() + wait_s
        load_thread = self._load_thread
        if load_thread is not None and load_thread is not threading.current_thread():
            load_thread.join(max(deadline - time.monotonic(), 0.0))
        ended = load_thread is None or not load_thread.is_alive()
        if self._retrainer is not None:
            ended = self._retrainer.wait(max(deadline - time.monotonic(), 0.0)) and ended
        if self._writer is not None:
            self._writer.join(timeout=30)
        if self._follower is not None:
            self._follower.stop()
        if self._control is not None:
            self._control.stop()
        if not self.fatal:  # with the JVM gone, its tables and caches went with it
            try:
                self.flush()
            except Exception:
                log.exception("final write-back failed")
        if self.rating_log is not None:
            self.rating_log.close()
        # The serving generation's cached DataFrames go too: a process (the test suite) that
        # runs services one after another in one JVM would otherwise keep every one cached.
        if self._retrainer is not None and not self.fatal:
            self._retrainer.generation.release()
        if self._catalogue is not None and not self.fatal:
            self._catalogue.release()
        for name in HEALTH_NAMES:
            self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        return ended
