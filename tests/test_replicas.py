"""Two serving replicas over one NATS JetStream rating log (`log_backend = "jetstream"`), each
its own `movierec serve` process, against a nats-server this test starts: a rating accepted at
one replica is read at the other with its log position, a replica killed with kill -9 catches
up on restart and loses nothing acknowledged, a position not yet applied is UNAVAILABLE, and a
retrain runs at one replica at a time (a JetStream key-value lease) and is loaded by both with
no failed read."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import pytest
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

from rec_service.app.service import Service

from .conftest import PROJECT_ROOT
from .test_crash import AUTH, Server


def replica(
    shared: Path, root: Path, nats_url: str, stream: str = "RATINGS_TEST", model_dir: str = ""
) -> Server:
    """A replica with its own state directory; the model and snapshot directories are shared,
    as replicas' are (a retrain's result is loaded by all)."""
    root.mkdir()
    return Server(
        root,
        "--model-dir", model_dir or str(shared / "model"),
        "--snapshot-dir", str(shared / "snapshots"),
        "--log-backend", "jetstream", "--log-nats-url", nats_url,
        "--log-stream", stream, "--log-read-wait-s", "5",
        "--tuning-enabled", "false",
    )  # fmt: skip


def ended_job(server: Server, deadline: float) -> apb.RetrainJob:
    """The replica's last retrain job once it is no longer running (or at the deadline). A
    replica serves a new model from its swap stage on; its job ends only after compaction."""
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        admin = apb_grpc.AdminServiceStub(channel)
        while True:
            job = admin.GetRetrainStatus(apb.GetRetrainStatusRequest(), metadata=AUTH).job
            if job.state != apb.RETRAIN_STATE_RUNNING or time.monotonic() > deadline:
                return job
            time.sleep(0.5)


def rate(stub: pb_grpc.RecommendationServiceStub, user: str, *movies: str) -> int:
    answer = stub.IngestRatings(
        iter([pb.IngestRatingsRequest(
            events=[pb.RatingEvent(user_id=user, movie_id=m, rating=5.0) for m in movies]
        )])
    )  # fmt: skip
    assert answer.accepted_count == len(movies)
    assert answer.log_position > 0
    return answer.log_position


def top(stub: pb_grpc.RecommendationServiceStub, user: str, position: int = 0) -> list[str]:
    answer = stub.GetTopN(pb.GetTopNRequest(user_id=user, page_size=10, min_log_position=position))
    return [m.movie_id for m in answer.movies]


def test_replicas_share_one_jetstream_log(
    demo_state: Service, tmp_path: Path, nats_url: str
) -> None:
    shared = tmp_path / "shared"
    shutil.copytree(demo_state.config.models.model_dir, shared / "model")  # skip training
    a = replica(shared, tmp_path / "a", nats_url)
    b = replica(shared, tmp_path / "b", nats_url)
    a.start()
    b.start()
    try:
        with (
            grpc.insecure_channel(f"127.0.0.1:{a.port}") as to_a,
            grpc.insecure_channel(f"127.0.0.1:{b.port}") as to_b,
        ):
            at_a = pb_grpc.RecommendationServiceStub(to_a)
            at_b = pb_grpc.RecommendationServiceStub(to_b)

            # Rate at A, read at B with A's position: B's list reflects the rating.
            before = top(at_b, "replica-user")
            position = rate(at_a, "replica-user", before[0], before[1])
            after = top(at_b, "replica-user", position)
            assert before[0] not in after and before[1] not in after and after != before[2:]
            prediction = at_b.PredictRating(
                pb.PredictRatingRequest(
                    user_id="replica-user", movie_id=after[0], min_log_position=position
                )
            )
            assert 0.5 <= prediction.rating <= 5.0
            # Both replicas apply in stream order: B's own ingest is read back at A too.
            back = rate(at_b, "replica-user", after[0])
            assert back > position and after[0] not in top(at_a, "replica-user", back)

            # A position no replica has reached: UNAVAILABLE (retryable) after the bound.
            with pytest.raises(grpc.RpcError) as refused:
                top(at_a, "replica-user", back + 1000)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE

            # B dies (kill -9); ratings acknowledged at A meanwhile are at B once it serves again.
            b.kill9()
            while_down = top(at_a, "down-user")
            missed = rate(at_a, "down-user", *while_down[:3])
        b.start()
        with grpc.insecure_channel(f"127.0.0.1:{b.port}") as to_b:
            at_b = pb_grpc.RecommendationServiceStub(to_b)
            caught_up = top(at_b, "down-user")  # no position: catch-up ran before SERVING
            assert not set(while_down[:3]) & set(caught_up)
            assert not {before[0], before[1], after[0]} & set(top(at_b, "replica-user", missed))
        retrain_once_for_both(a, b)
    finally:
        a.stop()
        b.stop()


def model_version(server: Server) -> str:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        info = apb_grpc.AdminServiceStub(channel).GetModelInfo(
            apb.GetModelInfoRequest(), metadata=AUTH
        )
        return info.model_version


def retrain_once_for_both(a: Server, b: Server) -> None:
    """Retrains triggered at both replicas at once: one runs (the other is refused the lease),
    both end up serving its model, and B answers every read meanwhile."""
    old = model_version(a)
    assert model_version(b) == old
    failures: list[BaseException] = []
    reads = 0
    done = threading.Event()

    def read_b() -> None:
        nonlocal reads
        with grpc.insecure_channel(f"127.0.0.1:{b.port}") as channel:
            stub = pb_grpc.RecommendationServiceStub(channel)
            while not done.is_set():
                try:
                    top(stub, f"reader-{reads % 50}")
                    reads += 1
                except grpc.RpcError as exc:
                    failures.append(exc)

    reader = threading.Thread(target=read_b)
    reader.start()
    try:
        jobs = {}
        for name, server in (("a", a), ("b", b)):
            with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
                admin = apb_grpc.AdminServiceStub(channel)
                jobs[name] = admin.TriggerRetrain(apb.TriggerRetrainRequest(), metadata=AUTH).job
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            versions = {model_version(a), model_version(b)}
            if len(versions) == 1 and old not in versions:
                break
            time.sleep(1)
        else:
            raise AssertionError(f"the replicas did not both load a new model: {versions}")
    finally:
        done.set()
        reader.join()
    assert not failures and reads > 0
    finished = [ended_job(server, deadline) for server in (a, b)]
    built = [j for j in finished if j.trigger == "admin" and j.state == apb.RETRAIN_STATE_SUCCEEDED]
    adopted = [j for j in finished if j.trigger.startswith("announced")]
    # One replica built the model; the other was refused the lease (its failed job is replaced
    # by the one that loaded the announced model).
    assert len(built) == 1 and len(adopted) == 1, [(j.trigger, j.state, j.error) for j in finished]
    assert adopted[0].state == apb.RETRAIN_STATE_SUCCEEDED


def model_info(server: Server) -> apb.GetModelInfoResponse:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        admin = apb_grpc.AdminServiceStub(channel)
        return admin.GetModelInfo(apb.GetModelInfoRequest(), metadata=AUTH)


def test_a_trainer_process_retrains_for_the_replicas(
    demo_state: Service, tmp_path: Path, nats_url: str
) -> None:
    """`movierec train --follow` beside a replica: once the stream holds retrain_after_ratings
    new ratings it builds a model with them under the lease and announces it; the replica,
    whose own schedule is off, loads it. Both reach the shared model_dir by a Hadoop filesystem
    URL (file:// here, as hdfs:// or s3a:// on a cluster)."""
    shared = tmp_path / "shared"
    shutil.copytree(demo_state.config.models.model_dir, shared / "model")
    model_url = (shared / "model").as_uri()
    a = replica(shared, tmp_path / "a", nats_url, stream="RATINGS_TRAINER", model_dir=model_url)
    a.start()
    (tmp_path / "trainer").mkdir()
    trainer_log = open(tmp_path / "trainer" / "trainer.log", "ab")  # noqa: SIM115 (the child's)
    trainer = subprocess.Popen(
        [
            sys.executable, "-m", "rec_service.edge.cli", "train", "--follow",
            "--model-dir", model_url, "--snapshot-dir", str(shared / "snapshots"),
            "--ingest-dir", str(tmp_path / "trainer" / "ingest"),
            "--log-backend", "jetstream", "--log-nats-url", nats_url,
            "--log-stream", "RATINGS_TRAINER", "--tuning-enabled", "false",
            "--retrain-after-ratings", "3", "--retrain-interval-s", "0",
            "--spark-driver-memory", "1g",
        ],
        cwd=PROJECT_ROOT, stdout=trainer_log, stderr=trainer_log,
    )  # fmt: skip
    try:
        before = model_info(a)
        with grpc.insecure_channel(f"127.0.0.1:{a.port}") as to_a:
            at_a = pb_grpc.RecommendationServiceStub(to_a)
            rate(at_a, "trained-user", *top(at_a, "trained-user")[:3])
        deadline = time.monotonic() + 600
        while model_info(a).model_version == before.model_version:
            assert trainer.poll() is None, (tmp_path / "trainer" / "trainer.log").read_text()
            assert time.monotonic() < deadline, "the replica did not load a model from the trainer"
            time.sleep(1)
        after = model_info(a)
        assert after.rating_count == before.rating_count + 3  # the trainer merged the stream
        job = ended_job(a, deadline)
        assert job.trigger == f"announced {after.model_version}"
        assert job.state == apb.RETRAIN_STATE_SUCCEEDED
        assert trainer.poll() is None  # it stays for the next one
    finally:
        trainer.terminate()
        assert trainer.wait(timeout=60) == 0
        a.stop()
