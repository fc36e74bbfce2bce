"""kill -9 during a rating stream: after a restart every acknowledged rating is back, in the
log replay, in the users' activity times and in their folded-in recommendations."""

from __future__ import annotations

import os
import shutil
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
from rec_service.core.recommender import now_us

from .conftest import free_port

TOKEN = "crash-test"
AUTH = (("authorization", f"Bearer {TOKEN}"),)
MOVIES = ["1", "2", "3", "6", "10", "32", "47", "50", "110", "150"]
PER_MESSAGE = 50


class Server:
    """`movierec serve` as a child process on fixed directories."""

    def __init__(self, tmp: Path, *flags: str) -> None:
        self.tmp = tmp
        self.flags = flags
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait_serving: bool = True) -> None:
        args = [
            sys.executable, "-m", "rec_service.edge.cli", "serve",
            "--port", str(self.port),
            "--model-dir", str(self.tmp / "model"),
            "--ingest-dir", str(self.tmp / "ingest"),
            "--admin-token", TOKEN,
            "--active-users", "50",
            "--spark-driver-memory", "1g",
            "--retrain-interval-s", "0",
            "--retrain-after-ratings", "0",
            *self.flags,
        ]  # fmt: skip
        log = open(self.tmp / "server.log", "ab")  # noqa: SIM115 (the child writes to it)
        self.proc = subprocess.Popen(args, cwd=PROJECT_ROOT, stdout=log, stderr=log)
        if not wait_serving:
            return
        deadline = time.monotonic() + 240
        with grpc.insecure_channel(f"127.0.0.1:{self.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                assert self.proc.poll() is None, (self.tmp / "server.log").read_text()[-3000:]
                try:
                    status = health.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                    if status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.5)
        raise AssertionError(
            "server did not start: " + (self.tmp / "server.log").read_text()[-3000:]
        )

    def log_text(self) -> str:
        return (self.tmp / "server.log").read_text()

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=60)


def on_demo_model(demo_state: Service, tmp: Path, *flags: str) -> Iterator[Server]:
    """A Server (not started) on a copy of the suite's demo model, so it skips training;
    stopped after the test."""
    shutil.copytree(demo_state.config.models.model_dir, tmp / "model")
    srv = Server(tmp, *flags)
    yield srv
    srv.stop()


@pytest.fixture()
def server(demo_state: Service, tmp_path: Path) -> Iterator[Server]:
    yield from on_demo_model(demo_state, tmp_path)


def _event(i: int) -> pb.RatingEvent:
    """Event i of the stream: user crash-<i // 10> rates one of ten movies; pairs are unique."""
    return pb.RatingEvent(
        user_id=f"crash-{i // len(MOVIES)}", movie_id=MOVIES[i % len(MOVIES)], rating=4.5
    )


def test_acknowledged_ratings_survive_kill_9(server: Server) -> None:
    server.start()
    started_us = now_us()
    acked = 0
    enough_acks = threading.Event()

    def messages() -> Iterator[pb.StreamRatingsRequest]:
        i = 0
        while True:  # until the server dies under us
            yield pb.StreamRatingsRequest(events=[_event(i + k) for k in range(PER_MESSAGE)])
            i += PER_MESSAGE
            if enough_acks.is_set():
                time.sleep(0.001)

    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = pb_grpc.RecommendationServiceStub(channel)
        stream = stub.StreamRatings(messages())
        with pytest.raises(grpc.RpcError):
            for ack in stream:
                assert not ack.rejected
                acked = ack.handled_through
                if acked >= 20 * PER_MESSAGE and not enough_acks.is_set():
                    enough_acks.set()
                    threading.Timer(0.05, server.kill9).start()  # mid-stream, mid-batch
    assert acked >= 20 * PER_MESSAGE

    server.start()
    users = {f"crash-{i // len(MOVIES)}" for i in range(acked)}
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        admin = apb_grpc.AdminServiceStub(channel)
        rows = admin.QuerySql(
            apb.QuerySqlRequest(
                sql="SELECT user_id, movie_id FROM rating_log WHERE user_id LIKE 'crash-%'",
                max_rows=10_000,
            ),
            metadata=AUTH,
        ).rows
        replayed = {(r.values[0].string_value, r.values[1].string_value) for r in rows}
        wanted = {(e.user_id, e.movie_id) for e in map(_event, range(acked))}
        assert wanted <= replayed
        activity = admin.QuerySql(
            apb.QuerySqlRequest(
                sql="SELECT user_id, unix_micros(last_active) FROM user_activity "
                "WHERE user_id LIKE 'crash-%'",
                max_rows=10_000,
            ),
            metadata=AUTH,
        ).rows
        last_active = {r.values[0].string_value: r.values[1].number_value for r in activity}
        assert all(last_active[u] >= started_us for u in users)
        stub = pb_grpc.RecommendationServiceStub(channel)
        whole = [f"crash-{k}" for k in range(acked // len(MOVIES))]  # all ten ratings acked
        for user in whole[:: max(1, len(whole) // 10)]:
            resp = stub.GetTopN(pb.GetTopNRequest(user_id=user, page_size=20))
            assert resp.source == pb.RECOMMENDATION_SOURCE_RECOMPUTED
            assert not set(MOVIES) & {m.movie_id for m in resp.movies}
