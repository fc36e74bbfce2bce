"""Tuning's wall-clock limit: a safety net, never the bound that decides what is measured.

What tuning measures is fixed by counts before it starts (TuningSettings), so the same data,
settings and seed give the same choice on a quiet machine and a busy one. The limit only stops
a tuning that has gone far past any expected length; every candidate it leaves is reported.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from spark_store.cancellation import checkpoint

log = logging.getLogger(__name__)


class TuningLimit:
    """Seconds since tuning started, on an injectable clock, against `seconds`."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.perf_counter) -> None:
        self.seconds, self.clock = seconds, clock
        self.started = clock()
        self.was_hit = False

    def elapsed(self) -> float:
        return self.clock() - self.started

    def hit(self) -> bool:
        """Whether the limit is passed; the first time, says so at WARNING. Asked before each
        candidate, so it is where a cancelled tuning stops (Cancelled)."""
        checkpoint()
        if self.elapsed() <= self.seconds:
            return False
        if not self.was_hit:
            log.warning(
                "tuning: the safety limit of %g s (tuning_limit_s) was hit after %.1f s; "
                "the candidates not yet measured are skipped and listed in GetModelInfo",
                self.seconds,
                self.elapsed(),
            )
        self.was_hit = True
        return True

    def reason(self) -> str:
        return f"not measured: the tuning limit of {self.seconds:g} s was hit"
