"""The driver heap `auto` resolves to (spark_store.session.driver_heap)."""

from __future__ import annotations

import pytest

from spark_store import session


@pytest.mark.parametrize(
    ("machine_gib", "expected"),
    [(24, "12g"), (23.4, "11g"), (64, "32g"), (6, "4g")],
)
def test_auto_heap_is_half_the_machine_with_a_local_master(
    monkeypatch: pytest.MonkeyPatch, machine_gib: float, expected: str
) -> None:
    monkeypatch.setattr(session, "machine_memory_bytes", lambda: int(machine_gib * 2**30))
    assert session.driver_heap("auto", "local[2]") == expected


def test_auto_heap_on_a_cluster_is_the_fixed_driver_heap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session, "machine_memory_bytes", lambda: 64 * 2**30)
    assert session.driver_heap("auto", "spark://host:7077") == "4g"


def test_a_set_heap_is_used_as_given() -> None:
    assert session.driver_heap("14g", "local[2]") == "14g"
    assert session.driver_heap("2g", "spark://host:7077") == "2g"


def test_machine_memory_is_at_most_physical_memory() -> None:
    import os

    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert 0 < session.machine_memory_bytes() <= physical
