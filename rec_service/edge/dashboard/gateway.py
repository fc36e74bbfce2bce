"""What the dashboard shows, asked of the servicers gRPC clients call, so a page never shows
something a client would not get.

Each call goes through the servicer method with a request message, as an RPC would, and
returns the response message (validation, lazy update, limits and errors included). Figures no
RPC offers directly (a user's ratings, list freshness, a movie's statistics) are fixed QuerySql
queries: they run under every limit of that RPC (the SQL guard, timeout, row and byte caps,
concurrency). An id enters such a query only as hexadecimal digits inside
`CAST(unhex('...') AS STRING)`, so no id can change the query's text.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from movierec.v1 import admin_pb2 as apb
from movierec.v1 import movierec_pb2 as pb

from rec_service.core.errors import ServiceError
from rec_service.edge.admin import AdminServicer
from rec_service.edge.servicer import RecommendationServicer

TOP_N = 10  # what the user page shows, and what the browser test compares with GetTopN
USER_RATINGS_SHOWN = 500


class PageError(Exception):
    """A call the page made was refused or failed; the message is the servicer's own."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class _InProcessCall:
    """The ServicerContext of a call made in this process: no metadata, never cancelled (so
    nothing waits for its end)."""

    def add_done_callback(self, callback: Callable[[Any], None]) -> None:
        pass

    def cancelled(self) -> bool:
        return False

    def peer(self) -> str:
        return "dashboard"

    def invocation_metadata(self) -> tuple[()]:
        return ()


def sql_text(value: str) -> str:
    """A Spark SQL string expression equal to `value`, made of hexadecimal digits only."""
    return f"CAST(unhex('{value.encode('utf-8').hex()}') AS STRING)"


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class Gateway:
    """Called from the dashboard's HTTP threads; each call runs on the gRPC server's event
    loop (`run_on_loop`), as the same call from a client would."""

    def __init__(
        self,
        recommendations: RecommendationServicer,
        admin: AdminServicer,
        run_on_loop: Callable[[Coroutine[Any, Any, Any]], Any],
    ) -> None:
        self._recommendations = recommendations
        self._admin = admin
        self._run_on_loop = run_on_loop

    def _call(self, method: Callable[[Any, Any], Coroutine[Any, Any, Any]], request: Any) -> Any:
        try:
            return self._run_on_loop(method(request, _InProcessCall()))
        except ServiceError as exc:
            raise PageError(exc.code.name, str(exc)) from None

    # --- the RPCs, as clients call them ---

    def model_info(self) -> apb.GetModelInfoResponse:
        return self._call(self._admin.GetModelInfo, apb.GetModelInfoRequest())

    def top_n(self, user_id: str, page_size: int = TOP_N) -> pb.GetTopNResponse:
        request = pb.GetTopNRequest(user_id=user_id, page_size=page_size, explain=True)
        return self._call(self._recommendations.GetTopN, request)

    def similar(self, movie_id: str, page_size: int = TOP_N) -> pb.GetSimilarMoviesResponse:
        request = pb.GetSimilarMoviesRequest(movie_id=movie_id, page_size=page_size)
        return self._call(self._recommendations.GetSimilarMovies, request)

    def retrain_status(self) -> apb.GetRetrainStatusResponse:
        return self._call(self._admin.GetRetrainStatus, apb.GetRetrainStatusRequest())

    def trigger_retrain(self) -> apb.TriggerRetrainResponse:
        return self._call(self._admin.TriggerRetrain, apb.TriggerRetrainRequest())

    def query(self, sql: str, max_rows: int = 0) -> Table:
        response = self._call(self._admin.QuerySql, apb.QuerySqlRequest(sql=sql, max_rows=max_rows))
        return Table(
            list(response.columns), [list(row) for row in response.rows], response.truncated
        )

    # --- fixed queries over the service's Spark SQL tables ---

    def user_page(self, user_id: str) -> tuple[Table, dict[str, Any] | None]:
        """The user's ratings, newest first and the latest one per movie (a movie rated again
        since the model is listed once, as rated last), each time in UTC; and the user's row
        of user_activity (last_active_us, access_count), or None."""
        user = sql_text(user_id)
        rated = self.query(
            "SELECT r.movie_id, m.title, r.rating,"
            " date_format(r.rated_at, 'yyyy-MM-dd HH:mm:ss') || ' UTC' AS rated_at, r.source"
            " FROM (SELECT movie_id, rating, timestamp_seconds(timestamp) AS rated_at,"
            " 'training data' AS source, 0 AS newer FROM ratings WHERE user_id = "
            + user
            + " UNION ALL SELECT movie_id, rating, event_time, 'since the model', 1"
            " FROM rating_log WHERE user_id = " + user + ") r"
            " LEFT JOIN movies m ON r.movie_id = m.movie_id"
            " ORDER BY r.rated_at DESC, r.newer DESC",
            USER_RATINGS_SHOWN,
        )
        seen: set[Any] = set()
        latest = []
        for row in rated.rows:  # newest first: the first row of a movie is its latest rating
            if row[0] not in seen:
                seen.add(row[0])
                latest.append(row)
        rows = self.query(
            "SELECT unix_micros(last_active) AS last_active_us, access_count FROM user_activity"
            " WHERE user_id = " + user
        ).records()
        activity = (
            {
                "last_active_us": int(rows[0]["last_active_us"]),
                "access_count": int(rows[0]["access_count"]),
            }
            if rows
            else None
        )
        return Table(rated.columns, latest, rated.truncated), activity

    def movie(self, movie_id: str) -> dict[str, Any] | None:
        """The movie's row of the movies table (title, genres, rating count and mean)."""
        rows = self.query(
            "SELECT movie_id, title, genres, rating_count, mean_rating FROM movies"
            " WHERE movie_id = " + sql_text(movie_id)
        ).records()
        return rows[0] if rows else None

    def freshness(self) -> dict[str, int]:
        """Lists in rec_lists computed after their user's last activity (fresh: served as they
        are) and before it (stale: recomputed on the next read), and active users without one."""
        rows = self.query(
            "SELECT count(*) AS lists,"
            " count_if(a.last_active IS NULL OR l.computed_at > a.last_active)"
            " AS fresh,"
            " (SELECT count(*) FROM user_activity u LEFT ANTI JOIN rec_lists r"
            " ON u.user_id = r.user_id) AS without_list"
            " FROM rec_lists l LEFT JOIN user_activity a ON l.user_id = a.user_id"
        ).records()
        row = rows[0]
        lists, fresh = int(row["lists"]), int(row["fresh"])
        return {
            "fresh": fresh,
            "stale": lists - fresh,
            "without_list": int(row["without_list"]),
        }
