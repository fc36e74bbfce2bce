"""User activity: last activity time and access frequency per user, mirrored to `user_activity`.

The patent keeps two tables (last access, access frequency); they share a key, so movierec keeps
one with two columns. Reads consult and bump the in-process copy; flush() writes the changed rows
into the Spark SQL table in one batch.
"""

from __future__ import annotations

import threading

from pyspark.sql import DataFrame, SparkSession

from rec_service.domain.user_index import ActivityIndex
from spark_store.tables import ACTIVITY_ROW, USER_ACTIVITY, UpsertTable, collect_rows


class ActivityStore:
    """In-process activity index (flat arrays, user_index.py) with batched write-back to the
    Spark SQL table."""

    def __init__(self, spark: SparkSession) -> None:
        self._index = ActivityIndex()
        self._dirty: set[str] = set()  # last_active moved: written on the next flush
        self._counted: set[str] = set()  # only access_count moved: written by flush(counts=True)
        self._lock = threading.Lock()
        self._table = UpsertTable(spark, USER_ACTIVITY, ACTIVITY_ROW, key="user_id")

    def load(self, activity: DataFrame) -> int:
        """Replaces everything with rows of ACTIVITY_ROW (the initial table from the ratings)."""
        index = ActivityIndex()
        for row in collect_rows(activity):
            index.set(row.user_id, row.last_active_us, row.access_count)
        with self._lock:
            self._index = index
            self._dirty.clear()
            self._counted.clear()
        self._table.replace(activity)
        return len(index)

    def last_active_us(self, user_id: str) -> int:
        """The user's last activity time; 0 for a user never seen."""
        with self._lock:
            return self._index.last_active_us(user_id)

    def record_access(self, user_id: str) -> None:
        """Counts one read by the user (the access-frequency column)."""
        with self._lock:
            self._index.count_access(user_id)
            self._counted.add(user_id)

    def record_activity(self, user_id: str, at_us: int) -> None:
        """Moves the user's last activity forward (never back) to at_us."""
        with self._lock:
            self._index.move_forward(user_id, at_us)
            self._dirty.add(user_id)

    def pending(self) -> int:
        """Users whose last activity waits for the next write-back."""
        with self._lock:
            return len(self._dirty)

    def flush(self, counts: bool = True) -> int:
        """Writes changed users' rows into the Spark SQL table.

        With counts=False only users whose last activity moved are written: every read bumps an
        access count, and writing those each second kept a Spark job running beside the reads.
        """
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            if counts:
                dirty |= self._counted
                self._counted = set()
            else:
                self._counted -= dirty
            rows = [(u, *self._index.row(u)) for u in dirty]
        try:
            self._table.upsert(rows)
        except Exception:
            with self._lock:
                self._dirty |= dirty
            raise
        return len(rows)
