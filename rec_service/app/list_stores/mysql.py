"""The MySQL baseline list store: the same lists and timestamps, kept in MySQL/MariaDB and
queried on every read (the design the original real-time system compared itself against).

It honours the same contract as the Spark SQL store: newer computed_at wins on a write, bulk
lists of a new model version replace older versions, and reads see a write at once (MySQL
commits it before put returns). One connection per serving thread.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import pymysql

from rec_service.domain.model_types import RecList

T = TypeVar("T")

SCHEMA = """CREATE TABLE IF NOT EXISTS rec_lists (
  user_id VARCHAR(64) NOT NULL PRIMARY KEY,
  movie_ids MEDIUMTEXT NOT NULL,
  scores MEDIUMTEXT NOT NULL,
  computed_at_us BIGINT NOT NULL,
  model_version VARCHAR(64) NOT NULL
) ENGINE=InnoDB"""

# Newer wins, decided inside MySQL so concurrent writers cannot interleave a read and a write.
# The conditions read the stored row's old values, so computed_at_us is assigned last (MySQL
# and MariaDB apply assignments left to right). VALUES() works on both servers.
NEWER = "VALUES(computed_at_us) > computed_at_us"
NEWER_WINS = f"""INSERT INTO rec_lists VALUES (%s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE
  movie_ids = IF({NEWER}, VALUES(movie_ids), movie_ids),
  scores = IF({NEWER}, VALUES(scores), scores),
  model_version = IF({NEWER}, VALUES(model_version), model_version),
  computed_at_us = GREATEST(VALUES(computed_at_us), computed_at_us)"""

# Bulk lists of a new model: replace unless the stored list has this version and is as new.
# The decision is taken once, on the old row, into @keep before anything is assigned.
REPLACE_OLDER = """INSERT INTO rec_lists VALUES (%s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE
  movie_ids = IF(@keep := (model_version = VALUES(model_version)
                           AND computed_at_us >= VALUES(computed_at_us)),
                 movie_ids, VALUES(movie_ids)),
  scores = IF(@keep, scores, VALUES(scores)),
  model_version = IF(@keep, model_version, VALUES(model_version)),
  computed_at_us = IF(@keep, computed_at_us, VALUES(computed_at_us))"""


@dataclass(frozen=True)
class MySqlSettings:
    """[mysql] The MySQL/MariaDB list store (the benchmark baseline)."""

    flag_prefix: ClassVar[str] = "mysql_"

    host: str = "127.0.0.1"
    """MySQL/MariaDB server for list_store=mysql."""
    port: int = 3306
    """Its port."""
    user: str = "root"
    """Its user."""
    password: str = ""
    """Its password (prefer MOVIEREC_MYSQL_PASSWORD to a flag)."""
    database: str = "movierec"
    """Database for the rec_lists table; created when missing."""


def _row(user_id: str, rec: RecList) -> tuple[Any, ...]:
    return (
        user_id,
        json.dumps(rec.movie_ids, separators=(",", ":")),
        json.dumps(rec.scores, separators=(",", ":")),
        rec.computed_at_us,
        rec.model_version,
    )


class MySqlListStore:
    """rec_lists in MySQL; every get is a primary-key query."""

    kind = "mysql"
    blocking = True  # a query per read

    def __init__(self, settings: MySqlSettings, reset: bool = False) -> None:
        self.settings = settings
        self._local = threading.local()
        admin = pymysql.connect(
            host=settings.host, port=settings.port, user=settings.user,
            password=settings.password, autocommit=True,
        )  # fmt: skip
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{settings.database}`")
        admin.close()

        def create(cur: Any) -> None:
            if reset:
                cur.execute("DROP TABLE IF EXISTS rec_lists")
            cur.execute(SCHEMA)

        self._run(create)

    def _connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            s = self.settings
            conn = pymysql.connect(
                host=s.host, port=s.port, user=s.user, password=s.password,
                database=s.database, autocommit=True,
            )  # fmt: skip
            self._local.conn = conn
        return conn

    def _run(self, work: Callable[[Any], T]) -> T:
        """Runs work(cursor); a connection the server dropped (restart, idle timeout) is
        replaced once, so a read does not fail for it."""
        try:
            with self._connection().cursor() as cur:
                return work(cur)
        except (pymysql.err.OperationalError, pymysql.err.InterfaceError):
            self._local.conn = None
            with self._connection().cursor() as cur:
                return work(cur)

    def get(self, user_id: str) -> RecList | None:
        def query(cur: Any) -> Any:
            cur.execute(
                "SELECT movie_ids, scores, computed_at_us, model_version FROM rec_lists "
                "WHERE user_id = %s",
                (user_id,),
            )
            return cur.fetchone()

        row = self._run(query)
        if row is None:
            return None
        return RecList(tuple(json.loads(row[0])), tuple(json.loads(row[1])), row[2], row[3])

    def stamp(self, user_id: str) -> tuple[int, str] | None:
        rec = self.get(user_id)  # the baseline keeps no separate stamp: one query either way
        return None if rec is None else (rec.computed_at_us, rec.model_version)

    def stamps(self) -> list[tuple[str, int, str]]:
        def query(cur: Any) -> list[tuple[str, int, str]]:
            cur.execute("SELECT user_id, computed_at_us, model_version FROM rec_lists")
            return [(str(u), int(at), str(v)) for u, at, v in cur.fetchall()]

        return self._run(query)

    def put(self, user_id: str, rec: RecList) -> RecList:
        def upsert(cur: Any) -> int:
            cur.execute(NEWER_WINS, _row(user_id, rec))
            return int(cur.rowcount)  # 1 inserted, 2 updated, 0 kept the stored row

        if self._run(upsert):
            return rec
        current = self.get(user_id)
        return current if current is not None else rec

    def put_many(self, lists: Sequence[tuple[str, RecList]]) -> int:
        """Installs bulk lists; returns how many were sent (MySQL decides which replace)."""

        def upsert(cur: Any) -> int:
            for start in range(0, len(lists), 1000):
                cur.executemany(REPLACE_OLDER, [_row(u, r) for u, r in lists[start : start + 1000]])
            return len(lists)

        return self._run(upsert)

    def load_bulk(self, lists: Sequence[tuple[str, RecList]]) -> int:
        return self.put_many(lists)

    def flush(self) -> int:
        """Nothing is queued: every put is already committed in MySQL."""
        return 0
