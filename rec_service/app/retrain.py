"""Near-online retrain: a full Spark ALS fit on the base data plus the rating log, swapped in.

Stages, in the order that keeps every acknowledged rating safe:
  1. cut the log       rotate to a new segment; later ratings are folded into the new model
  2. merge ratings     base + closed segments, newest rating per (user, movie), persisted as a
                       Parquet snapshot
  3. train models      Spark, local or cluster, on the snapshot: the ranker tuned on a validation
                       split of it, then ranking ALS, rating ALS, Item-CF and the item model
  4. save model        atomic model directory naming its training data and data cut
  5. load model        factors, training data and serving structures beside the serving model
  6. precompute lists  for the most active users, in bulk
  7. swap model        replay ratings logged since the cut into the new model, then one
                       reference change; reads are served throughout
  8. compact log       the manifest moves to the snapshot; merged segments are deleted
Reads never wait on any of it. A failed retrain leaves the old model serving and the log whole.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rec_service.app.config import Config
from rec_service.app.generation import Generation, load_generation, precompute
from rec_service.app.replica_control import Lease, ReplicaControl
from rec_service.core.durable_log import DurableLog, LoggedRating
from rec_service.core.live_model import LiveModel
from rec_service.core.recommender import Recommender, now_us
from rec_service.domain.model_types import (
    AlsParams,
    BiasParams,
    ModelSettings,
    RatingScale,
    RecList,
    TrainingData,
)
from spark_store.cancellation import Cancellable
from spark_store.engine import Catalogue, SparkEngine
from spark_store.model_files import ModelDirDamaged
from spark_store.table_loader import parse_scale
from spark_store.training_data import PARQUET, read_manifest, write_manifest

log = logging.getLogger(__name__)

STAGES = (
    "cut the log",
    "merge ratings",
    "train models",
    "save model",
    "load model",
    "precompute lists",
    "swap model",
    "compact log",
)
REPLAY_CHUNK = 50_000


def model_settings(config: Config) -> ModelSettings:
    return ModelSettings(
        ranking=AlsParams(
            rank=config.models.als_rank,
            reg_param=config.models.als_reg_param,
            max_iter=config.models.als_max_iter,
            implicit_prefs=config.models.als_implicit_prefs,
            alpha=config.models.als_alpha,
            seed=config.models.als_seed,
            blocks=config.models.als_blocks,
        ),
        rating=AlsParams(
            rank=config.models.rating_rank,
            reg_param=config.models.rating_reg_param,
            max_iter=config.models.rating_max_iter,
            seed=config.models.als_seed,
            blocks=config.models.als_blocks,
        ),
        bias=BiasParams(reg_item=config.models.bias_reg_item, reg_user=config.models.bias_reg_user),
        cf_neighbours=config.models.cf_neighbours,
        cf_ratings_per_user=config.models.cf_ratings_per_user,
        cf_pairs_per_rating=config.models.cf_pairs_per_rating,
        blend_als_weight=config.models.blend_als_weight,
    )


def base_data(config: Config) -> TrainingData:
    """The manifest's base, or the configured MovieLens directory before any retrain."""
    layout = config.data.layout()
    first = TrainingData(
        config.data.data_dir,
        config.data.data_format,
        0,
        layout.as_dict() if layout is not None else {},
    )
    return read_manifest(config.ingest.ingest_dir, first)


def fixed_scale(config: Config) -> RatingScale | None:
    """The rating scale the settings give, or None to read it off the training data."""
    scale = parse_scale(config.data.rating_scale)
    return RatingScale(*scale) if scale is not None else None


@dataclass(frozen=True)
class Built:
    """A saved model and the data it was trained on."""

    version: str
    data: TrainingData
    rating_count: int
    tuning: str = ""  # how the ranker was chosen (tuning_summary); empty with tuning off
    tuning_result: str = "off"  # one of spark_store.retune.TUNING_RESULTS
    tuning_skipped: int = 0  # candidates the tuning limit left unmeasured


def build_model(
    engine: SparkEngine,
    config: Config,
    rating_log: DurableLog,
    stage: Callable[[str], None] = lambda _: None,
    retune: bool = False,
) -> Built:
    """Stages 1-4: cut the log, merge, train and save. The log is not compacted here. Where
    model_dir holds a model, tuning measures its settings too or reuses its choice
    (spark_store.retune); `retune` asks for a fresh tuning."""
    base = base_data(config)
    stage("cut the log")
    closed, cut_us = rating_log.rotate()
    stage("merge ratings")
    # Only the last rating of each (user, movie) counts: collapsing here keeps the rows shipped
    # to Spark at the number of distinct pairs, however often producers re-sent them.
    latest = {
        (r.user_id, r.movie_id): r
        for r in rating_log.read(
            after_segment=base.through_in(rating_log.name), end=(closed + 1, 0)
        )
    }
    logged = [(u, m, r.rating, r.event_us, *r.position) for (u, m), r in latest.items()]
    if logged:
        # Named by log too: sequence 1 of a JetStream stream is not segment 1 of the file log.
        suffix = "" if rating_log.name == "file" else "-" + rating_log.name.replace(":", "-")
        data = TrainingData(
            f"{config.ingest.snapshot_path}/ratings-through-{closed:08d}{suffix}",
            PARQUET,
            closed,
            log=rating_log.name,
        )
        engine.write_snapshot(base, logged, data)
    else:
        data = replace(base, segments_through=closed, log=rating_log.name)
    log.info("training data: %s (%d logged (user, movie) ratings merged)", data.path, len(logged))
    try:
        stage("train models")
        trained = engine.train(
            data,
            model_settings(config),
            fixed_scale(config),
            config.tuning,
            engine.saved_choice(config.models.model_dir),
            retune,
        )
        stage("save model")
        version = engine.save(trained, config.models.model_dir, data, cut_us)
    except BaseException:
        if logged:  # no model names the snapshot: it would only fill the disk
            engine.delete_path(data.path)
        raise
    log.info("model %s saved to %s", version, config.models.model_dir)
    record = trained.tuning or {}
    return Built(
        version,
        data,
        trained.num_ratings,
        tuning_summary(trained.tuning),
        str(record.get("result", "off")),
        len(record.get("skipped", [])),
    )


def tuning_summary(record: dict[str, Any] | None) -> str:
    """One line on how a model's ranker was chosen: the reuse decision, then the outcome."""
    if not record:
        return ""
    parts = [record.get("decision", ""), record.get("outcome", "")]
    if record.get("reused_from"):
        parts = parts[:1]  # the outcome belongs to the tuning it reused
    if record.get("limit_hit"):
        parts.append(f"the tuning limit was hit: {len(record.get('skipped', []))} skipped")
    return "; ".join(p for p in parts if p)


def compact(
    engine: SparkEngine, config: Config, rating_log: DurableLog, data: TrainingData
) -> None:
    """Stage 8, once a model trained on `data` is saved: move the manifest, drop merged segments
    and the snapshot no longer referenced. Replicas of a shared log share snapshots too, and
    another replica's manifest may still name the previous one: there it stays."""
    previous = base_data(config)
    write_manifest(config.ingest.ingest_dir, data)
    rating_log.advance_past(data.through_in(rating_log.name))
    deleted = rating_log.delete_through(data.through_in(rating_log.name))
    alone = rating_log.name == "file"
    if alone and previous.format == PARQUET and previous.path != data.path:
        engine.delete_path(previous.path)
    log.info("log compacted: segments %s deleted", deleted)


def replay(
    rating_log: DurableLog,
    live: LiveModel,
    start: tuple[int, int] = (0, 0),
    end: tuple[int, int] | None = None,
    on_chunk: Callable[[list[LoggedRating]], None] | None = None,
) -> tuple[int, int]:
    """Applies logged ratings of segments after live.segments_through, from `start` to `end`
    (default: the log's end now), in chunks; returns the end position, a record boundary."""
    end = rating_log.end_position() if end is None else end
    records = rating_log.read(after_segment=live.segments_through, start=start, end=end)
    while chunk := list(itertools.islice(records, REPLAY_CHUNK)):
        live.apply(chunk)
        if on_chunk is not None:
            on_chunk(chunk)
    return end


class LeaseHeld(RuntimeError):
    """Another replica of the shared log is retraining."""


@dataclass
class RetrainJob:
    """One retrain's progress, as GetRetrainStatus reports it."""

    job_id: str
    trigger: str
    started_us: int
    stage: str = ""
    stage_number: int = 0
    state: str = "running"  # running, succeeded, failed, cancelled
    finished_us: int = 0
    rating_count: int = 0
    model_version: str = ""
    error: str = ""
    stage_seconds: dict[str, float] = field(default_factory=dict)
    progress: float = 0.0  # share done, by the weights of stage_weights()
    retune: bool = False  # the operator asked for a fresh tuning
    tuning: str = ""  # how the new model's ranker was chosen (retrain.tuning_summary)
    tuning_result: str = ""  # Built.tuning_result, once trained
    tuning_skipped: int = 0


def stage_weights(stages: Sequence[str], last: dict[str, float]) -> dict[str, float]:
    """Each stage's expected share of a job running `stages`: the seconds it took in the last
    successful retrain (`last`), the mean of those for a stage it did not run, 1 each before
    any ran."""
    known = [last[s] for s in stages if s in last]
    fallback = sum(known) / len(known) if known else 1.0
    seconds = {s: max(last.get(s, fallback), 1e-3) for s in stages}
    total = sum(seconds.values())
    return {s: t / total for s, t in seconds.items()}


class Retrainer:
    """Runs one retrain at a time in the background, on demand or on a schedule."""

    def __init__(
        self,
        engine: SparkEngine,
        config: Config,
        rating_log: DurableLog,
        recommender: Recommender,
        catalogue: Catalogue,
        generation: Generation,
        on_finished: Callable[[RetrainJob], None] | None = None,
        control: ReplicaControl | None = None,
        holder: str = "",
    ) -> None:
        # Replicas of a JetStream log retrain under one lease and load what the holder
        # announces (replica_control.py); alone, this process decides by itself.
        self.control, self.holder = control, holder
        self._adopted: set[str] = set()  # announced versions already tried here
        self.engine = engine
        self._on_finished = on_finished  # for metrics
        self.config = config
        self.log = rating_log
        self.recommender = recommender
        self.catalogue = catalogue
        self.generation = generation
        self.job: RetrainJob | None = None
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stop = threading.Event()
        self._stop_reason = ""
        self._work: Cancellable | None = None  # the running job's, for cancel
        self._thread: threading.Thread | None = None  # the running job's, for wait
        self._scheduler: threading.Thread | None = None
        self._last_model_at = time.monotonic()
        # Each stage's seconds in the last successful job that ran it: progress weights.
        self._last_stage_seconds: dict[str, float] = {}

    def expect_stage_seconds(self, known: dict[str, float]) -> None:
        """Before the first retrain: the seconds some stages are expected to take (training
        from the serving model's own fit, loading and precompute from this start-up), so the
        first retrain's progress is not equal steps that sit at 25% through the training.
        Stages with no estimate are expected to be as short as the shortest known one."""
        known = {name: seconds for name, seconds in known.items() if seconds > 0}
        if self._last_stage_seconds or not known:
            return
        shortest = min(known.values())
        self._last_stage_seconds = {name: known.get(name, shortest) for name in STAGES}

    def trigger(self, reason: str, retune: bool = False) -> tuple[RetrainJob, bool]:
        """Starts a retrain unless one runs; returns the job and whether it was already running.
        `retune` asks for a fresh tuning even where the serving model's could be reused."""
        with self._lock:
            if self.job is not None and self.job.state == "running":
                return self.job, True
            job = RetrainJob(f"retrain-{next(self._ids)}", reason, now_us(), retune=retune)
            self.job = job
            self._thread = threading.Thread(
                target=self._run, args=(job, None), name="movierec-retrain", daemon=True
            )
            self._thread.start()
        return job, False

    def adopt(self, version: str) -> None:
        """Loads the model version another replica announced, unless a retrain runs here (its
        own result comes next) or that version was tried already."""
        with self._lock:
            running = self.job is not None and self.job.state == "running"
            if running or version in self._adopted:
                return
            self._adopted.add(version)
            job = RetrainJob(f"retrain-{next(self._ids)}", f"announced {version}", now_us())
            self.job = job
            self._thread = threading.Thread(
                target=self._run, args=(job, version), name="movierec-adopt", daemon=True
            )
            self._thread.start()

    def _run(self, job: RetrainJob, announced: str | None) -> None:
        """A retrain (announced None): build, load, precompute, swap, compact; or the last
        four stages for a version another replica built and announced. Shutdown cancels it
        (cancel): its Spark jobs stop, it unwinds cleaning up, and the old model stays."""
        stage_started = time.perf_counter()
        weights = stage_weights(
            STAGES if announced is None else STAGES[STAGES.index("load model") :],
            self._last_stage_seconds,
        )
        work = self.engine.cancellable("retrain")
        with self._lock:
            self._work = work
            if self._stop.is_set():
                work.cancel(self._stop_reason)

        def stage(name: str) -> None:
            nonlocal stage_started
            now = time.perf_counter()
            if job.stage:
                job.stage_seconds[job.stage] = now - stage_started
                job.progress += weights[job.stage]
            stage_started = now
            work.check()  # a cancelled job goes no further
            job.stage, job.stage_number = name, STAGES.index(name) + 1
            log.info("%s: stage %d/%d %s", job.job_id, job.stage_number, len(STAGES), name)

        started = time.perf_counter()
        lease = None
        try:
            with work.running():
                if announced is None:
                    lease = self._take_lease()
                    built = build_model(self.engine, self.config, self.log, stage, job.retune)
                    job.rating_count, job.model_version = built.rating_count, built.version
                    job.tuning = built.tuning
                    job.tuning_result = built.tuning_result
                    job.tuning_skipped = built.tuning_skipped
                self._install(job, announced, stage)
            job.stage_seconds[job.stage] = time.perf_counter() - stage_started
            job.progress = 1.0
            self._last_stage_seconds.update(job.stage_seconds)
            job.state = "succeeded"
            log.info(
                "%s: model %s serving after %.1f s",
                job.job_id,
                job.model_version,
                time.perf_counter() - started,
            )
        except Exception as exc:
            if work.cancelled and job.stage == "compact log":
                # Cut after the swap: the new model serves (and is saved); the next start
                # finishes the compaction (ensure_model).
                job.state, job.error = "cancelled", f"{work.reason} after the swap"
                log.warning(
                    "%s: %s while compacting the log; model %s serves, and the next start "
                    "finishes the compaction",
                    job.job_id,
                    work.reason,
                    job.model_version,
                )
            elif work.cancelled:  # whatever the stopped Spark job raised: not a failure
                job.state, job.error = "cancelled", work.reason
                log.warning(
                    "%s: %s in stage %r; the old model keeps serving",
                    job.job_id,
                    work.reason,
                    job.stage,
                )
            elif isinstance(exc, ModelDirDamaged):  # the message names the file
                job.state, job.error = "failed", str(exc)
                log.error("%s failed; the old model keeps serving: %s", job.job_id, exc)
            else:
                job.state = "failed"
                job.error = f"{type(exc).__name__}: {exc}"
                log.error(
                    "%s failed; the old model keeps serving\n%s",
                    job.job_id,
                    traceback.format_exc(),
                )
        finally:
            if lease is not None:
                lease.release()
            job.finished_us = now_us()
            self._last_model_at = time.monotonic()
            if self._on_finished is not None:
                self._on_finished(job)

    def _install(
        self, job: RetrainJob, announced: str | None, stage: Callable[[str], None]
    ) -> None:
        """Stages 5-8: load the saved model, precompute, swap it in, compact the log."""
        stage("load model")
        generation = load_generation(self.engine, self.config, self.catalogue)
        job.model_version = generation.factors.version
        try:
            stage("precompute lists")
            lists = precompute(self.engine, self.config, generation)
            stage("swap model")
        except BaseException:
            generation.release()  # its cached tables; the serving generation's stay
            raise
        self._swap(generation, lists)
        # The new model serves from here on: the compaction is not cancelled (and a crash
        # before it is finished at the next start, ensure_model).
        job.stage, job.stage_number = "compact log", len(STAGES)
        log.info("%s: stage %d/%d compact log", job.job_id, len(STAGES), len(STAGES))
        compact(self.engine, self.config, self.log, generation.factors.training_data)
        if self.control is not None and announced is None:
            self.control.announce(generation.factors.version)

    def _take_lease(self) -> Lease | None:
        """The replicas' retrain lease (None when alone); LeaseHeld when another holds it."""
        if self.control is None:
            return None
        taken = self.control.try_lease(self.holder)
        if isinstance(taken, str):
            raise LeaseHeld(
                f"another replica ({taken}) holds the retrain lease; the model it builds is "
                "loaded here when it announces it"
            )
        return taken

    def _swap(self, generation: Generation, lists: list[tuple[str, RecList]]) -> None:
        training_data = generation.factors.training_data
        live = LiveModel(generation.model, training_data.through_in(self.log.name))
        # Most of the ratings logged since the cut are replayed before the swap; the rest,
        # logged meanwhile, inside it, while no rating can be applied to the old model.
        position = replay(self.log, live)

        def catch_up(new_live: LiveModel) -> None:
            replay(self.log, new_live, start=position)

        self.recommender.swap(live, catch_up)
        self.recommender.lists.put_many(lists)
        generation.tables.publish()
        previous, self.generation = self.generation, generation
        previous.release()

    def start_schedule(self) -> None:
        """Retrains every retrain_interval_s (when ratings came in) or after
        retrain_after_ratings new ratings, whichever comes first; 0 turns a rule off."""
        cfg = self.config
        if cfg.retrain.interval_s <= 0 and cfg.retrain.after_ratings <= 0:
            return
        self._scheduler = threading.Thread(
            target=self._schedule, name="movierec-retrain-schedule", daemon=True
        )
        self._scheduler.start()

    def _schedule(self) -> None:
        cfg = self.config
        while not self._stop.wait(1.0):
            pending = self.recommender.live.rating_count
            if pending == 0:
                continue
            if cfg.retrain.after_ratings > 0 and pending >= cfg.retrain.after_ratings:
                self.trigger("rating count")
            elif (
                cfg.retrain.interval_s > 0
                and time.monotonic() - self._last_model_at >= cfg.retrain.interval_s
            ):
                self.trigger("schedule")

    def cancel(self, reason: str) -> None:
        """No retrain starts from now on and the running one (if any) is cancelled: it stops
        at its next Spark job or stage and says `reason` in GetRetrainStatus and the log."""
        with self._lock:
            if not self._stop.is_set():  # the first reason is the one that stays
                self._stop_reason = reason
                self._stop.set()
            work = self._work
        if work is not None:
            work.cancel(reason)

    def wait(self, timeout_s: float) -> bool:
        """Whether no retrain runs, after waiting up to `timeout_s` for the running one."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
        return thread is None or not thread.is_alive()

    def close(self) -> None:
        self.cancel("stopped")
