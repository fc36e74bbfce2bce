"""The AdminService servicer: model info, retrain with progress, read-only Spark SQL.

Every call first checks the bearer token against config.admin_token (constant-time compare).
"""

from __future__ import annotations

import hmac
import threading

import grpc
from google.protobuf import struct_pb2
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc
from pyspark.errors import AnalysisException

from rec_service.errors import InvalidArgument, PermissionDenied, Unauthenticated
from rec_service.live_model import LiveRating
from rec_service.retrain import STAGES, RetrainJob
from rec_service.servicer import timestamp_from_us
from rec_service.state import ServiceState
from spark_store.sql_guard import UnsafeQuery, check_read_only, to_json_value

DEFAULT_MAX_ROWS = 100
MAX_ROWS = 10_000
LIVE_RATINGS_VIEW = "rating_log"
STATES = {
    "running": apb.RETRAIN_STATE_RUNNING,
    "succeeded": apb.RETRAIN_STATE_SUCCEEDED,
    "failed": apb.RETRAIN_STATE_FAILED,
}


def require_admin(context: grpc.ServicerContext, token: str) -> None:
    """Passes only a call carrying `authorization: Bearer <token>` with the right token."""
    if not token:
        raise PermissionDenied("admin calls are disabled: the server has no admin_token set")
    presented = dict(context.invocation_metadata()).get("authorization", "")
    if not presented:
        raise Unauthenticated("admin calls need the metadata 'authorization: Bearer <token>'")
    scheme, _, secret = str(presented).partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        secret.strip().encode(), token.encode()
    ):
        raise PermissionDenied("the admin token is wrong")


def job_message(job: RetrainJob) -> apb.RetrainJob:
    message = apb.RetrainJob(
        job_id=job.job_id,
        state=STATES[job.state],
        stage=job.stage,
        stage_number=job.stage_number,
        stage_count=len(STAGES),
        trigger=job.trigger,
        started_at=timestamp_from_us(job.started_us),
        rating_count=job.rating_count,
        model_version=job.model_version,
        error=job.error,
        stage_seconds=job.stage_seconds,
    )
    if job.finished_us:
        message.finished_at.CopyFrom(timestamp_from_us(job.finished_us))
    return message


class AdminServicer(apb_grpc.AdminServiceServicer):
    """Operator calls; each is refused without the admin token."""

    def __init__(self, state: ServiceState) -> None:
        self._state = state
        self._sql_lock = threading.Lock()  # one operator query at a time beside the reads

    def _authorize(self, context: grpc.ServicerContext) -> None:
        require_admin(context, self._state.config.admin_token)

    def GetModelInfo(
        self, request: apb.GetModelInfoRequest, context: grpc.ServicerContext
    ) -> apb.GetModelInfoResponse:
        self._authorize(context)
        live = self._state.recommender().live
        factors = self._state.retrainer().generation.factors
        meta = factors.metadata
        scale = live.model.scale
        return apb.GetModelInfoResponse(
            model_version=live.version,
            trained_at=timestamp_from_us(live.model.trained_at_us),
            params=_flatten(factors.settings.as_dict()),
            user_count=len(factors.user_ids),
            movie_count=len(factors.item_ids),
            rating_count=int(meta.get("num_ratings", 0)),
            fit_seconds=float(meta.get("fit_seconds", 0.0)),
            ratings_since_model=live.rating_count,
            folded_in_user_count=live.folded_in_users,
            folded_in_movie_count=live.folded_in_movies,
            min_rating=scale.low,
            max_rating=scale.high,
            rating_step=scale.step,
        )

    def TriggerRetrain(
        self, request: apb.TriggerRetrainRequest, context: grpc.ServicerContext
    ) -> apb.TriggerRetrainResponse:
        self._authorize(context)
        job, already = self._state.retrainer().trigger("admin")
        return apb.TriggerRetrainResponse(job=job_message(job), already_running=already)

    def GetRetrainStatus(
        self, request: apb.GetRetrainStatusRequest, context: grpc.ServicerContext
    ) -> apb.GetRetrainStatusResponse:
        self._authorize(context)
        job = self._state.retrainer().job
        if job is None:
            return apb.GetRetrainStatusResponse()
        return apb.GetRetrainStatusResponse(job=job_message(job))

    def QuerySql(
        self, request: apb.QuerySqlRequest, context: grpc.ServicerContext
    ) -> apb.QuerySqlResponse:
        self._authorize(context)
        if request.max_rows < 0 or request.max_rows > MAX_ROWS:
            raise InvalidArgument([("max_rows", f"must be 0-{MAX_ROWS}")])
        limit = request.max_rows or DEFAULT_MAX_ROWS
        spark = self._state.spark
        recommender = self._state.recommender()
        assert spark is not None
        try:
            query = check_read_only(spark, request.sql)
        except UnsafeQuery as exc:
            raise InvalidArgument([("sql", str(exc))]) from None
        with self._sql_lock:
            self._state.flush(counts=True)  # the tables show every change made so far
            if LIVE_RATINGS_VIEW in query.lower():
                self._publish_live_ratings(recommender.live.live_ratings())
            try:
                df = spark.sql(query)
                rows = df.limit(limit + 1).collect()
            except AnalysisException as exc:  # unknown table or column, wrong types
                first = str(exc).strip().splitlines()
                raise InvalidArgument([("sql", first[0] if first else "query failed")]) from None
        response = apb.QuerySqlResponse(
            columns=df.columns,
            column_types=[f.dataType.simpleString() for f in df.schema.fields],
            truncated=len(rows) > limit,
        )
        for row in rows[:limit]:
            values = struct_pb2.ListValue()
            values.extend([to_json_value(v) for v in row])
            response.rows.append(values)
        return response

    def _publish_live_ratings(self, ratings: list[LiveRating]) -> None:
        """The `rating_log` table: ratings accepted since the serving model's data cut."""
        spark = self._state.spark
        assert spark is not None
        rows = [(r.user_id, r.movie_id, r.rating, r.event_us, r.accepted_us) for r in ratings]
        spark.createDataFrame(
            rows, "user_id string, movie_id string, rating double, event_us long, accepted_us long"
        ).selectExpr(
            "user_id",
            "movie_id",
            "rating",
            "timestamp_micros(event_us) AS event_time",
            "timestamp_micros(accepted_us) AS accepted_at",
        ).createOrReplaceTempView(LIVE_RATINGS_VIEW)


def _flatten(settings: dict[str, object], prefix: str = "") -> dict[str, str]:
    """Nested settings as "ranking.rank" -> "32"."""
    flat: dict[str, str] = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat
