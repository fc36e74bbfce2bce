"""GetSimilarMovies, explanations and BatchGetTopN through the real server on the demo data."""

from __future__ import annotations

import grpc
import pytest
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from rec_service.app.service import Service

Stub = pb_grpc.RecommendationServiceStub


def _raters(ratings: DataFrame, movie_id: str, per_user: int) -> set[str]:
    """Who rated the movie among their per_user most recent ratings, as Item-CF counts them
    (ties by movie id, the order of the model's movie indices)."""
    recent = Window.partitionBy("user_id").orderBy(F.desc("timestamp"), "movie_id")
    rows = (
        ratings.withColumn("position", F.row_number().over(recent))
        .filter((F.col("movie_id") == movie_id) & (F.col("position") <= per_user))
        .select("user_id")
        .collect()
    )
    return {r[0] for r in rows}


def test_similar_movies_are_item_cf_neighbours(stub: Stub, demo_state: Service) -> None:
    resp = stub.GetSimilarMovies(pb.GetSimilarMoviesRequest(movie_id="1", page_size=10))
    assert resp.source == pb.RECOMMENDATION_SOURCE_ITEM_CF
    ids = [m.movie_id for m in resp.movies]
    assert len(ids) == 10 and "1" not in ids
    scores = [m.score for m in resp.movies]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    # The score is the cosine of co-ratings, recomputed here from the ratings table.
    # The serving generation's own training ratings: other tests' services in this Spark
    # session replace the global `ratings` view with theirs.
    ratings = demo_state.retrainer().generation.tables.ratings
    per_user = demo_state.config.models.cf_ratings_per_user
    toy_story = _raters(ratings, "1", per_user)
    for movie in resp.movies[:3]:
        other = _raters(ratings, movie.movie_id, per_user)
        cosine = len(toy_story & other) / (len(toy_story) * len(other)) ** 0.5
        assert movie.score == pytest.approx(cosine, rel=1e-5)


def test_similar_movies_honour_the_filter(stub: Stub) -> None:
    flt = pb.TopNFilter(include_genres=["Comedy"], exclude_genres=["Animation"])
    resp = stub.GetSimilarMovies(pb.GetSimilarMoviesRequest(movie_id="1", page_size=5, filter=flt))
    assert resp.movies
    for movie in resp.movies:
        assert "Comedy" in movie.genres and "Animation" not in movie.genres


def test_similar_movies_errors(stub: Stub) -> None:
    with pytest.raises(grpc.RpcError) as err:
        stub.GetSimilarMovies(pb.GetSimilarMoviesRequest(movie_id="999999999"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as err:
        stub.GetSimilarMovies(pb.GetSimilarMoviesRequest(movie_id="", page_size=-1))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "movie_id" in (err.value.details() or "") and "page_size" in (err.value.details() or "")


def test_explanations_name_movies_the_user_rated(stub: Stub, demo_state: Service) -> None:
    resp = stub.GetTopN(pb.GetTopNRequest(user_id="1", page_size=10, explain=True))
    training = demo_state.retrainer().generation.tables.ratings
    rated = {r[0] for r in training.filter("user_id = '1'").select("movie_id").collect()}
    model = demo_state.recommender().model
    assert all(m.because_movie_ids for m in resp.movies)
    for movie in resp.movies:
        assert 1 <= len(movie.because_movie_ids) <= 3
        assert set(movie.because_movie_ids) <= rated
        # The reasons are the movie's Item-CF neighbours, most similar first.
        neighbours, _ = model.neighbours.neighbours(model.item_index[movie.movie_id])
        order = [model.item_ids[j] for j in neighbours]
        positions = [order.index(m) for m in movie.because_movie_ids]
        assert positions == sorted(positions)
    plain = stub.GetTopN(pb.GetTopNRequest(user_id="1", page_size=10))
    assert [m.movie_id for m in plain.movies] == [m.movie_id for m in resp.movies]
    assert not any(m.because_movie_ids for m in plain.movies)


def test_batch_answers_like_single_calls(stub: Stub) -> None:
    requests = [
        pb.GetTopNRequest(user_id="1", page_size=5),
        pb.GetTopNRequest(user_id="someone-new", page_size=3),
        pb.GetTopNRequest(user_id="2", page_size=4, filter=pb.TopNFilter(include_genres=["Drama"])),
    ]
    batch = stub.BatchGetTopN(pb.BatchGetTopNRequest(requests=requests))
    assert len(batch.responses) == len(requests)
    for request, answer in zip(requests, batch.responses, strict=True):
        single = stub.GetTopN(request)
        assert [m.movie_id for m in answer.movies] == [m.movie_id for m in single.movies]
        assert answer.source == single.source
    assert batch.responses[1].source == pb.RECOMMENDATION_SOURCE_POPULARITY


def test_batch_names_the_bad_request(stub: Stub) -> None:
    requests = [pb.GetTopNRequest(user_id="1"), pb.GetTopNRequest(user_id="2", page_size=-4)]
    with pytest.raises(grpc.RpcError) as err:
        stub.BatchGetTopN(pb.BatchGetTopNRequest(requests=requests))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "requests[1].page_size" in (err.value.details() or "")
    with pytest.raises(grpc.RpcError) as err:
        stub.BatchGetTopN(pb.BatchGetTopNRequest())
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    too_many = [pb.GetTopNRequest(user_id="1")] * 101
    with pytest.raises(grpc.RpcError) as err:
        stub.BatchGetTopN(pb.BatchGetTopNRequest(requests=too_many))
    assert "at most 100" in (err.value.details() or "")
