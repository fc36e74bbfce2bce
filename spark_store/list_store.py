"""Per-user recommendation lists: an in-process index for reads, the Spark SQL table as record.

Reads never run a Spark job: a Spark SQL point lookup takes tens of milliseconds
(benchmarks/results/design-measurements.md). The index is
a ListIndex (flat arrays, user_index.py); a write puts the list in the index at once (newer
computed_at wins, so a read never sees an older list than one already served) and queues it;
flush() merges the queue into the `rec_lists` table in one batch.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from pyspark.sql import DataFrame, SparkSession

from rec_service.domain.model_types import RecList
from rec_service.domain.user_index import ListIndex
from spark_store.tables import REC_LISTS, REC_LISTS_ROW, UpsertTable, collect_rows


class SparkListStore:
    """The list store backed by the in-memory Spark SQL table `rec_lists`."""

    kind = "spark"
    blocking = False  # an in-process index; the Spark SQL table is written by flush()

    def __init__(self, spark: SparkSession) -> None:
        self._index = ListIndex()
        self._pending: set[str] = set()  # users whose list waits for the next write-back
        self._lock = threading.Lock()
        self._table = UpsertTable(spark, REC_LISTS, REC_LISTS_ROW, key="user_id")

    def __len__(self) -> int:
        return len(self._index)

    def pending(self) -> tuple[int, int]:
        """(lists waiting for the next write-back, computed_at_us of the oldest; 0 if none)."""
        with self._lock:
            if not self._pending:
                return 0, 0
            return len(self._pending), int(self._index.computed_at_us(self._pending).min())

    def get(self, user_id: str) -> RecList | None:
        """The user's current list, or None."""
        with self._lock:
            return self._index.get(user_id)

    def stamp(self, user_id: str) -> tuple[int, str] | None:
        with self._lock:
            return self._index.stamp(user_id)

    def stamps(self) -> list[tuple[str, int, str]]:
        with self._lock:  # held for array copies only, not for a pass over every user
            rows = self._index.stamp_rows()
        return rows.stamps()

    def put(self, user_id: str, rec: RecList) -> RecList:
        """Stores rec unless a newer list is already there; returns the list now current."""
        with self._lock:
            current = self._index.get(user_id)
            if current is not None and current.computed_at_us >= rec.computed_at_us:
                return current
            self._pending.add(user_id)
            return self._index.set(user_id, rec)

    def put_many(self, lists: Sequence[tuple[str, RecList]]) -> int:
        """Installs bulk-computed lists of a new model version: each replaces the user's list
        unless that one has the same version and is at least as new. Returns how many did."""
        installed = 0
        with self._lock:
            for user_id, rec in lists:
                stamp = self._index.stamp(user_id)  # (computed_at_us, model_version) or None
                if (
                    stamp is not None
                    and stamp[1] == rec.model_version
                    and stamp[0] >= rec.computed_at_us
                ):
                    continue
                self._index.set(user_id, rec)
                self._pending.add(user_id)
                installed += 1
        return installed

    def load_bulk(self, lists: Sequence[tuple[str, RecList]]) -> int:
        """Installs bulk-computed lists and writes them to the table now."""
        count = self.put_many(lists)
        self.flush()
        return count

    def flush(self) -> int:
        """Merges queued lists into the Spark SQL table; returns how many rows were written."""
        with self._lock:
            batch, self._pending = self._pending, set()
            lists = [(user, self._index.get(user)) for user in batch]
        rows = [
            (user, list(r.movie_ids), list(r.scores), r.computed_at_us, r.model_version)
            for user, r in lists
            if r is not None
        ]
        try:
            self._table.upsert(rows)
        except Exception:
            # Queue them again so the next flush retries (it writes whatever is newest then).
            with self._lock:
                self._pending |= batch
            raise
        return len(rows)


def bulk_lists(lists: DataFrame) -> list[tuple[str, RecList]]:
    """Collects Spark-computed lists (REC_LISTS_ROW columns) to the driver."""
    return [
        (
            row.user_id,
            RecList(tuple(row.movie_ids), tuple(row.scores), row.computed_at_us, row.model_version),
        )
        for row in collect_rows(lists)
    ]
