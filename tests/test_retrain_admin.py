"""Admin calls and the near-online retrain on a server of their own: token checks, read-only
SQL, and a retrain swapped in while reads and ingestion go on, with the log compacted after."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

from rec_service.app.service import Service
from spark_store.training_data import PARQUET, read_manifest

from .conftest import second_service
from .test_ingest import event, ingest

TOKEN = "s3cret-token"
AUTH = (("authorization", f"Bearer {TOKEN}"),)


@pytest.fixture(scope="module")
def own(
    demo_state: Service, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Service, grpc.Channel]]:
    """A second service on the demo data, starting from a copy of the demo model."""
    with second_service(
        demo_state,
        tmp_path_factory.mktemp("retrain"),
        admin_token=TOKEN,
        retrain_interval_s=0,
        retrain_after_ratings=0,
        active_users=200,
    ) as service:
        yield service


def test_admin_needs_the_token(own: tuple[Service, grpc.Channel], channel: grpc.Channel) -> None:
    _, ch = own
    admin = apb_grpc.AdminServiceStub(ch)
    for metadata, code in (
        ((), grpc.StatusCode.UNAUTHENTICATED),
        ((("authorization", "Bearer wrong"),), grpc.StatusCode.PERMISSION_DENIED),
        ((("authorization", TOKEN),), grpc.StatusCode.PERMISSION_DENIED),  # no scheme
        ((*AUTH, ("authorization", "Bearer wrong")), grpc.StatusCode.UNAUTHENTICATED),
    ):
        with pytest.raises(grpc.RpcError) as err:
            admin.GetModelInfo(apb.GetModelInfoRequest(), metadata=metadata)
        assert err.value.code() == code
    info = admin.GetModelInfo(apb.GetModelInfoRequest(), metadata=AUTH)
    assert info.model_version == own[0].recommender().live.version
    # The demo data's counts, or more once the retrain test (any order) has merged ratings.
    assert info.user_count >= 610 and info.rating_count >= 100836 and info.rating_step == 0.5
    # The demo server has no token configured: admin is off there.
    with pytest.raises(grpc.RpcError) as err:
        apb_grpc.AdminServiceStub(channel).GetModelInfo(apb.GetModelInfoRequest(), metadata=AUTH)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ("DROP VIEW ratings", "DropView is not allowed"),
        ("INSERT INTO ratings SELECT * FROM ratings", "InsertIntoStatement is not allowed"),
        ("WITH a AS (SELECT 1) INSERT INTO ratings SELECT * FROM a", "is not allowed"),
        ("CACHE TABLE x AS SELECT 1", "CacheTableAsSelect is not allowed"),
        ("SET spark.sql.shuffle.partitions=1", "SetCommand is not allowed"),
        ("SELECT 1; DROP VIEW ratings", "single statement"),
        ("SELECT reflect('java.lang.System', 'exit', 0)", "function 'reflect' is not allowed"),
        ("SELEC 1", "PARSE_SYNTAX_ERROR"),
        ("SELECT * FROM no_such_table", "no_such_table"),
        ("   ", "empty"),
    ],
)
def test_sql_refuses_anything_but_one_read_only_query(
    own: tuple[Service, grpc.Channel], sql: str, why: str
) -> None:
    admin = apb_grpc.AdminServiceStub(own[1])
    with pytest.raises(grpc.RpcError) as err:
        admin.QuerySql(apb.QuerySqlRequest(sql=sql), metadata=AUTH)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert why in (err.value.details() or "")
    assert own[0].engine is not None and own[0].engine.session.catalog.tableExists("ratings")


def test_sql_returns_rows_up_to_the_limit(own: tuple[Service, grpc.Channel]) -> None:
    admin = apb_grpc.AdminServiceStub(own[1])
    resp = admin.QuerySql(
        apb.QuerySqlRequest(
            sql="SELECT user_id, count(*) AS n FROM ratings GROUP BY user_id ORDER BY n DESC;",
            max_rows=3,
        ),
        metadata=AUTH,
    )
    assert list(resp.columns) == ["user_id", "n"] and list(resp.column_types) == [
        "string",
        "bigint",
    ]
    assert resp.truncated and len(resp.rows) == 3
    assert list(resp.rows[0].values[0].string_value for _ in [0]) == ["414"]
    assert resp.rows[0].values[1].number_value == 2698


def test_retrain_swaps_while_reads_and_ingestion_go_on(
    own: tuple[Service, grpc.Channel],
) -> None:
    state, ch = own
    stub = pb_grpc.RecommendationServiceStub(ch)
    admin = apb_grpc.AdminServiceStub(ch)
    old_version = state.recommender().live.version
    old_tuning = state.recommender().model.facts.tuning
    assert (
        ingest(stub, [event("retrain-new", m, 5.0) for m in ("1", "260", "1196")]).accepted_count
        == 3
    )
    # A user with enough ratings to have some held out for the retrain's validation.
    tuner_movies = ("2", "3", "5", "6", "7", "10", "11", "16", "17", "19")
    assert ingest(stub, [event("retrain-tuner", m, 4.0) for m in tuner_movies]).accepted_count == 10

    errors: list[BaseException] = []
    versions: set[str] = set()
    stop = threading.Event()

    def reader(user: str) -> None:
        while not stop.is_set():
            try:
                versions.add(stub.GetTopN(pb.GetTopNRequest(user_id=user), timeout=5).model_version)
                stub.PredictRating(pb.PredictRatingRequest(user_id=user, movie_id="1"), timeout=5)
            except BaseException as exc:
                errors.append(exc)

    infos: set[tuple[str, int, float, str]] = set()

    def info_reader() -> None:
        while not stop.is_set():
            try:
                info = admin.GetModelInfo(apb.GetModelInfoRequest(), metadata=AUTH, timeout=5)
                params = ",".join(f"{k}={v}" for k, v in sorted(info.params.items()))
                infos.add((info.model_version, info.rating_count, info.fit_seconds, params))
            except BaseException as exc:
                errors.append(exc)

    readers = [threading.Thread(target=reader, args=(u,)) for u in ("1", "414", "retrain-new")]
    readers.append(threading.Thread(target=info_reader))
    for t in readers:
        t.start()
    # The operator asks for a fresh tuning: on this little new data the serving model's would
    # otherwise be reused (the next test).
    started = admin.TriggerRetrain(apb.TriggerRetrainRequest(retune=True), metadata=AUTH)
    assert started.job.state == apb.RETRAIN_STATE_RUNNING and not started.already_running
    assert started.job.retune
    again = admin.TriggerRetrain(apb.TriggerRetrainRequest(), metadata=AUTH)
    assert again.already_running and again.job.job_id == started.job.job_id
    during = ingest(stub, [event("retrain-late", "1", 4.0), event("retrain-late", "2", 4.0)])
    assert during.accepted_count == 2
    stages = set()
    progress = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = admin.GetRetrainStatus(apb.GetRetrainStatusRequest(), metadata=AUTH).job
        stages.add(job.stage)
        progress.append(job.progress)
        if job.state != apb.RETRAIN_STATE_RUNNING:
            break
        time.sleep(0.2)
    stop.set()
    for t in readers:
        t.join()
    assert job.state == apb.RETRAIN_STATE_SUCCEEDED, job.error
    assert job.stage_number == job.stage_count == 8 and len(stages) >= 3
    assert progress == sorted(progress) and progress[-1] == 1.0 and 0 <= progress[0] < 1
    assert errors == []
    new_version = state.recommender().live.version
    assert new_version == job.model_version != old_version
    assert versions >= {old_version, new_version}  # reads were answered by both models
    # GetModelInfo during the swap: each version always came with its own facts.
    by_version: dict[str, set[tuple[int, float, str]]] = {}
    for version, count, seconds, params in infos:
        by_version.setdefault(version, set()).add((count, seconds, params))
    assert set(by_version) >= {old_version, new_version}
    assert all(len(facts) == 1 for facts in by_version.values()), by_version
    ((new_count, _, _),) = by_version[new_version]
    ((old_count, _, _),) = by_version[old_version]
    # retrain-new's and retrain-tuner's ratings are training data now (the late ones too if
    # before the cut)
    assert new_count - old_count in (13, 15)
    # The retrain chose the ranker again, on its own data: retrain-tuner is a validation user.
    new_tuning = state.recommender().model.facts.tuning
    assert old_tuning is not None and new_tuning is not None
    assert new_tuning["candidates"][0]["users"] == old_tuning["candidates"][0]["users"] + 1
    info = admin.GetModelInfo(apb.GetModelInfoRequest(), metadata=AUTH)
    assert info.ranker == new_tuning["chosen"] and info.tuning_seconds > 0
    assert job.tuning.startswith("re-tuned: the operator asked for it; ")
    assert info.tuning_decision == job.tuning and info.tuning_sample.startswith("all ")
    assert not info.skipped_candidates
    # The serving model's settings were measured beside the grid, and the choice is said
    # against them.
    serving_name = next(c.name for c in info.candidates if c.name == old_tuning["chosen"])
    assert serving_name and new_tuning["result"] in ("unchanged", "changed", "kept")
    figures = {c.name: c.ndcg_at_10 for c in info.candidates}
    assert figures[info.ranker] >= max(figures["popularity"], figures["implicit ALS"])
    # PredictRating's settings were chosen again too, and the model serves the choice.
    assert info.predictor == new_tuning["rating"]["chosen"] and info.predictor_candidates
    assert info.predictor in {c.name for c in info.predictor_candidates}
    served = state.recommender().model.facts.settings  # as saved with the model
    assert f"regParam {served['rating']['reg_param']:g}" in info.predictor

    # Ratings accepted before the cut are training data now; the late ones were folded in
    # (in the new model's rating_log unless the cut came after them).
    sql = apb.QuerySqlRequest(
        sql="SELECT count(*) FROM ratings WHERE user_id = 'retrain-new'", max_rows=1
    )
    assert admin.QuerySql(sql, metadata=AUTH).rows[0].values[0].number_value == 3
    late = state.recommender().live.user_view("retrain-late")
    assert late is not None and late.vector is not None
    # The log was compacted: merged segments are gone and the manifest names the snapshot.
    manifest = read_manifest(state.config.ingest.ingest_dir, None)  # type: ignore[arg-type]
    assert manifest.format == PARQUET and Path(manifest.path).is_dir()
    assert state.rating_log is not None
    assert all(n > manifest.segments_through for n in state.rating_log.segments())
    assert stub.GetTopN(pb.GetTopNRequest(user_id="retrain-new")).model_version == new_version


def test_a_retrain_starts_by_itself_after_enough_new_ratings(
    own: tuple[Service, grpc.Channel],
) -> None:
    state, ch = own
    retrainer = state.retrainer()
    previous = retrainer.job
    serving_before = state.recommender().live.version
    retrainer.config = state.config.replace(retrain_after_ratings=3)
    retrainer.start_schedule()
    try:
        stub = pb_grpc.RecommendationServiceStub(ch)
        ingest(stub, [event("scheduled", m, 4.0) for m in ("1", "2", "3")])
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            job = retrainer.job
            if job is not previous and job is not None and job.state != "running":
                break
            time.sleep(0.2)
        assert job is not previous and job is not None
        assert (job.trigger, job.state) == ("rating count", "succeeded"), job.error
        assert state.recommender().live.rating_count == 0  # all three are training data now
        # Three ratings more than the last tuning saw: its choice is reused, and said so.
        assert job.tuning.startswith("reused the tuning of model "), job.tuning
        tuning = state.recommender().model.facts.tuning
        assert tuning is not None and tuning["result"] == "reused"
        assert tuning["reused_from"] == serving_before
    finally:
        retrainer.close()
