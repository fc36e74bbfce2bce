"""The interceptor that counts and times every RPC in the service's metrics and logs one line
for each failed or slow call."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from rec_service.app.telemetry import Telemetry
from rec_service.edge.grpc_types import Handler, WrappingInterceptor, rewrap

log = logging.getLogger(__name__)

# Outcomes that are the client's doing: not logged as failures.
CLIENT_ENDED = {grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED}
# Failures that are the server's, logged at WARNING; the rest (bad input, unknown ids, wrong
# tokens, limits) at INFO, so a misbehaving client cannot flood the warnings.
SERVER_FAULTS = {
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DATA_LOSS,
}


class TelemetryInterceptor(WrappingInterceptor):
    """Counts and times every RPC by method and final status, and logs one line for each failed
    or slow call with a request id (the caller's x-request-id, or a new one)."""

    def __init__(
        self, telemetry: Telemetry, slow_s: float, grace_over: threading.Event | None = None
    ) -> None:
        super().__init__()
        self._telemetry = telemetry
        self._slow_s = slow_s
        # Set when shutdown's grace period is over: a call still running then is ended by the
        # server, and its client sees UNAVAILABLE, however the handler itself ended.
        self._grace_over = grace_over or threading.Event()

    def wrap(self, handler: Handler, method: str) -> Handler:
        def timed(behavior: Callable[..., Any], streams_out: bool) -> Callable[..., Any]:
            make = self._timed_stream if streams_out else self._timed_unary
            return make(behavior, method)

        return rewrap(handler, timed)

    def _timed_unary(self, behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
        def unary(request: Any, context: grpc.ServicerContext) -> Any:
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            try:
                response = behavior(request, context)
                code = self._final_code(context, grpc.StatusCode.OK)
                return response
            except BaseException:
                code = self._final_code(context, grpc.StatusCode.UNKNOWN)
                raise
            finally:
                self._record(method, code, started, context)

        return unary

    def _timed_stream(self, behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
        def stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            try:
                yield from behavior(request, context)
                code = self._final_code(context, grpc.StatusCode.OK)
            except BaseException:
                code = self._final_code(context, grpc.StatusCode.UNKNOWN)
                raise
            finally:
                self._record(method, code, started, context)

        return stream

    def _record(
        self, method: str, code: grpc.StatusCode, started: float, context: grpc.ServicerContext
    ) -> None:
        seconds = time.perf_counter() - started
        self._telemetry.rpc_requests.labels(method, code.name).inc()
        self._telemetry.rpc_seconds.labels(method).observe(seconds)
        failed = code is not grpc.StatusCode.OK and code not in CLIENT_ENDED
        by_shutdown = self._grace_over.is_set()  # an ordinary end, not a fault
        if failed or seconds >= self._slow_s:
            log.log(
                logging.WARNING if code in SERVER_FAULTS and not by_shutdown else logging.INFO,
                "%s call %s: %s in %.1f ms",
                "shutdown-ended" if by_shutdown else "failed" if failed else "slow",
                method,
                code.name,
                seconds * 1000,
                extra={
                    "method": method,
                    "code": code.name,
                    "duration_ms": round(seconds * 1000, 2),
                    "request_id": request_id(context),
                },
            )

    def _final_code(
        self, context: grpc.ServicerContext, default: grpc.StatusCode
    ) -> grpc.StatusCode:
        """The status the client sees: UNAVAILABLE for a call the server ended at shutdown,
        else what the handler set or aborted with, else `default` (CANCELLED where the client
        went away first)."""
        if self._grace_over.is_set():
            return grpc.StatusCode.UNAVAILABLE
        code = context.code()  # type: ignore[attr-defined]  # grpc >= 1.38; not in the stubs
        if isinstance(code, grpc.StatusCode):
            return code
        if default is grpc.StatusCode.OK and not context.is_active():
            return grpc.StatusCode.CANCELLED
        return default


def request_id(context: grpc.ServicerContext) -> str:
    """The caller's x-request-id (cut to 64 characters), or a new id for this call."""
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id" and isinstance(value, str) and value:
            return value[:64]
    return uuid.uuid4().hex[:16]
