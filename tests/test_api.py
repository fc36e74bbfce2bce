"""GetTopN and PredictRating through the real server on the demo data: answers and errors."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc
from pyspark.sql import SparkSession

from rec_service.app.service import Service
from rec_service.core.serving_model import MEAN_DAMPING

Stub = pb_grpc.RecommendationServiceStub


def _rated(spark: SparkSession, user_id: str) -> set[str]:
    return {
        r[0]
        for r in spark.sql(f"SELECT movie_id FROM ratings WHERE user_id = '{user_id}'").collect()
    }


@pytest.mark.parametrize("user_id", ["1", "68", "414"])  # 414 and 68 rated the most movies
def test_rated_movies_never_returned(stub: Stub, spark: SparkSession, user_id: str) -> None:
    rated = _rated(spark, user_id)
    query = (
        "SELECT movie_id FROM movies WHERE array_contains(genres, 'Drama') AND rating_count >= 25"
    )
    dramas = {r[0] for r in spark.sql(query).collect()}
    for flt, expected in (
        (None, 100),
        (
            pb.TopNFilter(include_genres=["Drama"], min_rating_count=25),
            min(100, len(dramas - rated)),
        ),
    ):
        req = pb.GetTopNRequest(user_id=user_id, page_size=100, filter=flt)
        ids = [m.movie_id for m in stub.GetTopN(req).movies]
        assert len(ids) == expected
        assert not rated & set(ids)


def test_page_size_default_and_coercion(stub: Stub) -> None:
    assert len(stub.GetTopN(pb.GetTopNRequest(user_id="1")).movies) == 10
    assert len(stub.GetTopN(pb.GetTopNRequest(user_id="1", page_size=500)).movies) == 100


def test_scores_descend_and_titles_are_whole(stub: Stub) -> None:
    resp = stub.GetTopN(pb.GetTopNRequest(user_id="2", page_size=50))
    scores = [m.score for m in resp.movies]
    assert scores == sorted(scores, reverse=True)
    resp = stub.GetTopN(pb.GetTopNRequest(user_id="2", filter=pb.TopNFilter(movie_ids=["1221"])))
    assert [(m.title, list(m.genres)) for m in resp.movies] == [
        ("Godfather: Part II, The (1974)", ["Crime", "Drama"])
    ]


def test_filtered_request_fills_the_page(stub: Stub, spark: SparkSession) -> None:
    # Documentaries with 10+ ratings are rare in the top of any list: the stored list cannot
    # fill the page, so the server must rank the whole catalogue.
    flt = pb.TopNFilter(
        include_genres=["Documentary"], exclude_genres=["Comedy"], min_rating_count=10
    )
    resp = stub.GetTopN(pb.GetTopNRequest(user_id="3", page_size=12, filter=flt))
    qualifying = spark.sql(
        "SELECT count(*) FROM movies WHERE array_contains(genres, 'Documentary') "
        "AND NOT array_contains(genres, 'Comedy') AND rating_count >= 10 "
        "AND movie_id NOT IN (SELECT movie_id FROM ratings WHERE user_id = '3')"
    ).collect()[0][0]
    assert qualifying >= 12
    assert len(resp.movies) == 12
    for movie in resp.movies:
        assert "Documentary" in movie.genres and "Comedy" not in movie.genres
    counts = dict(spark.sql("SELECT movie_id, rating_count FROM movies").collect())
    assert all(counts[m.movie_id] >= 10 for m in resp.movies)


def test_filter_that_few_movies_pass_returns_all_of_them(stub: Stub) -> None:
    flt = pb.TopNFilter(movie_ids=["1", "2", "3", "1221"], min_rating_count=1)
    resp = stub.GetTopN(pb.GetTopNRequest(user_id="5", page_size=10, filter=flt))
    assert {m.movie_id for m in resp.movies} <= {"1", "2", "3", "1221"}
    assert len(resp.movies) >= 1


def test_unknown_user_gets_labelled_popularity(stub: Stub, spark: SparkSession) -> None:
    resp = stub.GetTopN(pb.GetTopNRequest(user_id="new-user@example", page_size=5))
    assert resp.source == pb.RECOMMENDATION_SOURCE_POPULARITY
    query = "SELECT movie_id FROM movies ORDER BY rating_count DESC, movie_id LIMIT 1"
    assert resp.movies[0].movie_id == spark.sql(query).collect()[0][0]
    counts = [m.score for m in resp.movies]
    assert counts == sorted(counts, reverse=True)


def test_predict_known_user_uses_the_model_within_scale(stub: Stub, demo_state: Service) -> None:
    resp = stub.PredictRating(pb.PredictRatingRequest(user_id="1", movie_id="1221"))
    assert resp.source == pb.RECOMMENDATION_SOURCE_MODEL
    assert 0.5 <= resp.rating <= 5.0
    assert (resp.min_rating, resp.max_rating) == (0.5, 5.0)
    model = demo_state.recommender().model
    u, j, rating = model.user_index["1"], model.item_index["1221"], model.rating
    # The bias-aware rating model: mean + user bias + movie bias + factors.
    raw = float(
        rating.mean
        + rating.user_bias[u]
        + rating.item_bias[j]
        + rating.user_factors[u] @ rating.item_factors[j]
    )
    assert resp.rating == pytest.approx(min(5.0, max(0.5, raw)))


def test_predict_unknown_user_is_the_damped_movie_mean(stub: Stub, demo_state: Service) -> None:
    resp = stub.PredictRating(pb.PredictRatingRequest(user_id="stranger", movie_id="1221"))
    assert resp.source == pb.RECOMMENDATION_SOURCE_MOVIE_MEAN
    # The demo service's own training ratings: the global `ratings` view is whichever service
    # of this Spark session published last (a retrained one has more ratings).
    ratings = demo_state.retrainer().generation.tables.ratings
    total, count, glob = ratings.selectExpr(
        "sum(CASE WHEN movie_id = '1221' THEN rating END)",
        "count(CASE WHEN movie_id = '1221' THEN 1 END)",
        "avg(rating)",
    ).collect()[0]
    assert resp.rating == pytest.approx((total + MEAN_DAMPING * glob) / (count + MEAN_DAMPING))


def test_predict_unknown_movie_is_not_found(stub: Stub) -> None:
    with pytest.raises(grpc.RpcError) as err:
        stub.PredictRating(pb.PredictRatingRequest(user_id="1", movie_id="99999999"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def _top(**changes: object) -> pb.GetTopNRequest:
    req = pb.GetTopNRequest(user_id="1", page_size=10)
    for key, value in changes.items():
        if key == "filter":
            req.filter.CopyFrom(value)  # type: ignore[arg-type]
        else:
            setattr(req, key, value)
    return req


BAD_TOP_N = [
    ("empty user", _top(user_id=""), "user_id"),
    ("user with space", _top(user_id="a b"), "user_id"),
    ("user too long", _top(user_id="u" * 65), "user_id"),
    ("negative page", _top(page_size=-1), "page_size"),
    ("huge page", _top(page_size=1_000_000), "page_size"),
    (
        "unknown genre",
        _top(filter=pb.TopNFilter(include_genres=["Cooking"])),
        "filter.include_genres[0]",
    ),
    (
        "empty genre",
        _top(filter=pb.TopNFilter(exclude_genres=["Drama", ""])),
        "filter.exclude_genres[1]",
    ),
    (
        "negative min count",
        _top(filter=pb.TopNFilter(min_rating_count=-3)),
        "filter.min_rating_count",
    ),
    (
        "unknown allowed movie",
        _top(filter=pb.TopNFilter(movie_ids=["1", "0"])),
        "filter.movie_ids[1]",
    ),
    ("empty allowed movie", _top(filter=pb.TopNFilter(movie_ids=[""])), "filter.movie_ids[0]"),
]


def _violations(err: grpc.RpcError) -> list[str]:
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    assert status is not None
    fields = []
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        assert detail.Unpack(bad)
        fields += [v.field for v in bad.field_violations]
    return fields


@pytest.mark.parametrize(("case", "request_", "field"), BAD_TOP_N, ids=[c[0] for c in BAD_TOP_N])
def test_bad_top_n_requests(stub: Stub, case: str, request_: pb.GetTopNRequest, field: str) -> None:
    with pytest.raises(grpc.RpcError) as err:
        stub.GetTopN(request_)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violations(err.value) == [field]


@pytest.mark.parametrize(
    ("request_", "fields"),
    [
        (pb.PredictRatingRequest(user_id="", movie_id="1"), ["user_id"]),
        (pb.PredictRatingRequest(user_id="1", movie_id=""), ["movie_id"]),
        (pb.PredictRatingRequest(user_id="?", movie_id="x y"), ["user_id", "movie_id"]),
    ],
)
def test_bad_predict_requests(
    stub: Stub, request_: pb.PredictRatingRequest, fields: list[str]
) -> None:
    with pytest.raises(grpc.RpcError) as err:
        stub.PredictRating(request_)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _violations(err.value) == fields


def test_health_serving_and_reflection_lists_the_service(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "movierec.v1.RecommendationService"):
        status = health.Check(health_pb2.HealthCheckRequest(service=service)).status
        assert status == health_pb2.HealthCheckResponse.SERVING
    refl = reflection_pb2_grpc.ServerReflectionStub(channel)
    answers = refl.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name for a in answers for s in a.list_services_response.service}
    assert "movierec.v1.RecommendationService" in names
