"""Operators' read-only SQL as the AdminService serves it: spark_store's refusals and limits
become the service's own errors (core.errors), and each outcome is counted."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter

from rec_service.core.errors import DeadlineExceeded, InvalidArgument, ResourceExhausted
from spark_store.operator_sql import (
    OperatorSql,
    QueryFailed,
    QueryResult,
    QueryTimedOut,
    TooManyQueries,
)
from spark_store.sql_guard import UnsafeQuery


class OperatorQueries:
    """Runs one operator query through OperatorSql; counts it by outcome (ok, refused, failed,
    timed_out, busy) in `counted`."""

    def __init__(self, sql: OperatorSql, counted: Counter) -> None:
        self._sql, self._counted = sql, counted

    @property
    def running(self) -> int:
        """Queries holding a slot now."""
        return self._sql.running

    def run(
        self, sql: str, max_rows: int, on_cancel: Callable[[Callable[[], None]], object]
    ) -> QueryResult:
        """The query's rows (at most max_rows); InvalidArgument for a refused or failed query,
        DeadlineExceeded past the time limit, ResourceExhausted when every slot is taken."""
        try:
            result = self._sql.run(sql, max_rows, on_cancel)
        except UnsafeQuery as exc:
            self._counted.labels("refused").inc()
            raise InvalidArgument([("sql", str(exc))]) from None
        except QueryFailed as exc:
            self._counted.labels("failed").inc()
            raise InvalidArgument([("sql", str(exc))]) from None
        except QueryTimedOut as exc:
            self._counted.labels("timed_out").inc()
            raise DeadlineExceeded(str(exc)) from None
        except TooManyQueries as exc:
            self._counted.labels("busy").inc()
            raise ResourceExhausted(str(exc)) from None
        self._counted.labels("ok").inc()
        return result
