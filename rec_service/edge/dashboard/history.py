"""Answer sources and ingestion over the last minutes, for the overview's charts.

The service already counts both (Prometheus counters in Telemetry); a sampler reads those
counters every few seconds and keeps the differences for a bounded window, so the dashboard
adds no work to the read or ingest paths.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from rec_service.core.recommender import Source

SAMPLE_EVERY_S = 5.0
# The sources a GetTopN answer can have (the others belong to PredictRating and similar movies).
SOURCES = tuple(
    s.name for s in (Source.PRECOMPUTED, Source.RECOMPUTED, Source.FILTER_SCAN, Source.POPULARITY)
)


@dataclass(frozen=True)
class Sample:
    at: float  # Unix time
    seconds: float  # since the previous sample
    answers: dict[str, float]  # GetTopN answers in the interval, by list source
    accepted: float  # ratings accepted in the interval


class MetricHistory:
    def __init__(self, registry: CollectorRegistry, minutes: int) -> None:
        self._registry = registry
        self._samples: deque[Sample] = deque(maxlen=max(1, int(minutes * 60 / SAMPLE_EVERY_S)))
        self._lock = threading.Lock()
        self._last = self._read()
        self._last_at = time.time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dashboard-history", daemon=True)

    def _read(self) -> dict[str, float]:
        values = {
            source: self._registry.get_sample_value(
                "movierec_topn_answers_total", {"source": source}
            )
            or 0.0
            for source in SOURCES
        }
        values["accepted"] = (
            self._registry.get_sample_value("movierec_ingest_events_total", {"outcome": "accepted"})
            or 0.0
        )
        return values

    def sample(self) -> None:
        """Records what happened since the previous sample."""
        now, values = time.time(), self._read()
        last = self._last
        with self._lock:
            self._samples.append(
                Sample(
                    at=now,
                    seconds=max(now - self._last_at, 1e-9),
                    answers={s: values[s] - last[s] for s in SOURCES},
                    accepted=values["accepted"] - last["accepted"],
                )
            )
        self._last, self._last_at = values, now

    def samples(self) -> list[Sample]:
        with self._lock:
            return list(self._samples)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            self.sample()
