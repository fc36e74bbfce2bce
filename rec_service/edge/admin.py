"""The AdminService servicer: model info, retrain with progress, read-only Spark SQL.

Authentication is not here: edge.admin_auth's check, wrapped around every AdminService method
when the server is built, refuses a call without the admin token before it reaches this
servicer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from functools import partial

from google.protobuf import struct_pb2
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc

from rec_service.app.parts import Operations
from rec_service.app.retrain import STAGES, RetrainJob, tuning_summary
from rec_service.core.errors import InvalidArgument
from rec_service.core.loaded import Loaded
from rec_service.core.offload import Offload
from rec_service.edge.grpc_types import Context
from rec_service.edge.servicer import timestamp_from_us

DEFAULT_MAX_ROWS = 100
MAX_ROWS = 10_000
STATES = {
    "running": apb.RETRAIN_STATE_RUNNING,
    "succeeded": apb.RETRAIN_STATE_SUCCEEDED,
    "failed": apb.RETRAIN_STATE_FAILED,
    "cancelled": apb.RETRAIN_STATE_CANCELLED,
}


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
        progress=job.progress,
        retune=job.retune,
        tuning=job.tuning,
    )
    if job.finished_us:
        message.finished_at.CopyFrom(timestamp_from_us(job.finished_us))
    return message


class AdminServicer(apb_grpc.AdminServiceServicer):
    """Operator calls; each is refused without the admin token. On the event loop: reading
    the model's facts and the retrain's state is answered there, and what waits on Spark
    (starting a retrain, flushing the tables, a query) is offloaded."""

    def __init__(self, parts: Loaded[Operations], offload: Offload) -> None:
        self._parts = parts
        self._offload = offload
        self._cancelling: set[asyncio.Future[None]] = set()

    async def GetModelInfo(
        self, request: apb.GetModelInfoRequest, context: Context
    ) -> apb.GetModelInfoResponse:
        live = self._parts.get().recommender.live
        # One snapshot for the version and everything said about it: a retrain swap between
        # two reads must not pair the new version with the old settings.
        model = live.model
        facts = model.facts
        scale = model.scale
        tuning = facts.tuning or {}
        rating_tuning = tuning.get("rating") or {}  # absent from models saved before it existed
        return apb.GetModelInfoResponse(
            model_version=model.version,
            trained_at=timestamp_from_us(model.trained_at_us),
            params=_flatten(facts.settings),
            user_count=facts.user_count,
            movie_count=facts.movie_count,
            rating_count=facts.rating_count,
            fit_seconds=facts.fit_seconds,
            ratings_since_model=live.rating_count,
            folded_in_user_count=live.folded_in_users,
            folded_in_movie_count=live.folded_in_movies,
            min_rating=scale.low,
            max_rating=scale.high,
            rating_step=scale.step,
            ranker=tuning.get("chosen", ""),
            candidates=[
                apb.RankerCandidate(
                    name=row["ranker"],
                    ndcg_at_10=row.get("ndcg@10", 0.0),
                    precision_at_10=row.get("precision@10", 0.0),
                    coverage=row.get("coverage", 0.0),
                )
                for row in tuning.get("candidates", [])
            ],
            tuning_seconds=tuning.get("seconds", 0.0),
            validation_split=tuning.get("split", ""),
            predictor=rating_tuning.get("chosen", ""),
            predictor_candidates=[
                apb.PredictorCandidate(name=row["predictor"], rmse=row["rmse"], mae=row["mae"])
                for row in rating_tuning.get("candidates", [])
            ],
            skipped_candidates=tuning.get("skipped", []),
            tuning_decision=tuning_summary(facts.tuning),
            tuning_sample=tuning.get("sample", ""),
        )

    async def TriggerRetrain(
        self, request: apb.TriggerRetrainRequest, context: Context
    ) -> apb.TriggerRetrainResponse:
        retrainer = self._parts.get().retrainer
        job, already = await self._offload(
            partial(retrainer.trigger, "admin", retune=request.retune)
        )
        return apb.TriggerRetrainResponse(job=job_message(job), already_running=already)

    async def GetRetrainStatus(
        self, request: apb.GetRetrainStatusRequest, context: Context
    ) -> apb.GetRetrainStatusResponse:
        job = self._parts.get().retrainer.job
        if job is None:
            return apb.GetRetrainStatusResponse()
        return apb.GetRetrainStatusResponse(job=job_message(job))

    async def QuerySql(
        self, request: apb.QuerySqlRequest, context: Context
    ) -> apb.QuerySqlResponse:
        if request.max_rows < 0 or request.max_rows > MAX_ROWS:
            raise InvalidArgument([("max_rows", f"must be 0-{MAX_ROWS}")])
        limit = request.max_rows or DEFAULT_MAX_ROWS
        parts = self._parts.get()

        # The query's canceller arrives on the offloaded thread; the call may end (the client
        # gone, its deadline passed) before or after that. Either way the query is cancelled.
        cancellers: list[Callable[[], None]] = []
        ended = threading.Event()

        def call_ended(_: Context) -> None:
            ended.set()
            for cancel in cancellers:  # a JVM call: off the loop as well
                task = asyncio.ensure_future(self._offload(cancel))
                self._cancelling.add(task)  # held until done: the loop keeps tasks weakly
                task.add_done_callback(self._cancelling.discard)

        def when_the_call_ends(cancel: Callable[[], None]) -> None:
            cancellers.append(cancel)
            if ended.is_set():
                cancel()

        context.add_done_callback(call_ended)  # type: ignore[arg-type]  # stubs: a class

        def query() -> apb.QuerySqlResponse:
            parts.flush_tables()
            result = parts.operator_sql.run(request.sql, limit, when_the_call_ends)
            response = apb.QuerySqlResponse(
                columns=result.columns,
                column_types=result.column_types,
                truncated=result.truncated,
            )
            for row in result.rows:
                values = struct_pb2.ListValue()
                values.extend(row)
                response.rows.append(values)
            return response

        return await self._offload(query)


def _flatten(settings: dict[str, object], prefix: str = "") -> dict[str, str]:
    """Nested settings as "ranking.rank" -> "32"."""
    flat: dict[str, str] = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat
