"""The one way core code asks for blocking work to run off the serving event loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class Offload(Protocol):
    """Runs `work` on a thread of the blocking pool and awaits its result; the event loop
    serves other calls meanwhile (edge.serving_loop.ServingLoop.offload)."""

    def __call__(self, work: Callable[[], T]) -> Awaitable[T]: ...
