"""The list-store contract, run on both stores (the Spark SQL one and the MySQL baseline against
the real MariaDB/MySQL server), and the lazy-update rule through the Recommender on each."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc
import pymysql
import pytest
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc
from pyspark.sql import SparkSession

from rec_service.app.list_stores.mysql import MySqlListStore, MySqlSettings
from rec_service.app.service import Service
from rec_service.core.list_store import ListStore
from rec_service.core.live_model import LiveModel
from rec_service.core.recommender import Recommender, Source, now_us
from rec_service.core.serving_model import MovieFilter
from rec_service.domain.model_types import RecList
from spark_store.list_store import SparkListStore

from .conftest import second_service

MYSQL = MySqlSettings(database="movierec_test")


@pytest.fixture(scope="module")
def mysql_up() -> MySqlSettings:
    try:
        pymysql.connect(host=MYSQL.host, port=MYSQL.port, user=MYSQL.user).close()
    except pymysql.err.OperationalError as exc:
        pytest.fail(f"no MySQL/MariaDB on {MYSQL.host}:{MYSQL.port} ({exc}); run scripts/mysql")
    return MYSQL


@pytest.fixture(params=["spark", "mysql"])
def store(request: pytest.FixtureRequest, spark: SparkSession) -> ListStore:
    if request.param == "mysql":
        return MySqlListStore(request.getfixturevalue("mysql_up"), reset=True)
    return SparkListStore(spark)


def rec(ids: str, at: int, version: str = "v1") -> RecList:
    return RecList(
        tuple(ids.split()), tuple(float(i) for i in range(len(ids.split()))), at, version
    )


def test_missing_user_has_no_list(store: ListStore) -> None:
    assert store.get("nobody") is None


def test_newer_list_wins_and_older_is_refused(store: ListStore) -> None:
    first = rec("1 2", 100)
    assert store.put("u", first) == first
    assert store.put("u", rec("3", 50)) == first  # older: the stored one comes back
    newer = rec("4 5", 150)
    assert store.put("u", newer) == newer
    store.flush()
    assert store.get("u") == newer


def test_bulk_lists_of_a_new_version_replace_older_versions(store: ListStore) -> None:
    store.put("a", rec("1", 500, "v1"))  # recomputed late by the old model
    store.put("b", rec("2", 100, "v2"))  # already recomputed by the new model, after the cut
    store.put_many(
        [("a", rec("7", 200, "v2")), ("b", rec("8", 50, "v2")), ("c", rec("9", 200, "v2"))]
    )
    store.flush()
    assert store.get("a") == rec("7", 200, "v2")
    assert store.get("b") == rec("2", 100, "v2")
    assert store.get("c") == rec("9", 200, "v2")


def test_stamps_name_every_list_without_its_movies(store: ListStore) -> None:
    store.put("a", rec("1 2", 100, "v1"))
    store.put("b", rec("3", 200, "v2"))
    store.put("a", rec("4", 300, "v1"))
    store.flush()
    assert sorted(store.stamps()) == [("a", 300, "v1"), ("b", 200, "v2")]


def test_concurrent_writers_leave_the_newest(store: ListStore) -> None:
    def write(k: int) -> None:
        for i in range(20):
            store.put("hot", rec(str(k), 1000 + 20 * k + i))

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    current = store.get("hot")
    assert current is not None and current.computed_at_us == 1000 + 20 * 3 + 19


class DictActivity:
    """Activity kept in a dict: the lazy-update rule needs only last_active."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}

    def last_active_us(self, user_id: str) -> int:
        return self.last.get(user_id, 0)

    def record_access(self, user_id: str) -> None:
        pass

    def record_activity(self, user_id: str, at_us: int) -> None:
        self.last[user_id] = max(at_us, self.last.get(user_id, 0))

    def flush(self, counts: bool = True) -> int:
        return 0


def test_lazy_update_rule_is_the_same_on_each_store(store: ListStore, demo_state: Service) -> None:
    model = demo_state.recommender().live.model
    activity = DictActivity()
    recommender = Recommender(LiveModel(model), store, activity, list_length=50)
    first = recommender.top_n("5", 10, MovieFilter())
    assert first.source is Source.RECOMPUTED  # no list yet
    stored = store.get("5")
    assert stored is not None and stored.computed_at_us == first.computed_at_us
    assert recommender.top_n("5", 10, MovieFilter()).source is Source.PRECOMPUTED
    activity.record_activity("5", now_us())
    again = recommender.top_n("5", 10, MovieFilter())
    assert again.source is Source.RECOMPUTED and again.computed_at_us > first.computed_at_us
    store.put("6", RecList(("1",), (1.0,), now_us(), "another-version"))
    assert recommender.top_n("6", 3, MovieFilter()).source is Source.RECOMPUTED


@pytest.fixture(scope="module")
def mysql_server(
    demo_state: Service, mysql_up: MySqlSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Service, grpc.Channel]]:
    pymysql.connect(host=mysql_up.host, user=mysql_up.user, autocommit=True).cursor().execute(
        "DROP DATABASE IF EXISTS movierec_server_test"
    )
    with second_service(
        demo_state,
        tmp_path_factory.mktemp("mysql-server"),
        list_store="mysql",
        mysql_database="movierec_server_test",
        active_users=100,
    ) as service:
        yield service


def test_the_server_serves_from_the_mysql_store(
    mysql_server: tuple[Service, grpc.Channel],
) -> None:
    state, channel = mysql_server
    stub = pb_grpc.RecommendationServiceStub(channel)
    assert state.recommender().lists.kind == "mysql"
    active = stub.GetTopN(pb.GetTopNRequest(user_id="414", page_size=5))  # most active user
    assert active.source == pb.RECOMMENDATION_SOURCE_PRECOMPUTED
    conn = pymysql.connect(host=MYSQL.host, user=MYSQL.user, database="movierec_server_test")
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*), MIN(model_version) FROM rec_lists")
        count, version = cur.fetchone()
    assert count == 100 and version == active.model_version
    stub.IngestRatings(
        iter(
            [
                pb.IngestRatingsRequest(
                    events=[
                        pb.RatingEvent(
                            user_id="414", movie_id=active.movies[0].movie_id, rating=1.0
                        )
                    ]
                )
            ]
        )
    )
    after = stub.GetTopN(pb.GetTopNRequest(user_id="414", page_size=5))
    assert after.source == pb.RECOMMENDATION_SOURCE_RECOMPUTED
    assert active.movies[0].movie_id not in [m.movie_id for m in after.movies]
    conn.close()


def test_mysql_store_survives_a_dropped_connection(mysql_up: MySqlSettings) -> None:
    store = MySqlListStore(mysql_up, reset=True)
    store.put("u", rec("1 2", 10))
    own_id = store._connection().thread_id()  # type: ignore[attr-defined]
    killer = pymysql.connect(host=mysql_up.host, user=mysql_up.user, autocommit=True)
    killer.cursor().execute(f"KILL {own_id}")  # as a server restart or idle timeout would
    killer.close()
    assert store.get("u") == rec("1 2", 10)
