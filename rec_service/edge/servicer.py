"""The RecommendationService servicer: proto in, domain call, proto out; errors are raised."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from functools import partial

from google.protobuf.timestamp_pb2 import Timestamp
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc
from prometheus_client import Counter

from rec_service.app.parts import ReadWrite, Replica
from rec_service.core import validation
from rec_service.core.ingest import Rejection, ingest_all, ingest_with_acks
from rec_service.core.loaded import Loaded
from rec_service.core.offload import Offload
from rec_service.core.recommender import Recommender, Source, TopN
from rec_service.core.serving_model import Movie, MovieFilter
from rec_service.edge.grpc_types import Context

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
    """Validates, asks the recommender, builds the response; ServiceErrors become statuses.

    Runs on the event loop. A read is answered there, without a thread hop, when all it needs
    is in memory (the list store's own index, the model): its CPU work (at most one
    matrix-vector product over the catalogue, for a stale list) holds the GIL on any thread.
    What waits goes to `offload`: a list store over the network, a replica catching up with
    the rating log, a batch whose size the client chose, and every rating committed.
    """

    def __init__(self, parts: Loaded[ReadWrite], topn_answers: Counter, offload: Offload) -> None:
        self._parts = parts
        # Answers counted by list source; the label children looked up once, not per read.
        self._answered = {source: topn_answers.labels(source.name) for source in Source}
        self._offload = offload
        # (user_id, page_size) -> (list stamp, response). Building ten RecommendedMovie
        # messages was the largest cost of a fresh read; the list's computed_at and model
        # version identify it, so a cached response is reused only for the very same list,
        # and only while it is fresh.
        self._responses: dict[tuple[str, int], tuple[tuple[int, str], pb.GetTopNResponse]] = {}

    async def GetTopN(self, request: pb.GetTopNRequest, context: Context) -> pb.GetTopNResponse:
        parts = self._parts.get()
        recommender = parts.recommender
        user_id, page_size, flt = validation.top_n_request(request, recommender.model)
        await self._caught_up(parts.replica, request.min_log_position)
        if recommender.lists.blocking:
            return await self._offload(
                partial(self._top_n, recommender, user_id, page_size, flt, request.explain)
            )
        return self._top_n(recommender, user_id, page_size, flt, request.explain)

    async def BatchGetTopN(
        self, request: pb.BatchGetTopNRequest, context: Context
    ) -> pb.BatchGetTopNResponse:
        recommender = self._parts.get().recommender
        parsed = validation.batch_top_n_request(request, recommender.model)

        def answer() -> pb.BatchGetTopNResponse:
            return pb.BatchGetTopNResponse(
                responses=[
                    self._top_n(recommender, user_id, page_size, flt, req.explain)
                    for req, (user_id, page_size, flt) in zip(request.requests, parsed, strict=True)
                ]
            )

        return await self._offload(answer)

    async def GetSimilarMovies(
        self, request: pb.GetSimilarMoviesRequest, context: Context
    ) -> pb.GetSimilarMoviesResponse:
        recommender = self._parts.get().recommender
        movie_id, page_size, flt = validation.similar_request(request, recommender.model)
        result = recommender.similar_movies(movie_id, page_size, flt)
        return pb.GetSimilarMoviesResponse(
            movies=recommended(result.items),
            source=SOURCES[result.source],
            model_version=result.model_version,
        )

    async def _caught_up(self, replica: Replica, position: int) -> None:
        """Returns once this replica applied the rating log through `position` (a client's
        read-your-writes token); the wait, if any, is off the loop."""
        if not replica.has_applied(position):
            await self._offload(partial(replica.require, position))

    def _top_n(
        self,
        recommender: Recommender,
        user_id: str,
        page_size: int,
        flt: MovieFilter,
        explain: bool,
    ) -> pb.GetTopNResponse:
        cacheable = flt.is_empty and not explain
        key = (user_id, page_size)
        counted = False
        if cacheable:
            cached = self._responses.get(key)
            if cached is not None:
                # Only the list's stamp is read: decoding the list was most of a fresh read.
                counted = True
                if recommender.fresh_stamp(user_id) == cached[0]:
                    self._answered[Source.PRECOMPUTED].inc()
                    return cached[1]
        result = recommender.top_n(user_id, page_size, flt, explain, access_counted=counted)
        self._answered[result.source].inc()
        response = top_n_response(result)
        if cacheable and result.source is Source.PRECOMPUTED:
            if len(self._responses) >= MAX_CACHED_RESPONSES:
                self._responses.clear()
            self._responses[key] = ((result.computed_at_us, result.model_version), response)
        return response

    async def PredictRating(
        self, request: pb.PredictRatingRequest, context: Context
    ) -> pb.PredictRatingResponse:
        parts = self._parts.get()
        recommender = parts.recommender
        user_id, movie_id = validation.predict_request(request)
        await self._caught_up(parts.replica, request.min_log_position)
        prediction = recommender.predict(user_id, movie_id)
        scale = recommender.model.scale
        return pb.PredictRatingResponse(
            rating=prediction.rating,
            source=SOURCES[prediction.source],
            model_version=prediction.model_version,
            min_rating=scale.low,
            max_rating=scale.high,
        )

    async def IngestRatings(
        self, request_iterator: AsyncIterator[pb.IngestRatingsRequest], context: Context
    ) -> pb.IngestRatingsResponse:
        parts = self._parts.get()
        outcome = await ingest_all(
            parts.ingestor, _events(request_iterator), parts.ingest_batch, self._offload
        )
        return pb.IngestRatingsResponse(
            received_count=outcome.received,
            accepted_count=outcome.accepted,
            rejected=rejections(outcome.rejected),
            log_position=outcome.log_position,
        )

    async def StreamRatings(
        self, request_iterator: AsyncIterator[pb.StreamRatingsRequest], context: Context
    ) -> AsyncIterator[pb.StreamRatingsResponse]:
        parts = self._parts.get()
        acks = ingest_with_acks(
            parts.ingestor, _events(request_iterator), parts.ingest_batch, self._offload
        )
        async for handled, accepted, rejected, position in acks:
            yield pb.StreamRatingsResponse(
                handled_through=handled,
                accepted_count=accepted,
                rejected=rejections(rejected),
                log_position=position,
            )


async def _events(
    messages: AsyncIterator[pb.IngestRatingsRequest | pb.StreamRatingsRequest],
) -> AsyncIterator[Sequence[pb.RatingEvent]]:
    async for message in messages:
        yield message.events
