import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RetrainState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETRAIN_STATE_UNSPECIFIED: _ClassVar[RetrainState]
    RETRAIN_STATE_RUNNING: _ClassVar[RetrainState]
    RETRAIN_STATE_SUCCEEDED: _ClassVar[RetrainState]
    RETRAIN_STATE_FAILED: _ClassVar[RetrainState]
    RETRAIN_STATE_CANCELLED: _ClassVar[RetrainState]
RETRAIN_STATE_UNSPECIFIED: RetrainState
RETRAIN_STATE_RUNNING: RetrainState
RETRAIN_STATE_SUCCEEDED: RetrainState
RETRAIN_STATE_FAILED: RetrainState
RETRAIN_STATE_CANCELLED: RetrainState

class GetModelInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetModelInfoResponse(_message.Message):
    __slots__ = ("model_version", "trained_at", "params", "user_count", "movie_count", "rating_count", "fit_seconds", "ratings_since_model", "folded_in_user_count", "folded_in_movie_count", "min_rating", "max_rating", "rating_step", "ranker", "candidates", "tuning_seconds", "validation_split", "predictor", "predictor_candidates", "skipped_candidates", "tuning_decision", "tuning_sample")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    TRAINED_AT_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    USER_COUNT_FIELD_NUMBER: _ClassVar[int]
    MOVIE_COUNT_FIELD_NUMBER: _ClassVar[int]
    RATING_COUNT_FIELD_NUMBER: _ClassVar[int]
    FIT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RATINGS_SINCE_MODEL_FIELD_NUMBER: _ClassVar[int]
    FOLDED_IN_USER_COUNT_FIELD_NUMBER: _ClassVar[int]
    FOLDED_IN_MOVIE_COUNT_FIELD_NUMBER: _ClassVar[int]
    MIN_RATING_FIELD_NUMBER: _ClassVar[int]
    MAX_RATING_FIELD_NUMBER: _ClassVar[int]
    RATING_STEP_FIELD_NUMBER: _ClassVar[int]
    RANKER_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    TUNING_SECONDS_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_SPLIT_FIELD_NUMBER: _ClassVar[int]
    PREDICTOR_FIELD_NUMBER: _ClassVar[int]
    PREDICTOR_CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    TUNING_DECISION_FIELD_NUMBER: _ClassVar[int]
    TUNING_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    trained_at: _timestamp_pb2.Timestamp
    params: _containers.ScalarMap[str, str]
    user_count: int
    movie_count: int
    rating_count: int
    fit_seconds: float
    ratings_since_model: int
    folded_in_user_count: int
    folded_in_movie_count: int
    min_rating: float
    max_rating: float
    rating_step: float
    ranker: str
    candidates: _containers.RepeatedCompositeFieldContainer[RankerCandidate]
    tuning_seconds: float
    validation_split: str
    predictor: str
    predictor_candidates: _containers.RepeatedCompositeFieldContainer[PredictorCandidate]
    skipped_candidates: _containers.RepeatedScalarFieldContainer[str]
    tuning_decision: str
    tuning_sample: str
    def __init__(self, model_version: _Optional[str] = ..., trained_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., params: _Optional[_Mapping[str, str]] = ..., user_count: _Optional[int] = ..., movie_count: _Optional[int] = ..., rating_count: _Optional[int] = ..., fit_seconds: _Optional[float] = ..., ratings_since_model: _Optional[int] = ..., folded_in_user_count: _Optional[int] = ..., folded_in_movie_count: _Optional[int] = ..., min_rating: _Optional[float] = ..., max_rating: _Optional[float] = ..., rating_step: _Optional[float] = ..., ranker: _Optional[str] = ..., candidates: _Optional[_Iterable[_Union[RankerCandidate, _Mapping]]] = ..., tuning_seconds: _Optional[float] = ..., validation_split: _Optional[str] = ..., predictor: _Optional[str] = ..., predictor_candidates: _Optional[_Iterable[_Union[PredictorCandidate, _Mapping]]] = ..., skipped_candidates: _Optional[_Iterable[str]] = ..., tuning_decision: _Optional[str] = ..., tuning_sample: _Optional[str] = ...) -> None: ...

class PredictorCandidate(_message.Message):
    __slots__ = ("name", "rmse", "mae")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RMSE_FIELD_NUMBER: _ClassVar[int]
    MAE_FIELD_NUMBER: _ClassVar[int]
    name: str
    rmse: float
    mae: float
    def __init__(self, name: _Optional[str] = ..., rmse: _Optional[float] = ..., mae: _Optional[float] = ...) -> None: ...

class RankerCandidate(_message.Message):
    __slots__ = ("name", "ndcg_at_10", "precision_at_10", "coverage")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NDCG_AT_10_FIELD_NUMBER: _ClassVar[int]
    PRECISION_AT_10_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    ndcg_at_10: float
    precision_at_10: float
    coverage: float
    def __init__(self, name: _Optional[str] = ..., ndcg_at_10: _Optional[float] = ..., precision_at_10: _Optional[float] = ..., coverage: _Optional[float] = ...) -> None: ...

class TriggerRetrainRequest(_message.Message):
    __slots__ = ("retune",)
    RETUNE_FIELD_NUMBER: _ClassVar[int]
    retune: bool
    def __init__(self, retune: _Optional[bool] = ...) -> None: ...

class TriggerRetrainResponse(_message.Message):
    __slots__ = ("job", "already_running")
    JOB_FIELD_NUMBER: _ClassVar[int]
    ALREADY_RUNNING_FIELD_NUMBER: _ClassVar[int]
    job: RetrainJob
    already_running: bool
    def __init__(self, job: _Optional[_Union[RetrainJob, _Mapping]] = ..., already_running: _Optional[bool] = ...) -> None: ...

class GetRetrainStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetRetrainStatusResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: RetrainJob
    def __init__(self, job: _Optional[_Union[RetrainJob, _Mapping]] = ...) -> None: ...

class RetrainJob(_message.Message):
    __slots__ = ("job_id", "state", "stage", "stage_number", "stage_count", "trigger", "started_at", "finished_at", "rating_count", "model_version", "error", "stage_seconds", "progress", "retune", "tuning")
    class StageSecondsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    STAGE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    STAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    RATING_COUNT_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STAGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RETUNE_FIELD_NUMBER: _ClassVar[int]
    TUNING_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    state: RetrainState
    stage: str
    stage_number: int
    stage_count: int
    trigger: str
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    rating_count: int
    model_version: str
    error: str
    stage_seconds: _containers.ScalarMap[str, float]
    progress: float
    retune: bool
    tuning: str
    def __init__(self, job_id: _Optional[str] = ..., state: _Optional[_Union[RetrainState, str]] = ..., stage: _Optional[str] = ..., stage_number: _Optional[int] = ..., stage_count: _Optional[int] = ..., trigger: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rating_count: _Optional[int] = ..., model_version: _Optional[str] = ..., error: _Optional[str] = ..., stage_seconds: _Optional[_Mapping[str, float]] = ..., progress: _Optional[float] = ..., retune: _Optional[bool] = ..., tuning: _Optional[str] = ...) -> None: ...

class QuerySqlRequest(_message.Message):
    __slots__ = ("sql", "max_rows")
    SQL_FIELD_NUMBER: _ClassVar[int]
    MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    sql: str
    max_rows: int
    def __init__(self, sql: _Optional[str] = ..., max_rows: _Optional[int] = ...) -> None: ...

class QuerySqlResponse(_message.Message):
    __slots__ = ("columns", "column_types", "rows", "truncated")
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    COLUMN_TYPES_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedScalarFieldContainer[str]
    column_types: _containers.RepeatedScalarFieldContainer[str]
    rows: _containers.RepeatedCompositeFieldContainer[_struct_pb2.ListValue]
    truncated: bool
    def __init__(self, columns: _Optional[_Iterable[str]] = ..., column_types: _Optional[_Iterable[str]] = ..., rows: _Optional[_Iterable[_Union[_struct_pb2.ListValue, _Mapping]]] = ..., truncated: _Optional[bool] = ...) -> None: ...
