"""Each served name's health status, set from whichever thread learns of a change (loading,
the rating log's connection, shutdown) and read by the gRPC Health service on the event loop."""

from __future__ import annotations

import threading
from collections.abc import Callable

from grpc_health.v1 import health_pb2

NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class HealthStates:
    """Statuses by service name; after enter_graceful_shutdown every name is NOT_SERVING for
    good (as grpcio-health-checking's servicer does)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._statuses: dict[str, int] = {}
        self._shutting_down = False
        self._listeners: list[Callable[[], None]] = []

    def get(self, name: str) -> int | None:
        """The status of `name`, None for a name never set."""
        return self._statuses.get(name)

    def set(self, name: str, status: int) -> None:
        with self._lock:
            if self._shutting_down:
                return
            self._statuses[name] = status
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def enter_graceful_shutdown(self) -> None:
        with self._lock:
            if self._shutting_down:
                return
            self._statuses = dict.fromkeys(self._statuses, NOT_SERVING)
            self._shutting_down = True
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def listen(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Calls `listener` (from the setting thread) after every change; returns the function
        that stops it."""
        with self._lock:
            self._listeners.append(listener)

        def stop() -> None:
            with self._lock:
                self._listeners.remove(listener)

        return stop
