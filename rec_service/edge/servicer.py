"""The RecommendationService servicer: proto in, domain call, proto out; errors are raised."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc
from prometheus_client import Counter

from rec_service.app.parts import ReadWrite
from rec_service.core import validation
from rec_service.core.ingest import Rejection, ingest_all, ingest_with_acks
from rec_service.core.loaded import Loaded
from rec_service.core.recommender import Recommender, Source, TopN
from rec_service.core.serving_model import Movie, MovieFilter

SOURCES = {
    Source.PRECOMPUTED: pb.RECOMMENDATION_SOURCE_PRECOMPUTED,
    Source.RECOMPUTED: pb.RECOMMENDATION_SOURCE_RECOMPUTED,
    Source.FILTER_SCAN: pb.RECOMMENDATION_SOURCE_FILTER_SCAN,
    Source.POPULARITY: pb.RECOMMENDATION_SOURCE_POPULARITY,
    Source.MODEL: pb.RECOMMENDATION_SOURCE_MODEL,
    Source.MOVIE_MEAN: pb.RECOMMENDATION_SOURCE_MOVIE_MEAN,
    Source.ITEM_CF: pb.RECOMMENDATION_SOURCE_ITEM_CF,
    Source.ITEM_FACTORS: pb.RECOMMENDATION_SOURCE_ITEM_FACTORS,
}


def rejections(items: list[Rejection]) -> list[pb.RejectedRating]:
    return [pb.RejectedRating(index=r.index, field=r.field, reason=r.reason) for r in items]


def timestamp_from_us(micros: int) -> Timestamp:
    return Timestamp(seconds=micros // 1_000_000, nanos=(micros % 1_000_000) * 1000)


def recommended(items: list[tuple[Movie, float]]) -> list[pb.RecommendedMovie]:
    return [
        pb.RecommendedMovie(
            movie_id=movie.movie_id, title=movie.title, genres=movie.genres, score=score
        )
        for movie, score in items
    ]


def top_n_response(result: TopN) -> pb.GetTopNResponse:
    movies = recommended(result.items)
    for movie, because in zip(movies, result.because, strict=False):
        movie.because_movie_ids.extend(because)
    return pb.GetTopNResponse(
        movies=movies,
        source=SOURCES[result.source],
        computed_at=timestamp_from_us(result.computed_at_us),
        model_version=result.model_version,
    )


# Bound on cached responses; the cache is dropped whole when full (cheap, and rare).
MAX_CACHED_RESPONSES = 200_000


class RecommendationServicer(pb_grpc.RecommendationServiceServicer):
    """Validates, asks the recommender, builds the response; ServiceErrors become statuses."""

    def __init__(self, parts: Loaded[ReadWrite], topn_answers: Counter) -> None:
        self._parts = parts
        self._topn_answers = topn_answers  # by list source
        # (user_id, page_size) -> (list identity, response). Building ten RecommendedMovie
        # messages was the largest cost of a fresh read; the list's computed_at and model
        # version identify it, so a cached response is reused only for the very same list.
        self._responses: dict[tuple[str, int], tuple[tuple[int, str], pb.GetTopNResponse]] = {}

    def GetTopN(
        self, request: pb.GetTopNRequest, context: grpc.ServicerContext
    ) -> pb.GetTopNResponse:
        parts = self._parts.get()
        recommender = parts.recommender
        user_id, page_size, flt = validation.top_n_request(request, recommender.model)
        parts.replica.require(request.min_log_position)
        return self._top_n(recommender, user_id, page_size, flt, request.explain)

    def BatchGetTopN(
        self, request: pb.BatchGetTopNRequest, context: grpc.ServicerContext
    ) -> pb.BatchGetTopNResponse:
        recommender = self._parts.get().recommender
        parsed = validation.batch_top_n_request(request, recommender.model)
        return pb.BatchGetTopNResponse(
            responses=[
                self._top_n(recommender, user_id, page_size, flt, req.explain)
                for req, (user_id, page_size, flt) in zip(request.requests, parsed, strict=True)
            ]
        )

    def GetSimilarMovies(
        self, request: pb.GetSimilarMoviesRequest, context: grpc.ServicerContext
    ) -> pb.GetSimilarMoviesResponse:
        recommender = self._parts.get().recommender
        movie_id, page_size, flt = validation.similar_request(request, recommender.model)
        result = recommender.similar_movies(movie_id, page_size, flt)
        return pb.GetSimilarMoviesResponse(
            movies=recommended(result.items),
            source=SOURCES[result.source],
            model_version=result.model_version,
        )

    def _top_n(
        self,
        recommender: Recommender,
        user_id: str,
        page_size: int,
        flt: MovieFilter,
        explain: bool,
    ) -> pb.GetTopNResponse:
        result = recommender.top_n(user_id, page_size, flt, explain)
        self._topn_answers.labels(result.source.name).inc()
        if explain or not flt.is_empty or result.source is not Source.PRECOMPUTED:
            return top_n_response(result)
        key = (user_id, page_size)
        identity = (result.computed_at_us, result.model_version)
        cached = self._responses.get(key)
        if cached is not None and cached[0] == identity:
            return cached[1]
        response = top_n_response(result)
        if len(self._responses) >= MAX_CACHED_RESPONSES:
            self._responses.clear()
        self._responses[key] = (identity, response)
        return response

    def PredictRating(
        self, request: pb.PredictRatingRequest, context: grpc.ServicerContext
    ) -> pb.PredictRatingResponse:
        parts = self._parts.get()
        recommender = parts.recommender
        user_id, movie_id = validation.predict_request(request)
        parts.replica.require(request.min_log_position)
        prediction = recommender.predict(user_id, movie_id)
        scale = recommender.model.scale
        return pb.PredictRatingResponse(
            rating=prediction.rating,
            source=SOURCES[prediction.source],
            model_version=prediction.model_version,
            min_rating=scale.low,
            max_rating=scale.high,
        )

    def IngestRatings(
        self, request_iterator: Iterator[pb.IngestRatingsRequest], context: grpc.ServicerContext
    ) -> pb.IngestRatingsResponse:
        parts = self._parts.get()
        outcome = ingest_all(
            parts.ingestor, (m.events for m in request_iterator), parts.ingest_batch
        )
        return pb.IngestRatingsResponse(
            received_count=outcome.received,
            accepted_count=outcome.accepted,
            rejected=rejections(outcome.rejected),
            log_position=outcome.log_position,
        )

    def StreamRatings(
        self, request_iterator: Iterator[pb.StreamRatingsRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.StreamRatingsResponse]:
        parts = self._parts.get()
        acks = ingest_with_acks(
            parts.ingestor, (m.events for m in request_iterator), parts.ingest_batch
        )
        for handled, accepted, rejected, position in acks:
            yield pb.StreamRatingsResponse(
                handled_through=handled,
                accepted_count=accepted,
                rejected=rejections(rejected),
                log_position=position,
            )
