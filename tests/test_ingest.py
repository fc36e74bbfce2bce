"""Live ratings through the real server: per-event rejections, durability before the answer,
read-your-writes for known and new users, new movies getting factors, streamed acks."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from google.protobuf.timestamp_pb2 import Timestamp
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

from rec_service.app.service import Service
from rec_service.core.recommender import now_us

Stub = pb_grpc.RecommendationServiceStub


def event(user: str, movie: str, rating: float | None, at_us: int | None = None) -> pb.RatingEvent:
    e = pb.RatingEvent(user_id=user, movie_id=movie)
    if rating is not None:
        e.rating = rating
    if at_us is not None:
        e.event_time.CopyFrom(Timestamp(seconds=at_us // 1_000_000))
    return e


def ingest(stub: Stub, *messages: list[pb.RatingEvent]) -> pb.IngestRatingsResponse:
    return stub.IngestRatings(iter([pb.IngestRatingsRequest(events=m) for m in messages]))


def top_ids(stub: Stub, user: str, n: int = 10) -> tuple[list[str], pb.GetTopNResponse]:
    resp = stub.GetTopN(pb.GetTopNRequest(user_id=user, page_size=n))
    return [m.movie_id for m in resp.movies], resp


def test_each_bad_event_gets_its_own_reason_and_the_rest_go_on(
    stub: Stub, demo_state: Service
) -> None:
    day = 86_400_000_000
    resp = ingest(
        stub,
        [
            event("590", "1", 4.0),  # 0 good
            event("", "1", 4.0),  # 1 missing user
            event("590", "no-such-movie", 4.0),  # 2 unknown movie
            event("590", "2", 7.0),  # 3 outside the scale
        ],
        [
            event("590", "3", 3.3),  # 4 off the step
            event("590", "5", None),  # 5 missing rating
            event("590", "6", 4.0, now_us() + 2 * day),  # 6 far future
            event("bad id!", "7", 4.0),  # 7 malformed user id
            event("590", "10", 2.5, now_us() - 30 * day),  # 8 good, an old event time
        ],
    )
    assert resp.received_count == 9 and resp.accepted_count == 2
    got = {(r.index, r.field) for r in resp.rejected}
    assert got == {
        (1, "user_id"),
        (2, "movie_id"),
        (3, "rating"),
        (4, "rating"),
        (5, "rating"),
        (6, "event_time"),
        (7, "user_id"),
    }
    reasons = {r.index: r.reason for r in resp.rejected}
    assert "unknown movie id" in reasons[2] and "outside the scale 0.5-5" in reasons[3]
    assert "step" in reasons[4] and "missing" in reasons[5] and "future" in reasons[6]
    # Both good events were durable before the answer.
    assert demo_state.rating_log is not None
    logged = {(r.user_id, r.movie_id, r.rating) for r in demo_state.rating_log.read()}
    assert {("590", "1", 4.0), ("590", "10", 2.5)} <= logged


def test_read_your_writes_for_a_known_user(stub: Stub) -> None:
    before, first = top_ids(stub, "600")
    best = before[0]
    predicted = stub.PredictRating(pb.PredictRatingRequest(user_id="600", movie_id=best)).rating
    resp = ingest(stub, [event("600", best, 0.5)])
    assert resp.accepted_count == 1
    after, second = top_ids(stub, "600")
    assert second.source == pb.RECOMMENDATION_SOURCE_RECOMPUTED
    assert best not in after
    assert second.computed_at.ToMicroseconds() > first.computed_at.ToMicroseconds()
    now = stub.PredictRating(pb.PredictRatingRequest(user_id="600", movie_id=best))
    assert now.source == pb.RECOMMENDATION_SOURCE_MODEL and now.rating < predicted


def test_a_new_user_is_personalised_after_a_few_ratings(stub: Stub) -> None:
    popular, resp = top_ids(stub, "brand-new-user", 20)
    assert resp.source == pb.RECOMMENDATION_SOURCE_POPULARITY
    # Five children's animations loved, five horror films hated.
    loved = ["1", "2355", "3114", "4886", "6377"]
    hated = ["1258", "1387", "1997", "2710", "3081"]
    ingest(
        stub,
        [event("brand-new-user", m, 5.0) for m in loved]
        + [event("brand-new-user", m, 0.5) for m in hated],
    )
    personal, resp = top_ids(stub, "brand-new-user", 20)
    assert resp.source == pb.RECOMMENDATION_SOURCE_RECOMPUTED
    assert not set(personal) & set(loved + hated)
    assert personal != [m for m in popular if m not in loved + hated][:20]
    predicted = stub.PredictRating(pb.PredictRatingRequest(user_id="brand-new-user", movie_id="1"))
    assert predicted.source == pb.RECOMMENDATION_SOURCE_MODEL
    again = stub.GetTopN(pb.GetTopNRequest(user_id="brand-new-user", page_size=20))
    assert again.source == pb.RECOMMENDATION_SOURCE_PRECOMPUTED  # fresh until they rate again


def test_a_new_movie_gets_factors_once_known_users_rate_it(stub: Stub, demo_state: Service) -> None:
    model = demo_state.recommender().model
    unrated = sorted(m for m in model.movies if m not in model.item_index)
    assert unrated, "the demo catalogue has movies without ratings"
    movie = unrated[0]
    before = stub.PredictRating(pb.PredictRatingRequest(user_id="3", movie_id=movie))
    assert before.source == pb.RECOMMENDATION_SOURCE_MOVIE_MEAN
    ingest(stub, [event(u, movie, 4.5) for u in ("11", "12", "13")])
    assert movie in demo_state.recommender().model.item_index
    after = stub.PredictRating(pb.PredictRatingRequest(user_id="3", movie_id=movie))
    assert after.source == pb.RECOMMENDATION_SOURCE_MODEL
    only = pb.TopNFilter(movie_ids=[movie])
    listed = stub.GetTopN(pb.GetTopNRequest(user_id="3", filter=only))
    assert [m.movie_id for m in listed.movies] == [movie]
    rater = stub.GetTopN(pb.GetTopNRequest(user_id="11", page_size=100))
    assert movie not in [m.movie_id for m in rater.movies]  # its raters never get it back


def test_stream_acknowledges_durable_batches(stub: Stub, demo_state: Service) -> None:
    messages = [
        pb.StreamRatingsRequest(events=[event("595", str(m), 3.0) for m in (1, 2, 3)]),
        pb.StreamRatingsRequest(events=[event("595", "nope", 3.0), event("595", "5", 4.0)]),
    ]
    acks = list(stub.StreamRatings(iter(messages)))
    assert acks[-1].handled_through == 5 and acks[-1].accepted_count == 4
    rejected = [r for a in acks for r in a.rejected]
    assert [(r.index, r.field) for r in rejected] == [(3, "movie_id")]
    assert demo_state.rating_log is not None
    logged = {(r.user_id, r.movie_id) for r in demo_state.rating_log.read()}
    assert {("595", "1"), ("595", "2"), ("595", "3"), ("595", "5")} <= logged


def test_a_client_that_hangs_up_keeps_what_was_acknowledged(
    stub: Stub, demo_state: Service
) -> None:
    hung_up = threading.Event()

    def messages() -> Iterator[pb.StreamRatingsRequest]:
        for k in range(1000):
            yield pb.StreamRatingsRequest(events=[event(f"hangup-{k}", "1", 3.5)])
        hung_up.wait(60)  # the stream never ends by itself: the client cancels it

    call = stub.StreamRatings(messages())
    handled = 0
    for ack in call:
        handled = ack.handled_through
        if handled >= 10:
            call.cancel()
            hung_up.set()
            break
    assert demo_state.rating_log is not None
    logged = {r.user_id for r in demo_state.rating_log.read()}
    assert {f"hangup-{k}" for k in range(handled)} <= logged
