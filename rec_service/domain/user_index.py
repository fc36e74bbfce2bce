"""Per-user serving state (lists, activity) in flat NumPy arrays, not per-user Python objects.

A list held as a RecList costs two tuples, a Python float per score and, for lists collected
from Spark, a string object per movie: about 6 KB per user with 50-item lists. Here a user is
one dict entry (their id -> a row number) and one row in a few arrays: movie codes as int32
(into an interned table of movie ids), scores as float32, the time and the model version's
code. Scores are ranking scores; float32 keeps seven significant digits of them.
`benchmarks/bench_memory.py` measures resident bytes per user at 1M and 10M users.

No pyspark here: the Spark stores own one of these each and add the table write-back.
Writers hold the owner's lock; readers take it too, so a read never sees half a row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from rec_service.domain.arrays import zero_padded
from rec_service.domain.model_types import RecList

_FIRST_CAPACITY = 1024
_NO_LIST = -1  # the version code of a row whose list was removed


class Interned:
    """Strings seen often (movie ids, model versions) as dense int codes."""

    def __init__(self) -> None:
        self._code: dict[str, int] = {}
        self.values: list[str] = []

    def code(self, value: str) -> int:
        found = self._code.get(value)
        if found is None:
            found = self._code[value] = len(self.values)
            self.values.append(value)
        return found


class Rows:
    """User id -> row number, growing the owner's arrays by doubling."""

    def __init__(self) -> None:
        self.of: dict[str, int] = {}
        self.capacity = 0

    def find(self, user_id: str) -> int:
        return self.of.get(user_id, -1)

    def add(self, user_id: str) -> int:
        """The new user's row; the caller grows its arrays when the row reaches capacity."""
        row = self.of[user_id] = len(self.of)
        return row

    def next_capacity(self) -> int:
        self.capacity = max(_FIRST_CAPACITY, 2 * self.capacity)
        return self.capacity

    def __len__(self) -> int:
        return len(self.of)


class ListIndex:
    """Each user's current list as one row of fixed-width arrays; the caller holds a lock."""

    def __init__(self) -> None:
        self._rows = Rows()
        self._movies = Interned()
        self._versions = Interned()
        self._width = 0
        self._items = np.zeros((0, 0), dtype=np.int32)
        self._scores = np.zeros((0, 0), dtype=np.float32)
        self._lengths = np.zeros(0, dtype=np.int32)
        self._computed_at = np.zeros(0, dtype=np.int64)
        self._version = np.zeros(0, dtype=np.int32)

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, user_id: str) -> RecList | None:
        row = self._rows.find(user_id)
        return None if row < 0 or self._version[row] < 0 else self._list(row)

    def stamp(self, user_id: str) -> tuple[int, str] | None:
        """(computed_at_us, model_version) of the user's list, or None; nothing decoded."""
        row = self._rows.find(user_id)
        if row < 0 or self._version[row] < 0:
            return None
        return int(self._computed_at[row]), self._versions.values[int(self._version[row])]

    def stamp_rows(self) -> StampRows:
        """Every row's stamp, copied: cheap enough to take under the owner's lock (a few
        array copies), then read with StampRows.stamps() outside it."""
        n = len(self._rows)
        return StampRows(
            list(self._rows.of),  # rows are numbered in insertion order and never reused
            self._computed_at[:n].copy(),
            self._version[:n].copy(),
            list(self._versions.values),
        )

    def remove(self, user_id: str) -> None:
        """Forgets the user's list; their row stays, marked empty, for their next list."""
        row = self._rows.find(user_id)
        if row >= 0:
            self._version[row] = _NO_LIST

    def computed_at_us(self, user_ids: Iterable[str]) -> np.ndarray:
        rows = [self._rows.of[u] for u in user_ids]
        return self._computed_at[rows]

    def set(self, user_id: str, rec: RecList) -> RecList:
        """Stores rec as the user's list and returns it as stored (scores in float32)."""
        row = self._rows.find(user_id)
        if row < 0:
            row = self._rows.add(user_id)
            if row >= self._rows.capacity:
                self._grow_rows(self._rows.next_capacity())
        n = len(rec.movie_ids)
        if n > self._width:
            self._grow_width(n)
        self._items[row, :n] = [self._movies.code(m) for m in rec.movie_ids]
        self._scores[row, :n] = rec.scores
        self._lengths[row] = n
        self._computed_at[row] = rec.computed_at_us
        self._version[row] = self._versions.code(rec.model_version)
        return self._list(row)

    def _list(self, row: int) -> RecList:
        n = int(self._lengths[row])
        names = self._movies.values
        return RecList(
            tuple([names[c] for c in self._items[row, :n].tolist()]),
            tuple(self._scores[row, :n].tolist()),
            int(self._computed_at[row]),
            self._versions.values[int(self._version[row])],
        )

    def _grow_rows(self, capacity: int) -> None:
        self._items = zero_padded(self._items, capacity)
        self._scores = zero_padded(self._scores, capacity)
        self._lengths = zero_padded(self._lengths, capacity)
        self._computed_at = zero_padded(self._computed_at, capacity)
        self._version = zero_padded(self._version, capacity)

    def _grow_width(self, width: int) -> None:
        rows = len(self._items)
        items = np.zeros((rows, width), dtype=np.int32)
        scores = np.zeros((rows, width), dtype=np.float32)
        items[:, : self._width] = self._items
        scores[:, : self._width] = self._scores
        self._items, self._scores, self._width = items, scores, width


@dataclass(frozen=True)
class StampRows:
    """A copy of a ListIndex's stamps, row by row (ListIndex.stamp_rows)."""

    user_ids: list[str]
    computed_at_us: np.ndarray
    version_codes: np.ndarray
    versions: list[str]

    def stamps(self) -> list[tuple[str, int, str]]:
        """(user_id, computed_at_us, model_version) of every user with a list."""
        return [
            (user_id, int(at), self.versions[code])
            for user_id, at, code in zip(
                self.user_ids,
                self.computed_at_us.tolist(),
                self.version_codes.tolist(),
                strict=True,
            )
            if code >= 0
        ]


class ActivityIndex:
    """Each user's last activity time and access count as one row of two int64 arrays; the
    caller holds a lock."""

    def __init__(self) -> None:
        self._rows = Rows()
        self._last_active = np.zeros(0, dtype=np.int64)
        self._accesses = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._rows)

    def last_active_us(self, user_id: str) -> int:
        row = self._rows.find(user_id)
        return 0 if row < 0 else int(self._last_active[row])

    def row(self, user_id: str) -> tuple[int, int]:
        """(last_active_us, access_count) of a user the index holds."""
        row = self._rows.of[user_id]
        return int(self._last_active[row]), int(self._accesses[row])

    def set(self, user_id: str, last_active_us: int, access_count: int) -> None:
        row = self._row_for(user_id)
        self._last_active[row] = last_active_us
        self._accesses[row] = access_count

    def count_access(self, user_id: str) -> None:
        self._accesses[self._row_for(user_id)] += 1

    def move_forward(self, user_id: str, at_us: int) -> None:
        """Moves the user's last activity to at_us unless it is already later."""
        row = self._row_for(user_id)
        if at_us > self._last_active[row]:
            self._last_active[row] = at_us

    def _row_for(self, user_id: str) -> int:
        row = self._rows.find(user_id)
        if row < 0:
            row = self._rows.add(user_id)
            if row >= self._rows.capacity:
                capacity = self._rows.next_capacity()
                self._last_active = zero_padded(self._last_active, capacity)
                self._accesses = zero_padded(self._accesses, capacity)
        return row
