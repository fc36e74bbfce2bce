"""The list store port: where per-user lists and activity live for the lazy update. Adapters:
the Spark SQL store (spark_store/list_store.py and activity_store.py, in-process index with a
batched write-back) and the MySQL baseline (rec_service/app/list_stores/mysql.py);
tests/test_list_stores.py runs one contract against both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rec_service.domain.model_types import RecList


class ListStore(Protocol):
    """Where per-user lists live; reads must be cheap, writes keep the newest list."""

    kind: str
    # Whether get and put wait on I/O (a database over the network): the serving event loop
    # then calls them on a thread rather than inline.
    blocking: bool

    def get(self, user_id: str) -> RecList | None: ...

    def stamp(self, user_id: str) -> tuple[int, str] | None:
        """(computed_at_us, model_version) of the user's list, or None: what identifies it,
        without decoding its movies."""
        ...

    def stamps(self) -> list[tuple[str, int, str]]:
        """(user_id, computed_at_us, model_version) of every list: for a metrics scrape, not
        for a read."""
        ...

    def put(self, user_id: str, rec: RecList) -> RecList: ...

    def put_many(self, lists: Sequence[tuple[str, RecList]]) -> int: ...

    def load_bulk(self, lists: Sequence[tuple[str, RecList]]) -> int: ...

    def flush(self) -> int: ...


class Activity(Protocol):
    """Per-user last activity and access frequency."""

    def last_active_us(self, user_id: str) -> int: ...

    def record_access(self, user_id: str) -> None: ...

    def record_activity(self, user_id: str, at_us: int) -> None: ...

    def flush(self, counts: bool = True) -> int: ...

    def pending(self) -> int: ...
