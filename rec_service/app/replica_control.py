"""What serving replicas on one JetStream log agree on, kept in JetStream's key-value store:

- the retrain lease: one replica retrains at a time. Taking it is a create (compare-and-set on
  "no value"); the holder renews it every third of `log_lease_ttl_s`; a holder that dies stops
  renewing and the bucket's TTL expires the lease, so another replica can take it. No election
  of our own: JetStream orders the writes.
- the model announcement: the version the lease holder saved to the shared model_dir. Every
  replica watches it and loads an announced version it does not serve yet beside the serving
  one, precomputes and swaps, as after its own retrain.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from nats.js.api import KeyValueConfig
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from rec_service.app.rating_logs.jetstream import JetStreamLog

log = logging.getLogger(__name__)

LEASE_KEY = "retrain"
MODEL_KEY = "serving"
WATCH_INTERVAL_S = 1.0


class Lease:
    """A held retrain lease, renewed in the background until released."""

    def __init__(self, control: ReplicaControl, revision: int, holder: str) -> None:
        self._control, self._revision, self.holder = control, revision, holder
        self._released = threading.Event()
        self._renewer = threading.Thread(target=self._renew, name="movierec-lease", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._released.wait(self._control.lease_ttl_s / 3):
            try:
                self._revision = self._control.renew(self.holder, self._revision)
            except Exception:
                log.exception("retrain lease: renewal failed; another replica may take it")
                return

    def release(self) -> None:
        self._released.set()
        self._renewer.join(timeout=10)
        try:
            self._control.give_up(self._revision)
        except Exception:  # expired or taken over: nothing of ours to delete
            log.warning("retrain lease: not released (expired?)", exc_info=True)


class ReplicaControl:
    """The lease and announcement buckets of one stream's replicas."""

    def __init__(self, rating_log: JetStreamLog, lease_ttl_s: float) -> None:
        self._log = rating_log
        self.lease_ttl_s = lease_ttl_s
        self._lease_kv = rating_log.call(self._bucket(f"{rating_log.stream}_lease", lease_ttl_s))
        self._model_kv = rating_log.call(self._bucket(f"{rating_log.stream}_models", 0.0))
        self._stop = threading.Event()

    async def _bucket(self, name: str, ttl: float) -> KeyValue:
        js = self._log.jetstream
        try:
            return await js.key_value(name)
        except BucketNotFoundError:
            return await js.create_key_value(KeyValueConfig(bucket=name, history=1, ttl=ttl))

    def renew(self, holder: str, revision: int) -> int:
        """Rewrites the lease if it is still at `revision` (ours); its new revision."""
        return self._log.call(self._lease_kv.update(LEASE_KEY, holder.encode(), last=revision))

    def give_up(self, revision: int) -> None:
        self._log.call(self._lease_kv.delete(LEASE_KEY, last=revision))

    def try_lease(self, holder: str) -> Lease | str:
        """The lease, or the name of the replica that holds it."""
        try:
            revision = self._log.call(self._lease_kv.create(LEASE_KEY, holder.encode()))
        except KeyWrongLastSequenceError:
            try:
                entry = self._log.call(self._lease_kv.get(LEASE_KEY))
                return (entry.value or b"?").decode()
            except KeyNotFoundError:  # released just now: try again next time
                return "another replica (just released)"
        return Lease(self, revision, holder)

    def announce(self, version: str) -> None:
        self._log.call(self._model_kv.put(MODEL_KEY, version.encode()))

    def announced(self) -> str | None:
        try:
            entry = self._log.call(self._model_kv.get(MODEL_KEY))
        except KeyNotFoundError:
            return None
        return (entry.value or b"").decode() or None

    def watch(self, serving: Callable[[], str], adopt: Callable[[str], None]) -> None:
        """Calls adopt(version) from a thread whenever the announced version is not the one
        `serving()` returns."""

        def run() -> None:
            while not self._stop.wait(WATCH_INTERVAL_S):
                try:
                    version = self.announced()
                    if version is not None and version != serving():
                        adopt(version)
                except Exception:
                    log.exception("watching the announced model failed; retrying")

        threading.Thread(target=run, name="movierec-model-watch", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
