import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RecommendationSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECOMMENDATION_SOURCE_UNSPECIFIED: _ClassVar[RecommendationSource]
    RECOMMENDATION_SOURCE_PRECOMPUTED: _ClassVar[RecommendationSource]
    RECOMMENDATION_SOURCE_RECOMPUTED: _ClassVar[RecommendationSource]
    RECOMMENDATION_SOURCE_FILTER_SCAN: _ClassVar[RecommendationSource]
    RECOMMENDATION_SOURCE_POPULARITY: _ClassVar[RecommendationSource]
    RECOMMENDATION_SOURCE_MODEL: _ClassVar[RecommendationSource]
    RECOMMENDATION_SOURCE_MOVIE_MEAN: _ClassVar[RecommendationSource]
    RECOMMENDATION_SOURCE_ITEM_CF: _ClassVar[RecommendationSource]
    RECOMMENDATION_SOURCE_ITEM_FACTORS: _ClassVar[RecommendationSource]
RECOMMENDATION_SOURCE_UNSPECIFIED: RecommendationSource
RECOMMENDATION_SOURCE_PRECOMPUTED: RecommendationSource
RECOMMENDATION_SOURCE_RECOMPUTED: RecommendationSource
RECOMMENDATION_SOURCE_FILTER_SCAN: RecommendationSource
RECOMMENDATION_SOURCE_POPULARITY: RecommendationSource
RECOMMENDATION_SOURCE_MODEL: RecommendationSource
RECOMMENDATION_SOURCE_MOVIE_MEAN: RecommendationSource
RECOMMENDATION_SOURCE_ITEM_CF: RecommendationSource
RECOMMENDATION_SOURCE_ITEM_FACTORS: RecommendationSource

class TopNFilter(_message.Message):
    __slots__ = ("include_genres", "exclude_genres", "min_rating_count", "movie_ids")
    INCLUDE_GENRES_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_GENRES_FIELD_NUMBER: _ClassVar[int]
    MIN_RATING_COUNT_FIELD_NUMBER: _ClassVar[int]
    MOVIE_IDS_FIELD_NUMBER: _ClassVar[int]
    include_genres: _containers.RepeatedScalarFieldContainer[str]
    exclude_genres: _containers.RepeatedScalarFieldContainer[str]
    min_rating_count: int
    movie_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, include_genres: _Optional[_Iterable[str]] = ..., exclude_genres: _Optional[_Iterable[str]] = ..., min_rating_count: _Optional[int] = ..., movie_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetTopNRequest(_message.Message):
    __slots__ = ("user_id", "page_size", "filter", "explain", "min_log_position")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    EXPLAIN_FIELD_NUMBER: _ClassVar[int]
    MIN_LOG_POSITION_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    page_size: int
    filter: TopNFilter
    explain: bool
    min_log_position: int
    def __init__(self, user_id: _Optional[str] = ..., page_size: _Optional[int] = ..., filter: _Optional[_Union[TopNFilter, _Mapping]] = ..., explain: _Optional[bool] = ..., min_log_position: _Optional[int] = ...) -> None: ...

class BatchGetTopNRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[GetTopNRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[GetTopNRequest, _Mapping]]] = ...) -> None: ...

class BatchGetTopNResponse(_message.Message):
    __slots__ = ("responses",)
    RESPONSES_FIELD_NUMBER: _ClassVar[int]
    responses: _containers.RepeatedCompositeFieldContainer[GetTopNResponse]
    def __init__(self, responses: _Optional[_Iterable[_Union[GetTopNResponse, _Mapping]]] = ...) -> None: ...

class GetSimilarMoviesRequest(_message.Message):
    __slots__ = ("movie_id", "page_size", "filter")
    MOVIE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    movie_id: str
    page_size: int
    filter: TopNFilter
    def __init__(self, movie_id: _Optional[str] = ..., page_size: _Optional[int] = ..., filter: _Optional[_Union[TopNFilter, _Mapping]] = ...) -> None: ...

class GetSimilarMoviesResponse(_message.Message):
    __slots__ = ("movies", "source", "model_version")
    MOVIES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    movies: _containers.RepeatedCompositeFieldContainer[RecommendedMovie]
    source: RecommendationSource
    model_version: str
    def __init__(self, movies: _Optional[_Iterable[_Union[RecommendedMovie, _Mapping]]] = ..., source: _Optional[_Union[RecommendationSource, str]] = ..., model_version: _Optional[str] = ...) -> None: ...

class RecommendedMovie(_message.Message):
    __slots__ = ("movie_id", "title", "genres", "score", "because_movie_ids")
    MOVIE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    GENRES_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    BECAUSE_MOVIE_IDS_FIELD_NUMBER: _ClassVar[int]
    movie_id: str
    title: str
    genres: _containers.RepeatedScalarFieldContainer[str]
    score: float
    because_movie_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, movie_id: _Optional[str] = ..., title: _Optional[str] = ..., genres: _Optional[_Iterable[str]] = ..., score: _Optional[float] = ..., because_movie_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetTopNResponse(_message.Message):
    __slots__ = ("movies", "source", "computed_at", "model_version")
    MOVIES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    COMPUTED_AT_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    movies: _containers.RepeatedCompositeFieldContainer[RecommendedMovie]
    source: RecommendationSource
    computed_at: _timestamp_pb2.Timestamp
    model_version: str
    def __init__(self, movies: _Optional[_Iterable[_Union[RecommendedMovie, _Mapping]]] = ..., source: _Optional[_Union[RecommendationSource, str]] = ..., computed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., model_version: _Optional[str] = ...) -> None: ...

class PredictRatingRequest(_message.Message):
    __slots__ = ("user_id", "movie_id", "min_log_position")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    MOVIE_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_LOG_POSITION_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    movie_id: str
    min_log_position: int
    def __init__(self, user_id: _Optional[str] = ..., movie_id: _Optional[str] = ..., min_log_position: _Optional[int] = ...) -> None: ...

class PredictRatingResponse(_message.Message):
    __slots__ = ("rating", "source", "model_version", "min_rating", "max_rating")
    RATING_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    MIN_RATING_FIELD_NUMBER: _ClassVar[int]
    MAX_RATING_FIELD_NUMBER: _ClassVar[int]
    rating: float
    source: RecommendationSource
    model_version: str
    min_rating: float
    max_rating: float
    def __init__(self, rating: _Optional[float] = ..., source: _Optional[_Union[RecommendationSource, str]] = ..., model_version: _Optional[str] = ..., min_rating: _Optional[float] = ..., max_rating: _Optional[float] = ...) -> None: ...

class RatingEvent(_message.Message):
    __slots__ = ("user_id", "movie_id", "rating", "event_time")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    MOVIE_ID_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    movie_id: str
    rating: float
    event_time: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., movie_id: _Optional[str] = ..., rating: _Optional[float] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RejectedRating(_message.Message):
    __slots__ = ("index", "field", "reason")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    index: int
    field: str
    reason: str
    def __init__(self, index: _Optional[int] = ..., field: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class IngestRatingsRequest(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[RatingEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[RatingEvent, _Mapping]]] = ...) -> None: ...

class IngestRatingsResponse(_message.Message):
    __slots__ = ("received_count", "accepted_count", "rejected", "log_position")
    RECEIVED_COUNT_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    LOG_POSITION_FIELD_NUMBER: _ClassVar[int]
    received_count: int
    accepted_count: int
    rejected: _containers.RepeatedCompositeFieldContainer[RejectedRating]
    log_position: int
    def __init__(self, received_count: _Optional[int] = ..., accepted_count: _Optional[int] = ..., rejected: _Optional[_Iterable[_Union[RejectedRating, _Mapping]]] = ..., log_position: _Optional[int] = ...) -> None: ...

class StreamRatingsRequest(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[RatingEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[RatingEvent, _Mapping]]] = ...) -> None: ...

class StreamRatingsResponse(_message.Message):
    __slots__ = ("handled_through", "accepted_count", "rejected", "log_position")
    HANDLED_THROUGH_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    LOG_POSITION_FIELD_NUMBER: _ClassVar[int]
    handled_through: int
    accepted_count: int
    rejected: _containers.RepeatedCompositeFieldContainer[RejectedRating]
    log_position: int
    def __init__(self, handled_through: _Optional[int] = ..., accepted_count: _Optional[int] = ..., rejected: _Optional[_Iterable[_Union[RejectedRating, _Mapping]]] = ..., log_position: _Optional[int] = ...) -> None: ...
