"""A component that start-up builds while the server already listens: until it is there, a
call that needs it is UNAVAILABLE (retryable), never a crash on a half-built service."""

from __future__ import annotations

from typing import Generic, TypeVar

from rec_service.core.errors import Unavailable

T = TypeVar("T")


class Loaded(Generic[T]):
    """Set once by the composition root; read by every call."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._value: T | None = None

    def set(self, value: T) -> None:
        self._value = value

    def get(self) -> T:
        value = self._value
        if value is None:
            raise Unavailable(f"the {self._what} is still loading; retry shortly")
        return value

    def peek(self) -> T | None:
        """The component, or None while loading (for metrics and shutdown, which must not fail)."""
        return self._value
