"""Cancelling the Spark work one thread runs (a retrain, a load) from another (shutdown).

Stopping the JVM under a thread that is still fitting a model crashed the process (SIGTERM
during a retrain: segmentation faults, or a traceback from a stopped SparkContext). Instead the
work runs inside a `Cancellable`: its Spark jobs carry a job tag that `cancel` stops at once,
and the work calls `checkpoint()` between steps (stages, tuning candidates, model fits), where
a cancelled one raises `Cancelled`. Spark cancels only the jobs running at that moment, and
a model fit starts many in a row: so the tag is cancelled again every CANCEL_REPEAT_S until
the work has ended, and a job it starts meanwhile fails within that. The thread then ends by
itself, cleaning up as it unwinds, and only after that is Spark stopped.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pyspark.sql import SparkSession

log = logging.getLogger(__name__)
_current = threading.local()  # the Cancellable this thread runs in, if any
_ids = itertools.count(1)
CANCEL_REPEAT_S = 0.2


class Cancelled(Exception):
    """The work was cancelled (by shutdown); not a failure."""


class Cancellable:
    """One piece of background work that another thread may cancel."""

    def __init__(self, session: SparkSession, what: str) -> None:
        self._session = session
        self.tag = f"movierec-{what}-{next(_ids)}"
        self._cancelled = threading.Event()
        self._ended = threading.Event()  # the running block is over
        self.reason = ""

    @contextmanager
    def running(self) -> Iterator[Cancellable]:
        """Runs the calling thread's Spark jobs under this work's tag until the block ends."""
        context = self._session.sparkContext
        context.addJobTag(self.tag)  # per thread: Python threads are pinned to JVM threads
        _current.work = self
        try:
            self.check()
            yield self
        finally:
            self._ended.set()
            _current.work = None
            context.removeJobTag(self.tag)

    def cancel(self, reason: str) -> None:
        """From any thread: the running Spark jobs stop now, the next checkpoint raises."""
        if self._cancelled.is_set():
            return  # the first reason is the one that stays
        self.reason = reason
        self._cancelled.set()
        if self._ended.is_set():
            return  # nothing runs any more
        log.info("%s: cancelling its Spark jobs (%s)", self.tag, reason)
        threading.Thread(target=self._keep_cancelling, name="movierec-cancel", daemon=True).start()

    def _keep_cancelling(self) -> None:
        context = self._session.sparkContext
        while True:
            try:
                context.cancelJobsWithTag(self.tag)
            except Exception as exc:  # the JVM is gone: the next checkpoint stops the work
                log.warning("%s: its Spark jobs could not be cancelled: %s", self.tag, exc)
                return
            if self._ended.wait(CANCEL_REPEAT_S):
                return

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def check(self) -> None:
        if self._cancelled.is_set():
            raise Cancelled(self.reason)


def checkpoint() -> None:
    """Raises Cancelled if the work this thread runs was cancelled; a no-op outside any."""
    work: Cancellable | None = getattr(_current, "work", None)
    if work is not None:
        work.check()
