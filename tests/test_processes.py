"""`movierec serve --processes N`: replicas of one JetStream log on one machine, sharing the
port with SO_REUSEPORT; refused where it would not be correct."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

from rec_service.app.config import PROJECT_ROOT, Config
from rec_service.app.service import Service
from rec_service.edge.processes import check_processes, child_args

from .conftest import free_port

JETSTREAM = {"log_backend": "jetstream", "port": 50999}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"port": 50999}, "log_backend = jetstream"),
        ({**JETSTREAM, "port": 0}, "fixed --port"),
        ({**JETSTREAM, "tls_cert_file": "c.pem", "tls_key_file": "k.pem"}, "TLS"),
    ],
)
def test_settings_that_cannot_share_a_port_are_refused(changes: dict, reason: str) -> None:
    cfg = Config().replace(processes=2, **changes)
    with pytest.raises(SystemExit, match=reason):
        check_processes(cfg)


def test_each_child_is_one_process_on_the_shared_port_with_its_own_state() -> None:
    cfg = Config().replace(processes=3, metrics_port=9100, ingest_dir="/srv/ingest", **JETSTREAM)
    first, second = child_args(["--port", "50999"], cfg, 0), child_args(["--port", "50999"], cfg, 1)
    for index, args in enumerate((first, second)):
        assert args[args.index("--processes") + 1] == "1"
        assert args[args.index("--reuse-port") + 1] == "true"
        assert args[args.index("--ingest-dir") + 1] == f"/srv/ingest/replica-{index}"
        assert args[args.index("--metrics-port") + 1] == str(9100 + index)


def test_a_port_that_is_off_or_picked_stays_so_in_every_child() -> None:
    """-1 (off) and 0 (any free port) are not moved up per child: -1 + 1 would turn metrics on
    where they were off."""
    cfg = Config().replace(processes=3, **JETSTREAM)
    assert cfg.telemetry.metrics_port == -1 and cfg.dashboard.port == -1
    for index in range(3):
        args = child_args([], cfg, index)
        assert "--metrics-port" not in args and "--dashboard-port" not in args
    with_ports = Config().replace(processes=3, metrics_port=0, dashboard_port=8700, **JETSTREAM)
    args = child_args([], with_ports, 2)
    assert "--metrics-port" not in args and args[args.index("--dashboard-port") + 1] == "8702"


def _serving(port: int) -> bool:
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            status = (
                health_pb2_grpc.HealthStub(channel)
                .Check(health_pb2.HealthCheckRequest(), timeout=2)
                .status
            )
        return status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in found.split()]


def test_two_processes_serve_one_port_and_stop_together(
    demo_state: Service,
    tmp_path: Path,
    nats_url: str,
) -> None:
    shutil.copytree(demo_state.config.models.model_dir, tmp_path / "model")  # skip training
    port = free_port()
    log = open(tmp_path / "serve.log", "ab")  # noqa: SIM115 (the children write to it)
    parent = subprocess.Popen(
        [sys.executable, "-m", "rec_service.edge.cli", "serve", "--processes", "2",
         "--port", str(port), "--model-dir", str(tmp_path / "model"),
         "--ingest-dir", str(tmp_path / "ingest"), "--log-backend", "jetstream",
         "--log-nats-url", nats_url, "--log-stream", "PROCESSES_TEST",
         "--spark-driver-memory", "1g", "--active-users", "50",
         "--retrain-interval-s", "0", "--retrain-after-ratings", "0"],
        cwd=PROJECT_ROOT, stdout=log, stderr=log,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        # Both children up: each binds the port only once it serves, so twenty SERVING
        # answers in a row with two children running means both may answer.
        while not (len(_children(parent.pid)) == 2 and all(_serving(port) for _ in range(20))):
            assert parent.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-3000:]
            time.sleep(2)
        # A rating through one connection is read through another with its position.
        with grpc.insecure_channel(f"127.0.0.1:{port}") as first:
            answer = pb_grpc.RecommendationServiceStub(first).IngestRatings(
                iter([pb.IngestRatingsRequest(
                    events=[pb.RatingEvent(user_id="proc-user", movie_id="1", rating=5.0)]
                )])
            )  # fmt: skip
        assert answer.accepted_count == 1 and answer.log_position > 0
        for _ in range(6):  # fresh connections: some land on the other process
            with grpc.insecure_channel(f"127.0.0.1:{port}") as other:
                top = pb_grpc.RecommendationServiceStub(other).GetTopN(
                    pb.GetTopNRequest(user_id="proc-user", min_log_position=answer.log_position)
                )
            assert "1" not in [m.movie_id for m in top.movies]
        _restart_loses_no_call(parent.pid, port, tmp_path / "serve.log")
        children = _children(parent.pid)
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=180) == 0
        assert not [c for c in children if Path(f"/proc/{c}").exists()]
    finally:
        if parent.poll() is None:
            parent.kill()
        for child in _children(parent.pid):
            subprocess.run(["kill", "-9", str(child)], check=False)


def _restart_loses_no_call(parent: int, port: int, log_file: Path) -> None:
    """kill -9 of one child under steady reads on fresh connections: the parent starts it
    again, and it binds the shared port only once it serves, so not one call fails."""
    listening = log_file.read_text().count("listening on")
    os.kill(_children(parent)[-1], signal.SIGKILL)
    time.sleep(0.5)  # its socket is closed with it; calls in flight to it are not counted
    failures: list[str] = []
    calls_after = 0
    deadline = time.monotonic() + 300
    while calls_after < 40:
        # A connection of its own each time, so the kernel picks a process for every call.
        with grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]
        ) as channel:
            try:
                pb_grpc.RecommendationServiceStub(channel).GetTopN(
                    pb.GetTopNRequest(user_id="1"), timeout=10
                )
            except grpc.RpcError as exc:
                failures.append(f"{exc.code().name}: {exc.details()}")
        if log_file.read_text().count("listening on") > listening:
            calls_after += 1  # the restarted child serves: these may land on it
        assert time.monotonic() < deadline, log_file.read_text()[-3000:]
        time.sleep(0.05)
    assert failures == []
