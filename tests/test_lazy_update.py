"""Lazy update on read, through the real server: fresh lists served, stale ones recomputed and
written back to the rec_lists Spark SQL table, access counts recorded in user_activity."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc
from pyspark.sql import SparkSession

from rec_service.app.service import Service
from rec_service.core.recommender import now_us
from rec_service.domain.model_types import RecList
from rec_service.edge.servicer import RecommendationServicer

T = TypeVar("T")


def forget(lists: object, user_id: str) -> None:
    """Drops a user's list from the Spark store's index, as if none had been computed (the
    table keeps its row until a new list replaces it)."""
    with lists._lock:  # type: ignore[attr-defined]
        lists._index.remove(user_id)  # type: ignore[attr-defined]
        lists._pending.discard(user_id)  # type: ignore[attr-defined]


def _micros(ts) -> int:  # type: ignore[no-untyped-def]
    return ts.seconds * 1_000_000 + ts.nanos // 1000


def _table_row(spark: SparkSession, user_id: str):  # type: ignore[no-untyped-def]
    rows = spark.sql(
        "SELECT movie_ids, unix_micros(computed_at) AS at, model_version FROM rec_lists "
        f"WHERE user_id = '{user_id}'"
    ).collect()
    assert len(rows) == 1
    return rows[0]


def test_fresh_list_is_served_without_recompute(
    stub: pb_grpc.RecommendationServiceStub, demo_state: Service
) -> None:
    stored = demo_state.recommender().lists.get("7")
    assert stored is not None
    first = stub.GetTopN(pb.GetTopNRequest(user_id="7", page_size=5))
    second = stub.GetTopN(pb.GetTopNRequest(user_id="7", page_size=5))
    for resp in (first, second):
        assert resp.source == pb.RECOMMENDATION_SOURCE_PRECOMPUTED
        assert _micros(resp.computed_at) == stored.computed_at_us
        assert [m.movie_id for m in resp.movies] == list(stored.movie_ids[:5])
    assert demo_state.recommender().lists.get("7") == stored  # nothing rewritten


def test_activity_after_list_time_recomputes_and_writes_back(
    stub: pb_grpc.RecommendationServiceStub, demo_state: Service, spark: SparkSession
) -> None:
    rec = demo_state.recommender()
    model = rec.model
    # An old list with made-up contents, then activity after it: the next read must replace it.
    bogus = RecList(("1", "2", "3"), (9.0, 8.0, 7.0), now_us() - 10_000_000, model.version)
    forget(rec.lists, "15")
    rec.lists.put("15", bogus)
    demo_state.flush()
    assert list(_table_row(spark, "15").movie_ids) == ["1", "2", "3"]
    rec.activity.record_activity("15", now_us())

    resp = stub.GetTopN(pb.GetTopNRequest(user_id="15", page_size=10))
    assert resp.source == pb.RECOMMENDATION_SOURCE_RECOMPUTED
    assert _micros(resp.computed_at) > rec.activity.last_active_us("15")
    returned = [m.movie_id for m in resp.movies]
    assert returned != ["1", "2", "3"] and len(returned) == 10

    demo_state.flush()
    row = _table_row(spark, "15")
    assert row.at == _micros(resp.computed_at)
    assert list(row.movie_ids)[:10] == returned
    assert row.model_version == model.version

    again = stub.GetTopN(pb.GetTopNRequest(user_id="15", page_size=10))
    assert again.source == pb.RECOMMENDATION_SOURCE_PRECOMPUTED
    assert again.computed_at == resp.computed_at


def test_missing_list_is_computed_on_read(
    stub: pb_grpc.RecommendationServiceStub, demo_state: Service
) -> None:
    rec = demo_state.recommender()
    forget(rec.lists, "21")
    resp = stub.GetTopN(pb.GetTopNRequest(user_id="21", page_size=3))
    assert resp.source == pb.RECOMMENDATION_SOURCE_RECOMPUTED
    assert rec.lists.get("21") is not None


def test_list_from_an_older_model_version_is_stale(
    stub: pb_grpc.RecommendationServiceStub, demo_state: Service
) -> None:
    rec = demo_state.recommender()
    forget(rec.lists, "22")
    rec.lists.put("22", RecList(("1",), (1.0,), now_us(), "some-older-version"))
    resp = stub.GetTopN(pb.GetTopNRequest(user_id="22", page_size=3))
    assert resp.source == pb.RECOMMENDATION_SOURCE_RECOMPUTED
    assert resp.model_version == rec.model.version


def test_write_back_never_replaces_a_newer_list(demo_state: Service) -> None:
    lists = demo_state.recommender().lists
    newer = RecList(("10",), (1.0,), now_us(), "v")
    lists.put("newer-wins", newer)
    assert lists.put("newer-wins", RecList(("20",), (2.0,), newer.computed_at_us - 1, "v")) == newer
    assert lists.get("newer-wins") == newer


def test_reads_count_in_user_activity(
    stub: pb_grpc.RecommendationServiceStub, demo_state: Service, spark: SparkSession
) -> None:
    demo_state.flush()
    query = "SELECT access_count FROM user_activity WHERE user_id = '33'"
    before = spark.sql(query).collect()[0][0]
    for _ in range(3):
        stub.GetTopN(pb.GetTopNRequest(user_id="33"))
    demo_state.flush()
    assert spark.sql(query).collect()[0][0] == before + 3


def test_background_write_back_reaches_the_table(
    stub: pb_grpc.RecommendationServiceStub, demo_state: Service, spark: SparkSession
) -> None:
    import time

    demo_state.recommender().activity.record_activity("44", now_us())
    resp = stub.GetTopN(pb.GetTopNRequest(user_id="44"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the write-back thread runs every 0.2 s in tests
        rows = spark.sql(
            "SELECT unix_micros(computed_at) FROM rec_lists WHERE user_id = '44'"
        ).collect()
        if rows and rows[0][0] == _micros(resp.computed_at):
            return
        time.sleep(0.2)
    raise AssertionError("rewritten list never reached rec_lists")


async def _inline(work: Callable[[], T]) -> T:
    return work()


def test_cached_fresh_response_is_dropped_when_the_list_changes(
    stub: pb_grpc.RecommendationServiceStub, demo_state: Service
) -> None:
    rec = demo_state.recommender()
    request = pb.GetTopNRequest(user_id="9", page_size=4)
    # In process, a cached answer is the very same message object; a rebuilt one is not.
    servicer = RecommendationServicer(
        demo_state.read_write, demo_state.telemetry.topn_answers, _inline
    )
    first = asyncio.run(servicer.GetTopN(request, None))  # type: ignore[arg-type]
    assert first.source == pb.RECOMMENDATION_SOURCE_PRECOMPUTED
    assert asyncio.run(servicer.GetTopN(request, None)) is first  # type: ignore[arg-type]
    cached = stub.GetTopN(request)
    rec.activity.record_activity("9", now_us())
    recomputed = stub.GetTopN(request)
    assert recomputed.source == pb.RECOMMENDATION_SOURCE_RECOMPUTED
    after = stub.GetTopN(request)
    assert after.source == pb.RECOMMENDATION_SOURCE_PRECOMPUTED
    assert after.computed_at == recomputed.computed_at != cached.computed_at
    current = rec.lists.get("9")
    assert current is not None and _micros(after.computed_at) == current.computed_at_us
