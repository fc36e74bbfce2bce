"""How far this replica has applied the rating log, and what a read that asks for a position
waits for (read-your-writes across replicas).

- `LocalLog` (the file log, one process): every acknowledged rating was applied before its
  acknowledgement, so nothing is ever waited for and tokens are 0.
- `LogFollower` (JetStream, shared by replicas): a thread applies every message of the stream
  after this replica's start-up replay, in stream order, whichever replica accepted it: the
  ratings fold in and their users' last activity moves, as for a local ingest. A read carrying
  `min_log_position` waits until the follower is there, up to `log_read_wait_s`, then answers
  UNAVAILABLE (retryable).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from rec_service.app.rating_logs.jetstream import JetStreamLog
from rec_service.core.durable_log import LoggedRating
from rec_service.core.errors import Unavailable

log = logging.getLogger(__name__)

# Messages applied per batch, and how long one wait for new messages lasts (the stop check).
FOLLOW_BATCH = 256
FOLLOW_WAIT_S = 0.5
RETRY_AFTER_ERROR_S = 1.0


class LocalLog:
    """The file log's replica: one process, which applied everything it acknowledged."""

    def visible(
        self, logged: list[LoggedRating], apply: Callable[[list[LoggedRating]], None]
    ) -> int:
        apply(logged)
        return 0

    def has_applied(self, position: int) -> bool:
        return True

    def require(self, position: int) -> None:
        """Nothing to wait for: no other process writes this log."""


class LogFollower:
    """Applies the shared stream from `next_sequence` on to this replica, in order."""

    def __init__(
        self,
        rating_log: JetStreamLog,
        apply: Callable[[list[LoggedRating]], None],
        next_sequence: int,
        read_wait_s: float,
    ) -> None:
        self._log, self._apply = rating_log, apply
        self._read_wait_s = read_wait_s
        self.applied = next_sequence - 1  # the last sequence applied here
        self._moved = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="movierec-follow", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=FOLLOW_WAIT_S * 4 + 10)

    def visible(
        self, logged: list[LoggedRating], apply: Callable[[list[LoggedRating]], None]
    ) -> int:
        """An ingest on this replica: the follower applies it in stream order like any other
        replica's; the acknowledgement waits for that (up to the read bound) so a read here
        right after sees it. Returns the token that makes a read anywhere see it."""
        token = max(r.position[0] for r in logged)
        self._wait(token, self._read_wait_s)
        return token

    def has_applied(self, position: int) -> bool:
        """Whether a read asking for `position` can be answered now, without waiting."""
        return position <= self.applied

    def require(self, position: int) -> None:
        """Returns once `position` is applied here; UNAVAILABLE after the read bound."""
        if position > self.applied and not self._wait(position, self._read_wait_s):
            raise Unavailable(
                f"this replica has applied the rating log through {self.applied}, not yet "
                f"{position}; retry (here or at another replica)"
            )

    def _wait(self, position: int, timeout: float) -> bool:
        with self._moved:
            return self._moved.wait_for(lambda: self.applied >= position, timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                reader = self._log.follow_from(self.applied + 1)
            except Exception:
                log.exception("following the rating log: cannot subscribe; retrying")
                self._stop.wait(RETRY_AFTER_ERROR_S)
                continue
            try:
                while not self._stop.is_set():
                    batch = reader.take(FOLLOW_BATCH, wait=FOLLOW_WAIT_S)
                    fresh = [(seq, records) for seq, records in batch if seq > self.applied]
                    if not fresh:
                        continue
                    self._apply([r for _, records in fresh for r in records])
                    with self._moved:
                        self.applied = fresh[-1][0]
                        self._moved.notify_all()
            except Exception:
                log.exception("following the rating log failed at %d; resubscribing", self.applied)
                self._stop.wait(RETRY_AFTER_ERROR_S)
            finally:
                reader.close()
