"""The call log records the status each client saw: streams the server ends at
shutdown as UNAVAILABLE (not UNKNOWN, not OK), logged at INFO as shutdown-ended."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest
from prometheus_client import generate_latest

from rec_service.app.telemetry import Telemetry
from rec_service.edge.call_log import CallLog
from rec_service.edge.handler_registry import HandlerRegistry
from rec_service.edge.server import GrpcServer
from rec_service.edge.serving_loop import ServingLoop

GRACE_S = 0.5


async def _read_all(requests: AsyncIterator[bytes], _context: Any) -> bytes:
    async for _ in requests:
        pass
    return b""


async def _send_forever(_request: bytes, _context: Any) -> AsyncIterator[bytes]:
    while True:
        yield b"x"
        await asyncio.sleep(0.05)


def _slow_requests() -> Iterator[bytes]:
    while True:
        yield b"a"
        time.sleep(0.05)


def test_streams_ended_at_shutdown_are_recorded_as_the_client_saw_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    telemetry = Telemetry()
    grace_over = threading.Event()
    loop = ServingLoop(1)

    async def build() -> tuple[grpc.aio.Server, int]:
        aio = grpc.aio.server()
        HandlerRegistry(
            aio, CallLog(telemetry, 60.0, grace_over).wrap
        ).add_registered_method_handlers(
            "test.Streams",
            {
                "In": grpc.stream_unary_rpc_method_handler(_read_all),
                "Out": grpc.unary_stream_rpc_method_handler(_send_forever),
            },
        )
        return aio, aio.add_insecure_port("127.0.0.1:0")

    aio, port = loop.call(build())
    server = GrpcServer(loop, aio)
    server.start()
    seen: dict[str, grpc.StatusCode] = {}
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:

        def stream_in() -> None:
            try:
                channel.stream_unary("/test.Streams/In")(_slow_requests())
            except grpc.RpcError as exc:
                seen["/test.Streams/In"] = exc.code()

        def stream_out() -> None:
            try:
                for _ in channel.unary_stream("/test.Streams/Out")(b""):
                    pass
            except grpc.RpcError as exc:
                seen["/test.Streams/Out"] = exc.code()

        clients = [threading.Thread(target=stream_in), threading.Thread(target=stream_out)]
        for client in clients:
            client.start()
        time.sleep(0.5)
        caplog.set_level(logging.INFO)
        server.stop(GRACE_S, grace_over).wait()  # as cli.shut_down does
        for client in clients:
            client.join(timeout=10)
    recorded = {
        line.split('method="')[1].split('"')[0]: line.split('code="')[1].split('"')[0]
        for line in generate_latest(telemetry.registry).decode().splitlines()
        if line.startswith("movierec_rpc_requests_total{")
    }
    assert seen == {m: grpc.StatusCode.UNAVAILABLE for m in seen} and len(seen) == 2
    assert recorded == {method: code.name for method, code in seen.items()}
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []
    assert any("shutdown-ended call" in r.getMessage() for r in caplog.records)


class _EndedContext:
    """What the call log reads of a call that has ended: no code set, cancelled or not."""

    def __init__(self, cancelled: bool) -> None:
        self._cancelled = cancelled

    def code(self) -> None:
        return None

    def cancelled(self) -> bool:
        return self._cancelled


@pytest.mark.parametrize(
    ("left_s", "cancelled", "expected"),
    [
        # The core ended the stream at its deadline as if the client had closed it, a moment
        # before this process's clock reached the deadline: the client saw DEADLINE_EXCEEDED.
        (0.01, False, grpc.StatusCode.DEADLINE_EXCEEDED),
        (0.01, True, grpc.StatusCode.DEADLINE_EXCEEDED),
        (1.0, False, grpc.StatusCode.OK),
        (1.0, True, grpc.StatusCode.CANCELLED),
    ],
)
def test_a_call_ending_at_its_deadline_is_recorded_as_past_it(
    left_s: float, cancelled: bool, expected: grpc.StatusCode
) -> None:
    call_log = CallLog(Telemetry(), 60.0)
    budget = 3.0
    started = time.perf_counter() - (budget - left_s)
    context: Any = _EndedContext(cancelled)
    assert call_log._final_code(context, None, started, budget) == expected
