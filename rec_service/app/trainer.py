"""`movierec train --follow`: a trainer process beside the serving replicas of a JetStream log.

It serves nothing. It counts the ratings the stream holds after its last model's cut and, by
the same rules as a server's own schedule (`retrain_after_ratings`, `retrain_interval_s`),
retrains: it takes the replicas' retrain lease (replica_control.py), builds and saves the model
to the shared model_dir, compacts, announces the version and lets the lease go. Every replica
loads the announced version beside the serving one, precomputes and swaps. A replica whose own
schedule is due meanwhile is refused the lease, so replicas beside a trainer run with both
rules at 0 (docs/scaling.md).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from rec_service.app.config import Config
from rec_service.app.rating_logs.jetstream import JetStreamLog
from rec_service.app.replica_control import ReplicaControl
from rec_service.app.retrain import base_data, build_model, compact, fixed_scale
from rec_service.app.wiring import open_rating_log, start_engine
from rec_service.domain.model_types import RatingScale
from spark_store import model_files
from spark_store.cancellation import Cancellable
from spark_store.engine import SparkEngine

log = logging.getLogger(__name__)

POLL_S = 1.0
RETRY_AFTER_FAILURE_S = 60.0  # a retrain that failed is not tried again at once


def follow(config: Config, stop: threading.Event) -> None:
    """Runs a FollowingTrainer on the configured JetStream log until `stop` is set."""
    if config.log.backend != "jetstream":
        raise ValueError(
            "train --follow trains for the replicas of a shared log: it needs log_backend = "
            "jetstream (on the file log the server retrains itself)"
        )
    rating_log = open_rating_log(config)
    assert isinstance(rating_log, JetStreamLog)
    control = ReplicaControl(rating_log, config.log.lease_ttl_s)
    try:
        holder = f"trainer {socket.gethostname()}:{os.getpid()}"
        engine = start_engine(config)
        rating_log.rating_scale = serving_scale(engine, config)
        trainer = FollowingTrainer(engine, config, rating_log, control, holder)

        def cancel_on_stop() -> None:  # a retrain in progress stops within the grace period
            stop.wait()
            trainer.cancel("cancelled by shutdown")

        threading.Thread(target=cancel_on_stop, name="movierec-trainer-stop", daemon=True).start()
        trainer.run(stop)
    finally:
        control.stop()
        rating_log.close()


def serving_scale(engine: SparkEngine, config: Config) -> RatingScale | None:
    """The rating scale the stream's ratings must fit (another publisher's may not): the
    configured one, else the saved model's; None before any model (read off the data)."""
    scale = fixed_scale(config)
    if scale is None and engine.model_exists(config.models.model_dir):
        scale = RatingScale(**engine.model_metadata(config.models.model_dir)["scale"])
    return scale


class FollowingTrainer:
    """Retrains on the stream's ratings whenever the schedule rules say so, one lease at a
    time with the replicas."""

    def __init__(
        self,
        engine: SparkEngine,
        config: Config,
        rating_log: JetStreamLog,
        control: ReplicaControl,
        holder: str,
    ) -> None:
        self.engine, self.config, self.log = engine, config, rating_log
        self.control, self.holder = control, holder
        self.retrains = 0
        self._model: str | None = None  # the announced version _through belongs to
        self._through = base_data(config).through_in(rating_log.name)
        self._counted_to = (0, 0)  # stream position up to which pending ratings are counted
        self.pending = 0  # ratings after the cut of the model the replicas serve
        self._last_model_at = time.monotonic()
        self._not_before = 0.0  # monotonic time before which no retrain is tried
        self._lock = threading.Lock()
        self._work: Cancellable | None = None  # the running retrain's, for cancel
        self._cancelled = ""  # why retraining stopped for good ("" while it goes on)

    def run(self, stop: threading.Event) -> None:
        """Retrains when due until `stop` is set; the first model at once if none exists."""
        due = not self.engine.model_exists(self.config.models.model_dir)
        while not stop.is_set():
            self._follow_announcements()
            self._count_new_ratings()
            if due or self._due():
                self.retrain_once()
            due = False
            stop.wait(POLL_S)

    def cancel(self, reason: str) -> None:
        """From any thread: the running retrain stops (its Spark jobs at once), none follows."""
        with self._lock:
            self._cancelled = self._cancelled or reason
            work = self._work
        if work is not None:
            work.cancel(reason)

    def _follow_announcements(self) -> None:
        """A model a replica built (it held the lease when its own schedule was due) moves the
        cut too: its ratings are not pending any more."""
        announced = self.control.announced()
        if announced is None or announced == self._model:
            return
        meta = self.engine.model_metadata(self.config.models.model_dir)
        if meta.get("version") != announced or "training_data" not in meta:
            return  # announced before this process can see the files: next poll
        self._model = announced
        through = model_files.training_data_of(meta).through_in(self.log.name)
        if through != self._through:
            self._through, self._counted_to, self.pending = through, (0, 0), 0
            self._last_model_at = time.monotonic()

    def _due(self) -> bool:
        rules = self.config.retrain
        if self.pending == 0 or time.monotonic() < self._not_before:
            return False
        if rules.after_ratings > 0 and self.pending >= rules.after_ratings:
            return True
        elapsed = time.monotonic() - self._last_model_at
        return rules.interval_s > 0 and elapsed >= rules.interval_s

    def _count_new_ratings(self) -> None:
        end = self.log.end_position()
        for _ in self.log.read(after_segment=self._through, start=self._counted_to, end=end):
            self.pending += 1
        self._counted_to = end

    def retrain_once(self) -> str | None:
        """One retrain under the lease; the version announced, or None when a replica holds
        the lease (its model is the one the replicas load) or the retrain failed."""
        lease = self.control.try_lease(self.holder)
        if isinstance(lease, str):
            log.info("trainer: %s holds the retrain lease; waiting for the next turn", lease)
            return None
        work = self.engine.cancellable("retrain")
        with self._lock:
            self._work = work
            if self._cancelled:
                work.cancel(self._cancelled)
        try:
            with work.running():
                built = build_model(self.engine, self.config, self.log, lambda _: work.check())
            compact(self.engine, self.config, self.log, built.data)
            self.control.announce(built.version)
        except Exception:
            if work.cancelled:
                log.warning("trainer: retrain %s; the replicas keep their model", work.reason)
                return None
            log.exception("trainer: retrain failed; the replicas keep their model")
            self._not_before = time.monotonic() + RETRY_AFTER_FAILURE_S
            return None
        finally:
            lease.release()
        self.retrains += 1
        self._model, self._through = built.version, built.data.through_in(self.log.name)
        self._counted_to, self.pending = (0, 0), 0
        self._last_model_at = time.monotonic()
        log.info(
            "trainer: model %s announced (%d ratings from %s)",
            built.version,
            built.rating_count,
            built.data.path,
        )
        return built.version
