"""SIGTERM in the middle of a rating stream and of unary calls: health turns NOT_SERVING before
the port closes, the calls in flight complete, the stream's acknowledged ratings are all there
after a restart, and the process exits 0 within the grace period plus a margin. And a server
that would expose admin in clear beyond loopback refuses to start, naming the setting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

from rec_service.app.config import PROJECT_ROOT
from rec_service.app.service import Service

from .test_crash import AUTH, Server, on_demo_model

DRAIN_S = 1.0
GRACE_S = 15.0
# Some seconds of Spark work: a call certain to be in flight when the signal comes.
SLOW_SQL = "SELECT count(*) FROM ratings a JOIN ratings b ON a.user_id = b.user_id"


def test_admin_in_clear_beyond_loopback_is_refused_at_start() -> None:
    env = {**os.environ, "MOVIEREC_ADMIN_TOKEN": "some-token"}
    done = subprocess.run(
        [sys.executable, "-m", "rec_service.edge.cli", "serve", "--host", "0.0.0.0", "--port", "0"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "admin_allow_plaintext" in done.stderr and "tls_cert_file" in done.stderr
    assert "some-token" not in done.stderr + done.stdout


@pytest.fixture()
def server(demo_state: Service, tmp_path: Path) -> Iterator[Server]:
    flags = ("--shutdown-drain-s", str(DRAIN_S), "--shutdown-grace-s", str(GRACE_S))
    yield from on_demo_model(demo_state, tmp_path, *flags)


def test_sigterm_drains_calls_and_loses_no_acknowledged_rating(server: Server) -> None:
    server.start()
    assert server.proc is not None
    target = f"127.0.0.1:{server.port}"
    signalled = threading.Event()
    health_seen: list[tuple[float, str]] = []
    unary_failures: list[str] = []
    acked = 0

    def watch_health() -> None:
        with grpc.insecure_channel(target) as channel:
            try:
                for update in health_pb2_grpc.HealthStub(channel).Watch(
                    health_pb2.HealthCheckRequest()
                ):
                    name = health_pb2.HealthCheckResponse.ServingStatus.Name(update.status)
                    health_seen.append((time.monotonic(), name))
            except grpc.RpcError:
                health_seen.append((time.monotonic(), "closed"))

    def read_loop() -> None:
        with grpc.insecure_channel(target) as channel:
            stub = pb_grpc.RecommendationServiceStub(channel)
            while True:
                was_before = not signalled.is_set()
                try:
                    stub.GetTopN(pb.GetTopNRequest(user_id="1"), timeout=30)
                except grpc.RpcError as exc:
                    if was_before:
                        unary_failures.append(exc.code().name)
                    return  # refused after the drain: the port is closing

    def events() -> Iterator[pb.StreamRatingsRequest]:
        i = 0
        while not signalled.is_set() or i < 40:  # goes on past the signal, then ends itself
            yield pb.StreamRatingsRequest(
                events=[
                    pb.RatingEvent(user_id=f"sd-{i + k}", movie_id="1", rating=4.0)
                    for k in range(5)
                ]
            )
            i += 5
            time.sleep(0.05)

    slow_result: list[object] = []

    def slow_call() -> None:
        with grpc.insecure_channel(target) as channel:
            try:
                resp = apb_grpc.AdminServiceStub(channel).QuerySql(
                    apb.QuerySqlRequest(sql=SLOW_SQL), metadata=AUTH, timeout=60
                )
                slow_result.append(resp.rows[0].values[0].number_value)
            except grpc.RpcError as exc:
                slow_result.append(exc.code().name)

    watcher = threading.Thread(target=watch_health)
    readers = [threading.Thread(target=read_loop) for _ in range(3)]
    for t in (watcher, *readers):
        t.start()
    time.sleep(0.5)
    with grpc.insecure_channel(target) as channel:
        stream = pb_grpc.RecommendationServiceStub(channel).StreamRatings(events())
        acks = iter(stream)
        acked = next(acks).handled_through
        slow = threading.Thread(target=slow_call)
        slow.start()
        time.sleep(0.3)  # the slow query is running
        signalled_at = time.monotonic()
        os.kill(server.proc.pid, signal.SIGTERM)
        signalled.set()
        for ack in acks:  # the stream goes on through the drain and ends cleanly
            assert not ack.rejected
            acked = ack.handled_through
    slow.join(GRACE_S + 30)
    for t in (watcher, *readers):
        t.join(GRACE_S + 30)
    code = server.proc.wait(timeout=DRAIN_S + GRACE_S + 60)
    exited_in = time.monotonic() - signalled_at

    assert code == 0
    assert exited_in < DRAIN_S + GRACE_S + 30
    statuses = [name for _, name in health_seen]
    assert "NOT_SERVING" in statuses and statuses[-1] == "closed"
    assert statuses.index("NOT_SERVING") < statuses.index("closed")
    assert unary_failures == []  # every call that was in flight at the signal completed
    assert slow_result and isinstance(slow_result[0], float), slow_result
    assert acked >= 40

    server.start()
    with grpc.insecure_channel(target) as channel:
        rows = (
            apb_grpc.AdminServiceStub(channel)
            .QuerySql(
                apb.QuerySqlRequest(
                    sql="SELECT user_id FROM rating_log WHERE user_id LIKE 'sd-%'", max_rows=10_000
                ),
                metadata=AUTH,
            )
            .rows
        )
    logged = {r.values[0].string_value for r in rows}
    assert {f"sd-{i}" for i in range(acked)} <= logged
