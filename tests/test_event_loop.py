"""The gRPC edge on grpc.aio: work that waits (a Spark query, a retrain's fit, a rating log's
fsync) runs off the event loop, so reads are answered while it waits; streams end cleanly at
their deadline and at shutdown, keeping every rating they acknowledged.

Each waiting call is held on a gate the test opens, so "while it waits" is a fact of the test,
not a matter of timing; every read carries a deadline, the bound a stalled loop would break.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc
from prometheus_client import generate_latest

from rec_service.app import retrain
from rec_service.app.service import Service

from .conftest import admin_service, served_copy

TOKEN = "event-loop-token"
AUTH = (("authorization", f"Bearer {TOKEN}"),)
READ_DEADLINE_S = 10.0  # far above a read's milliseconds; a stalled loop would pass it
READS = 20


class Gate:
    """Wraps a function so that a call waits at the gate until the test opens it."""

    def __init__(self, work: Callable[..., Any]) -> None:
        self._work = work
        self.reached = threading.Event()
        self.opened = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.reached.set()
        assert self.opened.wait(120), "the test never opened the gate"
        return self._work(*args, **kwargs)


@pytest.fixture(scope="module")
def served(
    demo_state: Service, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Service, grpc.Channel]]:
    with admin_service(demo_state, tmp_path_factory.mktemp("event-loop"), TOKEN) as both:
        yield both


def reads_answer(channel: grpc.Channel) -> None:
    """READS GetTopN and PredictRating calls, each within READ_DEADLINE_S."""
    stub = pb_grpc.RecommendationServiceStub(channel)
    for k in range(READS):
        user = str(1 + k % 50)
        assert stub.GetTopN(pb.GetTopNRequest(user_id=user), timeout=READ_DEADLINE_S).movies
        stub.PredictRating(
            pb.PredictRatingRequest(user_id=user, movie_id="1"), timeout=READ_DEADLINE_S
        )


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except grpc.RpcError as exc:
            outcome["error"] = exc.code()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_reads_are_answered_while_an_operator_query_runs(
    served: tuple[Service, grpc.Channel], monkeypatch: pytest.MonkeyPatch
) -> None:
    service, channel = served
    queries = service.operations.get().operator_sql
    gate = Gate(queries.run)
    monkeypatch.setattr(queries, "run", gate)
    admin = apb_grpc.AdminServiceStub(channel)
    query = apb.QuerySqlRequest(sql="SELECT count(*) AS n FROM rec_lists")
    thread, outcome = in_thread(lambda: admin.QuerySql(query, metadata=AUTH, timeout=120))
    try:
        assert gate.reached.wait(60)
        reads_answer(channel)
        assert thread.is_alive() and not outcome  # the query is still held
    finally:
        gate.opened.set()
        thread.join(120)
    assert outcome["value"].rows[0].values[0].number_value > 0


def test_reads_are_answered_while_a_retrain_fits(
    served: tuple[Service, grpc.Channel], monkeypatch: pytest.MonkeyPatch
) -> None:
    service, channel = served

    def fit_refused(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the test's held fit ends here")

    gate = Gate(fit_refused)
    monkeypatch.setattr(retrain, "build_model", gate)
    admin = apb_grpc.AdminServiceStub(channel)
    started = admin.TriggerRetrain(apb.TriggerRetrainRequest(), metadata=AUTH, timeout=60)
    assert started.job.state == apb.RETRAIN_STATE_RUNNING
    try:
        assert gate.reached.wait(120)
        reads_answer(channel)
        status = admin.GetRetrainStatus(apb.GetRetrainStatusRequest(), metadata=AUTH, timeout=10)
        assert status.job.state == apb.RETRAIN_STATE_RUNNING
    finally:
        gate.opened.set()
    retrainer = service.operations.get().retrainer
    assert retrainer.wait(120)
    job = admin.GetRetrainStatus(apb.GetRetrainStatusRequest(), metadata=AUTH, timeout=10).job
    assert job.state == apb.RETRAIN_STATE_FAILED and "held fit" in job.error


def test_reads_are_answered_while_a_rating_commit_waits_on_the_disk(
    served: tuple[Service, grpc.Channel], monkeypatch: pytest.MonkeyPatch
) -> None:
    service, channel = served
    assert service.rating_log is not None
    gate = Gate(service.rating_log.append)
    monkeypatch.setattr(service.rating_log, "append", gate)
    stub = pb_grpc.RecommendationServiceStub(channel)
    events = [pb.RatingEvent(user_id="held-disk", movie_id="1", rating=4.0)]
    thread, outcome = in_thread(
        lambda: stub.IngestRatings(iter([pb.IngestRatingsRequest(events=events)]), timeout=120)
    )
    try:
        assert gate.reached.wait(60)
        reads_answer(channel)
        assert thread.is_alive() and not outcome  # not acknowledged before it is durable
    finally:
        gate.opened.set()
        thread.join(120)
    assert outcome["value"].accepted_count == 1


def _slow_stream(user: str, first: int, stop: threading.Event) -> Iterator[pb.StreamRatingsRequest]:
    """`first` messages of one rating each, then nothing until `stop` (the client's end)."""
    for k in range(first):
        yield pb.StreamRatingsRequest(
            events=[pb.RatingEvent(user_id=user, movie_id=str(1 + k), rating=3.0)]
        )
    stop.wait(120)


def _recorded(service: Service, method: str) -> dict[str, float]:
    """movierec_rpc_requests_total for `method`, by code."""
    counts = {}
    for line in generate_latest(service.telemetry.registry).decode().splitlines():
        if line.startswith("movierec_rpc_requests_total{") and f'method="{method}"' in line:
            counts[line.split('code="')[1].split('"')[0]] = float(line.split()[-1])
    return counts


def test_a_stream_past_its_deadline_keeps_what_it_acknowledged(
    served: tuple[Service, grpc.Channel],
) -> None:
    service, channel = served
    method = "/movierec.v1.RecommendationService/StreamRatings"
    before = _recorded(service, method).get("DEADLINE_EXCEEDED", 0)
    stop = threading.Event()
    stub = pb_grpc.RecommendationServiceStub(channel)
    handled = 0
    with pytest.raises(grpc.RpcError) as ended:
        for ack in stub.StreamRatings(_slow_stream("deadline", 3, stop), timeout=3):
            handled = ack.handled_through
    stop.set()
    assert ended.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert handled == 3  # each message was acknowledged before the deadline
    assert service.rating_log is not None
    logged = {(r.user_id, r.movie_id) for r in service.rating_log.read()}
    assert {("deadline", "1"), ("deadline", "2"), ("deadline", "3")} <= logged
    # The server saw the call end at its deadline, and serves on.
    for _ in range(100):
        if _recorded(service, method).get("DEADLINE_EXCEEDED", 0) > before:
            break
        threading.Event().wait(0.1)
    assert _recorded(service, method).get("DEADLINE_EXCEEDED") == before + 1, _recorded(
        service, method
    )
    reads_answer(channel)


def test_shutdown_ends_streams_in_flight_and_keeps_what_they_acknowledged(
    demo_state: Service, tmp_path: Path
) -> None:
    stop = threading.Event()
    with served_copy(demo_state, tmp_path) as (service, server, port):
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.RecommendationServiceStub(channel)
            ratings = stub.StreamRatings(_slow_stream("shutdown", 5, stop))
            watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
            assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
            handled = 0
            for ack in ratings:
                handled = ack.handled_through
                if handled == 5:
                    break
            service.begin_shutdown()
            assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
            service.grace_over.set()
            assert server.stop(grace=0.5).wait(60)
            for call in (ratings, watch):
                with pytest.raises(grpc.RpcError) as ended:
                    next(call)
                assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
        stop.set()
        assert service.rating_log is not None
        logged = {(r.user_id, r.movie_id) for r in service.rating_log.read()}
        assert {("shutdown", str(m)) for m in range(1, 6)} <= logged
