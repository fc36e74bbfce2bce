"""Runs operators' read-only SQL in a Spark session of its own, bounded in time, size and number.

The session is `newSession()` of the serving one: it shares the SparkContext and cached data,
but not settings or views, so nothing an operator sends can change what serving reads. Before
each query the service's current views are copied into it (they are replaced as lists are
written back). Each query runs under its own job group, so a query past its time limit, or
whose caller went away, is cancelled in Spark and frees its slot.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, Row, SparkSession

from spark_store.sql_guard import (
    FunctionAllowList,
    UnsafeQuery,
    bounded_text,
    check_analyzed,
    check_parsed,
)

log = logging.getLogger(__name__)

# Seconds a cancelled query is given to unwind before its slot is written off as still busy.
CANCEL_GRACE_S = 10.0


class QueryFailed(ValueError):
    """The caller's query failed in Spark (analysis, a runtime error such as 1/0 under ANSI,
    raise_error, a bad cast); carries Spark's error class and message."""

    def __init__(self, error_class: str, message: str) -> None:
        self.error_class = error_class
        super().__init__(f"[{error_class}] {message}" if error_class else message)


class QueryTimedOut(TimeoutError):
    """The query ran past its time limit and was cancelled."""


class TooManyQueries(RuntimeError):
    """Every query slot is busy."""


@dataclass(frozen=True)
class SqlLimits:
    """Bounds on one operator query."""

    timeout_s: float = 30.0
    max_concurrent: int = 2
    max_result_bytes: int = 1 << 20


@dataclass
class QueryResult:
    columns: list[str]
    column_types: list[str]
    rows: list[list[Any]]
    truncated: bool


class OperatorSql:
    """Checks and runs one operator query at a time per slot over the service's views."""

    def __init__(
        self,
        serving: SparkSession,
        view_names: Iterable[str],
        limits: SqlLimits,
        extra_views: Mapping[str, Callable[[SparkSession], DataFrame]] | None = None,
    ) -> None:
        self._serving = serving
        self._session = serving.newSession()
        # File paths as table names (csv.`/etc/passwd`) are refused by the guard already; this
        # makes Spark itself not resolve them in this session.
        self._session.conf.set("spark.sql.runSQLOnFiles", "false")
        self._session.conf.set("spark.sql.ansi.enabled", "true")
        self._views = [name.lower() for name in view_names]
        self._extra = dict(extra_views or {})
        self._functions = FunctionAllowList.from_registry(self._session)
        self._limits = limits
        self._slots = threading.BoundedSemaphore(limits.max_concurrent)
        self._running = 0
        self._count_lock = threading.Lock()

    @property
    def running(self) -> int:
        """Queries holding a slot now."""
        with self._count_lock:
            return self._running

    @property
    def views(self) -> list[str]:
        """Every view a query may read."""
        return sorted([*self._views, *self._extra])

    def check(self, sql: str) -> Any:
        """The analyzed plan of an allowed query; UnsafeQuery or QueryFailed otherwise."""
        text = bounded_text(sql)
        jsession = self._session._jsparkSession
        try:
            parsed = jsession.sessionState().sqlParser().parsePlan(text)
        except PySparkException as exc:
            if ";" in text:
                raise UnsafeQuery("only a single statement is allowed") from None
            raise _failed(exc) from None
        check_parsed(parsed, self._functions)
        self._refresh_views(text)
        try:
            analyzed = jsession.sessionState().executePlan(parsed, _skip_mode(self._session))
            plan = analyzed.analyzed()
        except PySparkException as exc:
            raise _failed(exc) from None
        check_analyzed(plan, set(self.views), self._functions)
        return plan

    def run(
        self, sql: str, max_rows: int, on_cancel: Callable[[Callable[[], None]], object]
    ) -> QueryResult:
        """Checks and runs the query; at most max_rows rows and limits.max_result_bytes.

        on_cancel registers a callback that cancels the query (the caller's RPC going away).
        Raises UnsafeQuery, QueryFailed, QueryTimedOut or TooManyQueries.
        """
        if not self._slots.acquire(blocking=False):
            raise TooManyQueries(
                f"{self._limits.max_concurrent} operator queries are running; retry later"
            )
        with self._count_lock:
            self._running += 1
        group = f"movierec-sql-{uuid.uuid4().hex}"
        done: Future[QueryResult] = Future()
        cancel = _Canceller(self._session, group)
        worker = threading.Thread(
            target=self._run_in_slot,
            args=(sql, max_rows, group, done),
            name="movierec-sql",
            daemon=True,
        )
        on_cancel(cancel)
        worker.start()
        try:
            return done.result(timeout=self._limits.timeout_s)
        except TimeoutError:
            cancel()
            worker.join(CANCEL_GRACE_S)
            raise QueryTimedOut(
                f"the query ran past {self._limits.timeout_s:g} s and was cancelled"
            ) from None

    def _run_in_slot(self, sql: str, max_rows: int, group: str, done: Future[QueryResult]) -> None:
        try:
            self._session.sparkContext.setJobGroup(group, "operator SQL", interruptOnCancel=True)
            plan = self.check(sql)
            df = DataFrame(_dataset(self._session, plan), self._session)
            rows = df.limit(max_rows + 1).collect()
            done.set_result(self._result(df, rows, max_rows))
        except PySparkException as exc:
            done.set_exception(_failed(exc))
        except BaseException as exc:
            done.set_exception(exc)
        finally:
            with self._count_lock:
                self._running -= 1
            self._slots.release()

    def _result(self, df: DataFrame, rows: list[Row], max_rows: int) -> QueryResult:
        values: list[list[Any]] = []
        size = 0
        truncated = len(rows) > max_rows
        for row in rows[:max_rows]:
            converted = [to_json_value(v) for v in row]
            size += len(repr(converted))
            if size > self._limits.max_result_bytes:
                truncated = True
                break
            values.append(converted)
        return QueryResult(
            columns=df.columns,
            column_types=[f.dataType.simpleString() for f in df.schema.fields],
            rows=values,
            truncated=truncated,
        )

    def _refresh_views(self, text: str) -> None:
        """Copies the serving session's current views (and the extra views the text names)
        into the operator session."""
        for name in self._views:
            if not self._serving.catalog.tableExists(name):
                continue  # rec_lists lives in MySQL with the baseline list store
            plan = self._serving.table(name)._jdf.queryExecution().analyzed()
            DataFrame(_dataset(self._session, plan), self._session).createOrReplaceTempView(name)
        lowered = text.lower()
        for name, build in self._extra.items():
            if name in lowered:
                build(self._session).createOrReplaceTempView(name)


class _Canceller:
    """Cancels one query's Spark jobs; safe to call more than once and after it finished."""

    def __init__(self, session: SparkSession, group: str) -> None:
        self._session = session
        self._group = group

    def __call__(self) -> None:
        try:
            self._session.sparkContext.cancelJobGroup(self._group)
        except Exception:  # the context may be stopping; nothing left to cancel then
            log.debug("cancelling %s failed", self._group, exc_info=True)


def _dataset(session: SparkSession, plan: Any) -> Any:
    jvm = session.sparkContext._jvm
    assert jvm is not None
    return jvm.org.apache.spark.sql.classic.Dataset.ofRows(session._jsparkSession, plan)


def _skip_mode(session: SparkSession) -> Any:
    jvm = session.sparkContext._jvm
    assert jvm is not None
    return jvm.org.apache.spark.sql.execution.CommandExecutionMode.SKIP()


def _failed(exc: PySparkException) -> QueryFailed:
    condition = exc.getCondition() or ""
    message = (exc.getMessage() or str(exc)).strip()
    first = message.splitlines()[0] if message else "query failed"
    first = first.removeprefix(f"[{condition}] ") if condition else first
    return QueryFailed(condition, first[:500])


def to_json_value(value: Any) -> Any:
    """A collected Spark value as JSON-like Python (for google.protobuf.Value)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Row):
        return {k: to_json_value(v) for k, v in value.asDict().items()}
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return str(value)
