"""The call log's interceptor records the status each client saw: streams the server ends at
shutdown as UNAVAILABLE (not UNKNOWN, not OK), logged at INFO as shutdown-ended."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from prometheus_client import generate_latest

from rec_service.app.telemetry import Telemetry
from rec_service.edge.call_log import TelemetryInterceptor

GRACE_S = 0.5


def _read_all(requests: Iterator[bytes], _context: Any) -> bytes:
    for _ in requests:
        pass
    return b""


def _send_forever(_request: bytes, _context: Any) -> Iterator[bytes]:
    while True:
        yield b"x"
        time.sleep(0.05)


def _slow_requests() -> Iterator[bytes]:
    while True:
        yield b"a"
        time.sleep(0.05)


def test_streams_ended_at_shutdown_are_recorded_as_the_client_saw_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    telemetry = Telemetry()
    grace_over = threading.Event()
    server = grpc.server(
        futures.ThreadPoolExecutor(4),
        interceptors=[TelemetryInterceptor(telemetry, 60.0, grace_over)],
    )
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "test.Streams",
                {
                    "In": grpc.stream_unary_rpc_method_handler(_read_all),
                    "Out": grpc.unary_stream_rpc_method_handler(_send_forever),
                },
            )
        ]
    )
    port = server.add_insecure_port("127.0.0.1:0")
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
        # As cli.shut_down does: the grace period's end is marked, then the server stops.
        timer = threading.Timer(GRACE_S, grace_over.set)
        timer.start()
        server.stop(grace=GRACE_S).wait()
        for client in clients:
            client.join(timeout=10)
    time.sleep(0.2)  # the handlers' threads finish recording
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
