"""The compact per-user index behind the Spark list and activity stores: rows survive growth
in users and in list width, removal, float32 scores, and activity that only moves forward."""

from __future__ import annotations

import numpy as np

from rec_service.domain.model_types import RecList
from rec_service.domain.user_index import ActivityIndex, ListIndex


def rec(n: int, at: int, version: str = "v1", base: int = 0) -> RecList:
    return RecList(
        tuple(str(base + i) for i in range(n)), tuple(float(n - i) for i in range(n)), at, version
    )


def test_lists_survive_growth_in_users_and_width() -> None:
    index = ListIndex()
    for u in range(3000):  # past the first capacity twice
        index.set(f"u{u}", rec(5, u, base=u))
    index.set("u7", rec(40, 99_999, "v2"))  # wider than every list so far
    assert len(index) == 3000
    assert index.get("u7") == rec(40, 99_999, "v2")
    for u in (0, 1023, 1024, 2999):
        stored = index.get(f"u{u}")
        assert stored is not None
        assert stored.movie_ids == tuple(str(u + i) for i in range(5))
        assert stored.computed_at_us == u and stored.model_version == "v1"
    assert index.get("nobody") is None


def test_set_returns_the_list_as_stored_with_float32_scores() -> None:
    index = ListIndex()
    stored = index.set("u", RecList(("a", "b"), (0.1, 1 / 3), 5, "v"))
    assert stored == index.get("u")
    assert stored.scores == (float(np.float32(0.1)), float(np.float32(1 / 3)))
    shorter = index.set("u", RecList(("c",), (2.0,), 6, "v"))  # no tail of the old list left
    assert shorter == RecList(("c",), (2.0,), 6, "v") == index.get("u")


def test_removed_list_is_gone_and_the_row_is_reused() -> None:
    index = ListIndex()
    index.set("u", rec(3, 10))
    index.remove("u")
    index.remove("never-seen")
    assert index.get("u") is None and index.stamp("u") is None
    index.set("u", rec(2, 20, "v9"))
    assert index.stamp("u") == (20, "v9") and len(index) == 1


def test_activity_moves_forward_only_and_counts_accesses() -> None:
    activity = ActivityIndex()
    assert activity.last_active_us("new") == 0
    for u in range(2000):
        activity.move_forward(f"u{u}", 100 + u)
    activity.move_forward("u5", 50)  # earlier: ignored
    activity.count_access("u5")
    activity.count_access("u5")
    activity.count_access("reader")  # a read by a user with no activity yet
    assert activity.row("u5") == (105, 2)
    assert activity.row("reader") == (0, 1)
    assert activity.last_active_us("u1999") == 2099


def test_stamp_rows_copy_every_list_stamp_but_removed_ones() -> None:
    index = ListIndex()
    for u in range(1500):  # past the first capacity
        index.set(f"u{u}", rec(2, u, "v1" if u % 2 else "v2"))
    index.remove("u3")
    rows = index.stamp_rows()
    index.set("u0", rec(2, 99_999, "v3"))  # after the copy: not in it
    stamps = rows.stamps()
    assert len(stamps) == 1499 and ("u3", 3, "v1") not in stamps
    assert stamps[0] == ("u0", 0, "v2") and stamps[-1] == ("u1499", 1499, "v1")
