"""Faults injected into real `movierec serve` processes. SIGTERM in the middle of a retrain and
of a start-up load: each is an ordinary shutdown, exit 0 within drain + grace, no ERROR line or
traceback, nothing half-written left behind, and the log saying what was cancelled. A damaged
model file at start: exit 1 naming the file. The JVM killed under a serving process: health
NOT_SERVING within seconds, then exit 1 for the supervisor. A following trainer stopped in the
middle of a retrain: it ends within seconds, saving nothing."""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
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

from rec_service.app.rating_logs.jetstream import JetStreamLog
from rec_service.app.replica_control import ReplicaControl
from rec_service.app.service import Service
from rec_service.app.trainer import FollowingTrainer
from rec_service.app.wiring import open_rating_log
from rec_service.core.durable_log import NewRating

from .conftest import service_config
from .test_crash import AUTH, Server, on_demo_model

DRAIN_S = 1.0
GRACE_S = 20.0
# Spark's own stop and the interpreter's exit, after drain + grace at the most.
EXIT_MARGIN_S = 20.0
# What PySpark's worker daemon prints (not through the service's log) when a cancelled job
# kills a Python task in the middle of a write: the one traceback a cancellation may leave.
KILLED_PYTHON_TASK = re.compile(
    r"Traceback \(most recent call last\):\n"
    r"(?:  File \"[^\"\n]*pyspark\.zip/pyspark/[^\n]*\n(?:    [^\n]*\n)?)+"
    r"(?:BrokenPipeError|ConnectionResetError)[^\n]*\n"
)


@pytest.fixture()
def server(demo_state: Service, tmp_path: Path) -> Iterator[Server]:
    flags = ("--shutdown-drain-s", str(DRAIN_S), "--shutdown-grace-s", str(GRACE_S))
    yield from on_demo_model(demo_state, tmp_path, *flags)


def _stopped_cleanly(server: Server) -> float:
    """SIGTERM now; the seconds the process took to exit 0 (asserted), its log free of errors."""
    assert server.proc is not None
    signalled = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    code = server.proc.wait(timeout=DRAIN_S + GRACE_S + EXIT_MARGIN_S + 60)
    took = time.monotonic() - signalled
    text = server.log_text()
    assert code == 0, text[-3000:]
    assert took <= DRAIN_S + GRACE_S + EXIT_MARGIN_S, text[-3000:]
    assert " ERROR " not in text, text[-5000:]
    assert "Traceback" not in KILLED_PYTHON_TASK.sub("", text), text[-5000:]
    return took


def _left_behind(tmp: Path) -> list[Path]:
    """Half-written model directories and snapshots no model names."""
    staging = list(tmp.glob(".model.tmp-*"))
    snapshots = tmp / "ingest" / "snapshots"
    return staging + (list(snapshots.iterdir()) if snapshots.exists() else [])


def test_sigterm_mid_retrain_cancels_it_and_exits_cleanly(server: Server) -> None:
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = pb_grpc.RecommendationServiceStub(channel)
        events = [pb.RatingEvent(user_id="fault-user", movie_id="1", rating=4.0)]
        answer = stub.IngestRatings(iter([pb.IngestRatingsRequest(events=events)]))
        assert answer.accepted_count == 1  # so the retrain writes a snapshot of the log
        admin = apb_grpc.AdminServiceStub(channel)
        # A fresh tuning: tens of seconds of Spark jobs to be cancelled in the middle of.
        admin.TriggerRetrain(apb.TriggerRetrainRequest(retune=True), metadata=AUTH)
        deadline = time.monotonic() + 120
        while True:
            job = admin.GetRetrainStatus(apb.GetRetrainStatusRequest(), metadata=AUTH).job
            assert job.state == apb.RETRAIN_STATE_RUNNING, job
            if job.stage == "train models":
                break
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
    time.sleep(3.0)  # well into tuning
    _stopped_cleanly(server)
    text = server.log_text()
    assert "retrain-1: cancelled by shutdown in stage 'train models'" in text, text[-3000:]
    assert "serving after" not in text  # the retrain did not finish after all
    assert _left_behind(server.tmp) == []
    # The old model serves again after a restart, and the acknowledged rating is there.
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        top = pb_grpc.RecommendationServiceStub(channel).GetTopN(
            pb.GetTopNRequest(user_id="fault-user", page_size=20)
        )
    assert top.movies and "1" not in [m.movie_id for m in top.movies]


def test_sigterm_mid_load_cancels_it_and_exits_cleanly(server: Server) -> None:
    server.start(wait_serving=False)
    deadline = time.monotonic() + 180
    while "start-up: load model ..." not in server.log_text():
        assert server.proc is not None and server.proc.poll() is None, server.log_text()[-3000:]
        assert time.monotonic() < deadline, server.log_text()[-3000:]
        time.sleep(0.1)
    _stopped_cleanly(server)
    text = server.log_text()
    assert "start-up: loading cancelled by shutdown" in text, text[-3000:]
    assert "serving model" not in text


def test_a_damaged_model_file_is_named_at_start(server: Server) -> None:
    biases = server.tmp / "model" / "biases.npz"
    biases.write_bytes(biases.read_bytes()[:100])  # cut off, as by a full disk
    server.start(wait_serving=False)
    assert server.proc is not None
    code = server.proc.wait(timeout=240)
    text = server.log_text()
    assert code == 1, text[-3000:]
    assert "biases.npz is missing or damaged" in text, text[-3000:]
    assert "Traceback" not in text, text[-3000:]


def test_the_jvm_killed_under_a_running_server_turns_health_off_and_exits(
    server: Server,
) -> None:
    server.start()
    assert server.proc is not None
    java = subprocess.run(
        ["pgrep", "-P", str(server.proc.pid), "java"], capture_output=True, text=True
    ).stdout.split()
    assert len(java) == 1
    os.kill(int(java[0]), signal.SIGKILL)
    killed = time.monotonic()
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                status = health.Check(health_pb2.HealthCheckRequest(), timeout=2).status
            except grpc.RpcError:
                break  # already gone: not serving either
            if status == health_pb2.HealthCheckResponse.NOT_SERVING:
                break
            assert time.monotonic() - killed < 10, server.log_text()[-3000:]
            time.sleep(0.2)
    code = server.proc.wait(timeout=DRAIN_S + GRACE_S + EXIT_MARGIN_S)
    text = server.log_text()
    assert code == 1, text[-3000:]
    assert "the Spark JVM is gone" in text, text[-3000:]


def test_a_following_trainer_cancels_its_retrain_when_stopped(
    demo_state: Service, tmp_path: Path, nats_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """`train --follow` at SIGTERM: the retrain in progress stops within seconds (not at its
    end), nothing is saved or announced, and no snapshot is left."""
    shutil.copytree(demo_state.config.models.model_dir, tmp_path / "model")
    config = service_config(
        tmp_path, log_backend="jetstream", log_nats_url=nats_url, log_stream="TRAINER_CANCEL"
    )
    rating_log = open_rating_log(config)
    assert isinstance(rating_log, JetStreamLog)
    control = ReplicaControl(rating_log, config.log.lease_ttl_s)
    assert demo_state.engine is not None
    trainer = FollowingTrainer(demo_state.engine, config, rating_log, control, "test-trainer")
    before = demo_state.engine.model_metadata(str(tmp_path / "model"))["version"]
    rating_log.append([NewRating("trainer-user", "1", 4.0, None)], accepted_us=1)
    caplog.set_level(logging.INFO)
    outcome: list[str | None] = []
    worker = threading.Thread(target=lambda: outcome.append(trainer.retrain_once()))
    try:
        worker.start()
        deadline = time.monotonic() + 120
        while "training on" not in caplog.text:  # fitting the models now
            assert worker.is_alive() and time.monotonic() < deadline, caplog.text[-3000:]
            time.sleep(0.05)
        cancelled = time.monotonic()
        trainer.cancel("cancelled by shutdown")
        worker.join(60)
        assert time.monotonic() - cancelled < 10
        assert control.announced() is None
    finally:
        control.stop()
        rating_log.close()
    assert outcome == [None]
    assert "trainer: retrain cancelled by shutdown" in caplog.text
    assert demo_state.engine.model_metadata(str(tmp_path / "model"))["version"] == before
    assert _left_behind(tmp_path) == []
