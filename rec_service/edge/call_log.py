"""The call log: counts and times every RPC in the service's metrics and logs one line for each
failed or slow call, as a wrapper around each method's handler (edge.handler_registry)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc

from rec_service.app.telemetry import Telemetry
from rec_service.edge.grpc_types import Context, Handler, rewrap

log = logging.getLogger(__name__)

# Outcomes that are the client's doing: not logged as failures.
CLIENT_ENDED = {grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED}
DEADLINE_SLACK_S = 0.05
# Failures that are the server's, logged at WARNING; the rest (bad input, unknown ids, wrong
# tokens, limits) at INFO, so a misbehaving client cannot flood the warnings.
SERVER_FAULTS = {
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DATA_LOSS,
}


class CallLog:
    """Counts and times every RPC by method and final status, and logs one line for each failed
    or slow call with a request id (the caller's x-request-id, or a new one). The outermost
    wrapper, so it sees the status every other one set."""

    def __init__(
        self, telemetry: Telemetry, slow_s: float, grace_over: threading.Event | None = None
    ) -> None:
        self._telemetry = telemetry
        self._slow_s = slow_s
        # Set when shutdown's grace period is over: a call still running then is ended by the
        # server, and its client sees UNAVAILABLE, however the handler itself ended.
        self._grace_over = grace_over or threading.Event()

    def wrap(self, handler: Handler, method: str) -> Handler:
        record = _Recorder(self._telemetry, method, self._slow_s)

        def timed(behavior: Callable[..., Any], streams_out: bool) -> Callable[..., Any]:
            make = self._timed_stream if streams_out else self._timed_unary
            return make(behavior, record)

        return rewrap(handler, timed)

    def _timed_unary(self, behavior: Callable[..., Any], record: _Recorder) -> Callable[..., Any]:
        async def unary(request: Any, context: Context) -> Any:
            started = time.perf_counter()
            budget = context.time_remaining()
            code = grpc.StatusCode.OK
            try:
                response = await behavior(request, context)
                code = self._final_code(context, None, started, budget)
                return response
            except BaseException as exc:
                code = self._final_code(context, exc, started, budget)
                raise
            finally:
                record(code, started, context, self._grace_over.is_set())

        return unary

    def _timed_stream(self, behavior: Callable[..., Any], record: _Recorder) -> Callable[..., Any]:
        async def stream(request: Any, context: Context) -> AsyncIterator[Any]:
            started = time.perf_counter()
            budget = context.time_remaining()
            code = grpc.StatusCode.OK
            try:
                async for response in behavior(request, context):
                    yield response
                code = self._final_code(context, None, started, budget)
            except BaseException as exc:
                code = self._final_code(context, exc, started, budget)
                raise
            finally:
                record(code, started, context, self._grace_over.is_set())

        return stream

    def _final_code(
        self,
        context: Context,
        error: BaseException | None,
        started: float,
        budget: float | None,
    ) -> grpc.StatusCode:
        """The status the client sees: UNAVAILABLE for a call the server ended at shutdown,
        else what the handler set or aborted with; a call that ran to its deadline is
        DEADLINE_EXCEEDED, one the client went away from CANCELLED, and any other exception
        UNKNOWN (the error interceptor inside this one leaves none).

        grpc.aio ends a call at its deadline by cancelling the handler or by ending its request
        stream, and tells neither apart from the client's own cancel: the deadline is
        recognised by the time the call took against the budget it started with."""
        if self._grace_over.is_set():
            return grpc.StatusCode.UNAVAILABLE
        code = context.code()
        if isinstance(code, grpc.StatusCode):
            return code
        if error is not None and not isinstance(error, asyncio.CancelledError):
            return grpc.StatusCode.UNKNOWN
        ended_early = error is not None or context.cancelled()
        # A call that ends within DEADLINE_SLACK_S of its deadline counts as past it, however it
        # ended: the core's timer and this process's clock are read apart, and a stream the
        # core ends at its deadline can end here as if the client had closed it (no error, not
        # yet cancelled) a moment before this clock reaches the deadline; its client sees
        # DEADLINE_EXCEEDED.
        if budget is not None and time.perf_counter() - started >= budget - DEADLINE_SLACK_S:
            return grpc.StatusCode.DEADLINE_EXCEEDED
        return grpc.StatusCode.CANCELLED if ended_early else grpc.StatusCode.OK


class _Recorder:
    """One method's metrics, their label children looked up once rather than per call."""

    def __init__(self, telemetry: Telemetry, method: str, slow_s: float) -> None:
        self._method = method
        self._slow_s = slow_s
        self._requests = telemetry.rpc_requests
        self._by_code: dict[grpc.StatusCode, Any] = {}
        self._seconds = telemetry.rpc_seconds.labels(method)

    def __call__(
        self, code: grpc.StatusCode, started: float, context: Context, by_shutdown: bool
    ) -> None:
        seconds = time.perf_counter() - started
        counter = self._by_code.get(code)
        if counter is None:
            counter = self._by_code[code] = self._requests.labels(self._method, code.name)
        counter.inc()
        self._seconds.observe(seconds)
        failed = code is not grpc.StatusCode.OK and code not in CLIENT_ENDED
        if failed or seconds >= self._slow_s:
            log.log(
                logging.WARNING if code in SERVER_FAULTS and not by_shutdown else logging.INFO,
                "%s call %s: %s in %.1f ms",
                "shutdown-ended" if by_shutdown else "failed" if failed else "slow",
                self._method,
                code.name,
                seconds * 1000,
                extra={
                    "method": self._method,
                    "code": code.name,
                    "duration_ms": round(seconds * 1000, 2),
                    "request_id": request_id(context),
                },
            )


def request_id(context: Context) -> str:
    """The caller's x-request-id (cut to 64 characters), or a new id for this call."""
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id" and isinstance(value, str) and value:
            return value[:64]
    return uuid.uuid4().hex[:16]
