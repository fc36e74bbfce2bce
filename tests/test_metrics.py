"""The Prometheus endpoint during traffic: scraped over HTTP, parsed with prometheus_client's
own parser, and each counter moved by exactly what the test did."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator

import grpc
import pytest
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc
from prometheus_client.parser import text_string_to_metric_families

from rec_service.app.service import Service

from .conftest import admin_service

TOKEN = "metrics-token"
AUTH = (("authorization", f"Bearer {TOKEN}"),)
GET_TOP_N = "/movierec.v1.RecommendationService/GetTopN"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="module")
def service(
    demo_state: Service, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Service, grpc.Channel]]:
    with admin_service(
        demo_state,
        tmp_path_factory.mktemp("metrics"),
        TOKEN,
        metrics_port=0,
    ) as service:
        yield service


def scrape(state: Service) -> Samples:
    url = f"http://127.0.0.1:{state.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum over every series of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def test_counters_move_by_what_was_done(service: tuple[Service, grpc.Channel]) -> None:
    state, channel = service
    stub = pb_grpc.RecommendationServiceStub(channel)
    admin = apb_grpc.AdminServiceStub(channel)
    before = scrape(state)

    for _ in range(25):
        stub.GetTopN(pb.GetTopNRequest(user_id="1"))
    for _ in range(3):
        with pytest.raises(grpc.RpcError):
            stub.GetTopN(pb.GetTopNRequest(user_id="1", page_size=-1))
    events = [pb.RatingEvent(user_id="metrics-u", movie_id=m, rating=4.0) for m in ("1", "2")]
    events.append(pb.RatingEvent(user_id="metrics-u", movie_id="3", rating=4.0))
    events.append(pb.RatingEvent(user_id="metrics-u", movie_id="no-such-movie", rating=4.0))
    stub.IngestRatings(iter([pb.IngestRatingsRequest(events=events)]))
    recomputed = stub.GetTopN(pb.GetTopNRequest(user_id="metrics-u"))
    assert recomputed.source == pb.RECOMMENDATION_SOURCE_RECOMPUTED
    admin.QuerySql(apb.QuerySqlRequest(sql="SELECT 1"), metadata=AUTH)
    with pytest.raises(grpc.RpcError):
        admin.QuerySql(apb.QuerySqlRequest(sql="DROP VIEW ratings"), metadata=AUTH)
    with pytest.raises(grpc.RpcError):
        admin.GetModelInfo(apb.GetModelInfoRequest())  # no token

    after = scrape(state)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    def moved_total(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("movierec_rpc_requests_total", method=GET_TOP_N, code="OK") == 26
    assert moved("movierec_rpc_requests_total", method=GET_TOP_N, code="INVALID_ARGUMENT") == 3
    assert moved("movierec_rpc_duration_seconds_count", method=GET_TOP_N) == 29
    assert (
        moved(
            "movierec_rpc_requests_total",
            method="/movierec.v1.AdminService/GetModelInfo",
            code="UNAUTHENTICATED",
        )
        == 1
    )
    assert moved_total("movierec_topn_answers_total") == 26
    assert moved("movierec_topn_answers_total", source="RECOMPUTED") >= 1
    assert moved("movierec_recompute_duration_seconds_count") >= 1
    assert moved("movierec_ingest_events_total", outcome="accepted") == 3
    assert moved("movierec_ingest_events_total", outcome="rejected") == 1
    assert moved("movierec_ingest_batch_size_count") == 1
    assert moved("movierec_ingest_batch_size_sum") == 3
    assert moved("movierec_rating_log_fsync_duration_seconds_count") >= 1
    assert value(after, "movierec_rating_log_bytes") > value(before, "movierec_rating_log_bytes")
    assert moved("movierec_ratings_since_model") == 3
    assert moved("movierec_sql_queries_total", outcome="ok") == 1
    assert moved("movierec_sql_queries_total", outcome="refused") == 1
    assert value(after, "movierec_spark_up") == 1 and value(after, "movierec_serving") == 1
    version = state.recommender().live.version
    assert value(after, "movierec_model_info", version=version) == 1
    assert ("movierec_writeback_queue_lists", ()) in after
    assert ("movierec_retrain_runs_total", (("outcome", "succeeded"),)) in after


def test_a_failed_call_is_logged_with_its_request_id(
    service: tuple[Service, grpc.Channel], caplog: pytest.LogCaptureFixture
) -> None:
    stub = pb_grpc.RecommendationServiceStub(service[1])
    with (
        caplog.at_level(logging.INFO, logger="rec_service.edge.call_log"),
        pytest.raises(grpc.RpcError),
    ):
        stub.GetTopN(
            pb.GetTopNRequest(user_id="1", page_size=-1),
            metadata=(("x-request-id", "req-123"),),
        )
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == "req-123"]
    assert len(logged) == 1
    record = logged[0]
    assert record.levelno == logging.INFO  # the caller's fault, not the server's
    assert record.method == GET_TOP_N and record.code == "INVALID_ARGUMENT"  # type: ignore[attr-defined]


def test_the_lists_gauge_follows_what_a_read_would_do(
    service: tuple[Service, grpc.Channel],
) -> None:
    """A trained user without a list is missing until read; the list read then is fresh until
    the user rates a movie (stale), and fresh again once the next read recomputed it."""
    state, channel = service
    stub = pb_grpc.RecommendationServiceStub(channel)
    recommender = state.recommender()
    user = next(u for u in recommender.model.user_index if recommender.lists.stamp(u) is None)

    def lists() -> dict[str, float]:
        samples = scrape(state)
        return {s: value(samples, "movierec_lists", state=s) for s in ("fresh", "stale", "missing")}

    start = lists()
    assert sum(start.values()) >= len(recommender.model.user_index)
    stub.GetTopN(pb.GetTopNRequest(user_id=user))
    read = lists()
    assert (read["missing"], read["fresh"]) == (start["missing"] - 1, start["fresh"] + 1)
    rated = pb.RatingEvent(user_id=user, movie_id="1", rating=4.0)
    stub.IngestRatings(iter([pb.IngestRatingsRequest(events=[rated])]))
    rated_since = lists()
    assert (rated_since["fresh"], rated_since["stale"]) == (read["fresh"] - 1, read["stale"] + 1)
    again = stub.GetTopN(pb.GetTopNRequest(user_id=user))
    assert again.source == pb.RECOMMENDATION_SOURCE_RECOMPUTED
    assert lists() == read
