"""QuerySql as an attacker holding the admin token would use it: every way to run a command,
read a file, call Java or change the serving session is refused, and after each the live
views and GetTopN are untouched; allowed queries work; caller errors are INVALID_ARGUMENT;
a runaway query is cancelled at its time limit and frees its slot."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

from rec_service.app.service import Service
from spark_store.tables import SERVICE_VIEWS

from .conftest import admin_service

TOKEN = "sql-test-token"
AUTH = (("authorization", f"Bearer {TOKEN}"),)
TIMEOUT_S = 30.0
ENV = "java.lang.System', 'getenv', 'PATH"
FILE_FORMATS = ("csv", "text", "json", "parquet", "orc", "avro", "binaryFile", "xml", "jdbc")
# A trillion-row scan: far past the time limit on any machine, and it checks for cancellation
# between rows. (A self-join of ratings finished inside 30 s on the CI machine; a deeper one
# explodes each input row into billions and Spark only sees a cancel between input rows.)
HEAVY = "SELECT count(*) FROM range(1000000000000) AS t WHERE t.id % 7 = 3"

# (sql, what the refusal names)
COMMANDS = [
    ("SELECT TRANSFORM(a) USING 'id' AS (out STRING) FROM VALUES (1) AS t(a)",
     "ScriptTransformation"),
    ("SELECT TRANSFORM(*) USING 'cat /proc/self/environ' FROM ratings", "ScriptTransformation"),
    ("FROM ratings SELECT TRANSFORM(user_id) USING 'sh -c id'", "ScriptTransformation"),
    ("INSERT OVERWRITE DIRECTORY '/tmp/movierec-x' USING csv SELECT 1", "InsertIntoDir"),
    ("INSERT INTO ratings VALUES ('u', 'm', 1.0, 0)", "InsertIntoStatement"),
    ("CREATE TEMP VIEW v AS SELECT 1", "CreateViewCommand"),
    ("CREATE TEMPORARY VIEW rec_lists AS SELECT 1 AS x", "CreateViewCommand"),
    ("CREATE VIEW v AS SELECT 1", "CreateView"),
    ("CREATE TABLE t USING csv LOCATION '/tmp' AS SELECT 1", "CreateTableAsSelect"),
    ("DROP VIEW rec_lists", "DropView"),
    ("DROP TABLE ratings", "DropTable"),
    ("CACHE TABLE ratings", "CacheTable"),
    ("CACHE LAZY TABLE c AS SELECT 1", "CacheTableAsSelect"),
    ("UNCACHE TABLE ratings", "UncacheTable"),
    ("ADD JAR /tmp/evil.jar", "AddJarsCommand"),
    ("ADD FILE /etc/passwd", "AddFilesCommand"),
    ("ADD ARCHIVE /tmp/a.zip", "AddArchivesCommand"),
    ("LIST FILE", "ListFilesCommand"),
    ("LIST JAR", "ListJarsCommand"),
    ("REFRESH TABLE ratings", "RefreshTable"),
    ("REFRESH '/tmp'", "RefreshResource"),
    ("SET spark.sql.ansi.enabled=false", "SetCommand"),
    ("SET spark.sql.runSQLOnFiles=true", "SetCommand"),
    ("RESET", "ResetCommand"),
    ("DESCRIBE ratings", "DescribeRelation"),
    ("SHOW TABLES", "ShowTables"),
    ("SHOW FUNCTIONS", "ShowFunctions"),
    ("USE other", "SetCatalogAndNamespace"),
    ("CREATE FUNCTION f AS 'java.lang.Runtime'", "CreateFunction"),
    ("CREATE TEMPORARY FUNCTION f AS 'java.lang.Runtime'", "CreateFunction"),
    ("DECLARE v INT", "CreateVariable"),
    ("EXPLAIN SELECT 1", "ExplainCommand"),
    ("ANALYZE TABLE ratings COMPUTE STATISTICS", "AnalyzeTable"),
    ("SELECT 1; DROP VIEW rec_lists", "single statement"),
]  # fmt: skip
EXECUTE_IMMEDIATE = [
    (f"EXECUTE IMMEDIATE '{sql.replace(chr(39), chr(39) * 2)}'", "UnresolvedExecuteImmediate")
    for sql, _ in COMMANDS[:-1]
] + [
    ("EXECUTE IMMEDIATE 'SELECT 1'", "UnresolvedExecuteImmediate"),
    (f"EXECUTE IMMEDIATE 'SELECT reflect(''{ENV.replace(chr(39), chr(39) * 2)}'')'",
     "UnresolvedExecuteImmediate"),
    ("EXECUTE IMMEDIATE 'SELECT * FROM ' || 'csv.`/etc/passwd`'", "UnresolvedExecuteImmediate"),
]  # fmt: skip
FILES = [
    (f"SELECT * FROM {fmt}.`/etc/passwd`", f"relation '{fmt}./etc/passwd'")
    for fmt in FILE_FORMATS
] + [
    (f"SELECT * FROM IDENTIFIER('{fmt}.`/etc/passwd`')", f"relation '{fmt}./etc/passwd'")
    for fmt in FILE_FORMATS
] + [
    ("SELECT * FROM IDENTIFIER('te' || 'xt.`/etc/passwd`')", "PlanWithUnresolvedIdentifier"),
    ("WITH x AS (SELECT * FROM text.`/etc/passwd`) SELECT * FROM x", "relation"),
    ("SELECT (SELECT max(value) FROM text.`/etc/passwd`)", "relation"),
    ("SELECT * FROM ratings WHERE user_id IN (SELECT value FROM text.`/etc/hosts`)", "relation"),
    ("SELECT * FROM global_temp.ratings", "relation 'global_temp.ratings'"),
    ("SELECT * FROM spark_catalog.default.ratings", "relation"),
    ("SELECT * FROM read_files('/etc/passwd')", "table function 'read_files'"),
    ("SELECT * FROM sql_keywords()", "table function 'sql_keywords'"),
]  # fmt: skip
JAVA = [
    (f"SELECT reflect('{ENV}')", "function 'reflect'"),
    (f"SELECT java_method('{ENV}')", "function 'java_method'"),
    (f"SELECT try_reflect('{ENV}')", "function 'try_reflect'"),
    (f"SELECT REFLECT('{ENV}')", "function 'reflect'"),
    (f"SELECT system.builtin.reflect('{ENV}')", "function 'system.builtin.reflect'"),
    (f"SELECT builtin.java_method('{ENV}')", "function 'builtin.java_method'"),
    (f"SELECT `reflect`('{ENV}')", "function 'reflect'"),
    (f"SELECT IDENTIFIER('reflect')('{ENV}')", "IDENTIFIER"),
    (f"SELECT IDENTIFIER('java_' || 'method')('{ENV}')", "IDENTIFIER"),
    (f"SELECT (SELECT reflect('{ENV}'))", "function 'reflect'"),
    (f"SELECT transform(array(1), x -> reflect('{ENV}'))", "function 'reflect'"),
    (f"SELECT * FROM range(length(reflect('{ENV}')))", "function 'reflect'"),
    (f"SELECT * FROM ratings LIMIT length(reflect('{ENV}'))", "function 'reflect'"),
    (f"SELECT * FROM ratings TABLESAMPLE (length(reflect('{ENV}')) ROWS)", "function 'reflect'"),
    ("SELECT * FROM ratings LATERAL VIEW reflect('java.lang.System', 'getenv') t AS x",
     "function 'reflect'"),
    ("SELECT input_file_name() FROM ratings", "function 'input_file_name'"),
    ("SELECT current_user()", "function 'current_user'"),
    ("SELECT from_protobuf(x'00', 'M', '/etc/passwd')", "function 'from_protobuf'"),
    ("SELECT from_avro(x'00', '{}')", "function 'from_avro'"),
    ("SELECT xpath('<a/>', '/a')", "function 'xpath'"),
    ("SELECT aes_encrypt('a', 'b')", "function 'aes_encrypt'"),
    ("SELECT version()", "function 'version'"),
]  # fmt: skip
ATTACKS = COMMANDS + EXECUTE_IMMEDIATE + FILES + JAVA

ALLOWED = [
    "SELECT count(*) FROM ratings",
    "SELECT m.title, count(*) AS n FROM ratings r JOIN movies m USING (movie_id) "
    "GROUP BY m.title ORDER BY n DESC LIMIT 5",
    "WITH top AS (SELECT user_id, count(*) AS n FROM ratings GROUP BY user_id) "
    "SELECT * FROM top WHERE n > (SELECT avg(n) FROM top) ORDER BY n DESC",
    "SELECT user_id, rank() OVER (ORDER BY access_count DESC) FROM user_activity",
    "SELECT user_id, explode(movie_ids) FROM rec_lists",
    "SELECT r.user_id, r.computed_at > a.last_active AS fresh FROM rec_lists r "
    "JOIN user_activity a USING (user_id)",
    "SELECT g, count(*) FROM movies LATERAL VIEW explode(genres) t AS g GROUP BY g",
    "SELECT * FROM rating_log",
    "VALUES (1, 'a')",
    "TABLE movies",
    "SELECT * FROM range(3)",
    "SELECT rating FROM ratings UNION SELECT rating FROM ratings EXCEPT SELECT 0.5",
    "SELECT * FROM ratings WHERE rating BETWEEN 4 AND 5 AND movie_id LIKE '1%'",
]


@pytest.fixture(scope="module")
def service(
    demo_state: Service, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Service, grpc.Channel]]:
    with admin_service(
        demo_state,
        tmp_path_factory.mktemp("sql"),
        TOKEN,
        sql_timeout_s=TIMEOUT_S,
        sql_max_concurrent=1,
    ) as service:
        yield service


@pytest.fixture(scope="module")
def baseline(service: tuple[Service, grpc.Channel]) -> pb.GetTopNResponse:
    return pb_grpc.RecommendationServiceStub(service[1]).GetTopN(pb.GetTopNRequest(user_id="1"))


def query(channel: grpc.Channel, sql: str, **kw: object) -> apb.QuerySqlResponse:
    return apb_grpc.AdminServiceStub(channel).QuerySql(
        apb.QuerySqlRequest(sql=sql), metadata=AUTH, **kw
    )


def assert_untouched(state: Service, channel: grpc.Channel, want: pb.GetTopNResponse) -> None:
    assert state.engine is not None
    spark = state.engine.session
    for view in SERVICE_VIEWS:
        assert spark.catalog.tableExists(view), view
    assert spark.conf.get("spark.sql.ansi.enabled") == "true"
    got = pb_grpc.RecommendationServiceStub(channel).GetTopN(pb.GetTopNRequest(user_id="1"))
    assert [m.movie_id for m in got.movies] == [m.movie_id for m in want.movies]


@pytest.mark.parametrize(("sql", "named"), ATTACKS, ids=[sql[:60] for sql, _ in ATTACKS])
def test_attacks_are_refused_and_change_nothing(
    service: tuple[Service, grpc.Channel],
    baseline: pb.GetTopNResponse,
    sql: str,
    named: str,
) -> None:
    state, channel = service
    with pytest.raises(grpc.RpcError) as err:
        query(channel, sql)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    assert named in (err.value.details() or "")
    assert_untouched(state, channel, baseline)


@pytest.mark.parametrize("sql", ALLOWED, ids=[sql[:50] for sql in ALLOWED])
def test_read_only_queries_over_the_views_run(
    service: tuple[Service, grpc.Channel], sql: str
) -> None:
    response = query(service[1], sql)
    assert response.columns


def test_a_query_sees_the_live_tables(service: tuple[Service, grpc.Channel]) -> None:
    resp = query(service[1], "SELECT count(*), count(DISTINCT user_id) FROM ratings")
    assert [v.number_value for v in resp.rows[0].values] == [100836, 610]


@pytest.mark.parametrize(
    ("sql", "error_class"),
    [
        ("SELECT 1/0", "DIVIDE_BY_ZERO"),
        ("SELECT raise_error('boom') FROM ratings", "USER_RAISED_EXCEPTION"),
        ("SELECT CAST('abc' AS INT)", "CAST_INVALID_INPUT"),
        ("SELECT CAST(movie_id || 'x' AS INT) FROM ratings", "CAST_INVALID_INPUT"),
        ("SELECT nope FROM ratings", "UNRESOLVED_COLUMN"),
        ("SELECT * FROM no_such_view", "TABLE_OR_VIEW_NOT_FOUND"),
        ("SELEC 1", "PARSE_SYNTAX_ERROR"),
        ("", "empty"),
        (";;", "empty"),
        ("SELECT " + "(" * 100 + "1" + ")" * 100, "nest 100 deep"),
        ("SELECT " + "1 + " * 5000 + "1", "characters; at most"),
    ],
)
def test_errors_in_the_query_are_the_callers(
    service: tuple[Service, grpc.Channel],
    caplog: pytest.LogCaptureFixture,
    sql: str,
    error_class: str,
) -> None:
    with caplog.at_level(logging.INFO), pytest.raises(grpc.RpcError) as err:
        query(service[1], sql)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_class in (err.value.details() or "")
    assert "\tat " not in (err.value.details() or "")  # no JVM stack trace
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_result_is_cut_at_the_row_limit(service: tuple[Service, grpc.Channel]) -> None:
    resp = apb_grpc.AdminServiceStub(service[1]).QuerySql(
        apb.QuerySqlRequest(sql="SELECT * FROM ratings", max_rows=7), metadata=AUTH
    )
    assert resp.truncated and len(resp.rows) == 7


def test_a_runaway_query_is_cancelled_and_frees_its_slot(
    service: tuple[Service, grpc.Channel], baseline: pb.GetTopNResponse
) -> None:
    state, channel = service
    outcome: list[grpc.RpcError] = []

    def heavy() -> None:
        try:
            query(channel, HEAVY)
        except grpc.RpcError as exc:
            outcome.append(exc)

    started = time.monotonic()
    runner = threading.Thread(target=heavy)
    runner.start()
    # Once the heavy query holds the only slot (on a busy machine that takes a while), a second
    # query is turned away; serving goes on.
    while state.operator_sql().running == 0 and time.monotonic() < started + TIMEOUT_S:
        time.sleep(0.1)
    time.sleep(1)  # the scan is under way
    with pytest.raises(grpc.RpcError) as busy:
        query(channel, "SELECT 1")
    assert busy.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    stub = pb_grpc.RecommendationServiceStub(channel)
    reads = 0
    while runner.is_alive() and reads < 200:
        assert stub.GetTopN(pb.GetTopNRequest(user_id="1"), timeout=10).movies
        reads += 1
    runner.join(TIMEOUT_S + 60)
    assert outcome and outcome[0].code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "cancelled" in (outcome[0].details() or "")
    assert time.monotonic() - started < TIMEOUT_S + 30
    assert query(channel, "SELECT 1").rows[0].values[0].number_value == 1
    assert_untouched(state, channel, baseline)


def test_a_caller_that_gives_up_cancels_its_query(
    service: tuple[Service, grpc.Channel],
) -> None:
    channel = service[1]
    with pytest.raises(grpc.RpcError) as err:
        query(channel, HEAVY, timeout=2)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # The job is cancelled when the call ends, well before the server's own limit.
    deadline = time.monotonic() + TIMEOUT_S / 2
    while True:
        try:
            assert query(channel, "SELECT 2").rows[0].values[0].number_value == 2
            break
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert time.monotonic() < deadline, "the abandoned query still holds the slot"
            time.sleep(0.2)


def test_failed_admin_calls_are_logged_without_the_token(
    service: tuple[Service, grpc.Channel], caplog: pytest.LogCaptureFixture
) -> None:
    admin = apb_grpc.AdminServiceStub(service[1])
    guess = "Bearer guessed-token-123"
    with caplog.at_level(logging.WARNING), pytest.raises(grpc.RpcError) as err:
        admin.QuerySql(apb.QuerySqlRequest(sql="SELECT 1"), metadata=(("authorization", guess),))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refused and "QuerySql" in refused[0]
    assert all("guessed-token" not in m and TOKEN not in m for m in caplog.messages)
