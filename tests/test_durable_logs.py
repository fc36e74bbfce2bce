"""One contract for every adapter of the DurableLog port (core/durable_log.py): the file log and
the JetStream log must give ingestion, replay and retrain the same answers. What differs by
design (the file log deletes merged segments, JetStream keeps messages for other replicas; the
file log locks its directory) is tested beside each adapter."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rec_service.app.rating_logs.file_log import RatingLog
from rec_service.app.rating_logs.jetstream import JetStreamLog
from rec_service.core.durable_log import DurableLog, LoggedRating, NewRating

from .conftest import NatsServer

_streams = itertools.count()
Opener = Callable[[], DurableLog]


@pytest.fixture(params=["file", "jetstream"])
def open_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the same log again each time it is called (a restart); every log it opened is
    closed after the test."""
    opened: list[DurableLog] = []
    if request.param == "file":

        def opener() -> DurableLog:
            return RatingLog(tmp_path / "log")

    else:
        nats = NatsServer(tmp_path)
        nats.start()
        request.addfinalizer(nats.stop)
        stream = f"CONTRACT_{next(_streams)}"

        def opener() -> DurableLog:
            return JetStreamLog(nats.url, stream)

    def tracked() -> DurableLog:
        log = opener()
        opened.append(log)
        return log

    yield tracked
    for log in opened:
        log.close()


def _ratings(n: int, user: str = "u") -> list[NewRating]:
    return [NewRating(f"{user}{i}", str(i % 7 + 1), 0.5 + (i % 10) / 2, None) for i in range(n)]


def _fields(records: list[LoggedRating]) -> list[tuple[str, str, float, int]]:
    return [(r.user_id, r.movie_id, r.rating, r.event_us) for r in records]


def test_appended_ratings_are_read_back_in_order_with_growing_positions(
    open_log: Opener,
) -> None:
    log = open_log()
    assert list(log.read()) == []
    first = log.append(_ratings(3), accepted_us=1_000)
    second = log.append([NewRating("v", "2", 4.0, 500)], accepted_us=2_000)
    assert _fields(first) == [
        ("u0", "1", 0.5, 1_000),
        ("u1", "2", 1.0, 1_000),
        ("u2", "3", 1.5, 1_000),
    ]
    assert _fields(second) == [("v", "2", 4.0, 500)]  # an event time given is kept
    positions = [r.position for r in first + second]
    assert positions == sorted(positions) and len(set(positions)) == 4
    assert list(log.read()) == first + second
    assert log.end_position() > positions[-1]
    assert isinstance(log.name, str) and log.skipped_records == 0 and log.size_bytes() > 0


def test_ranges_select_by_position(open_log: Opener) -> None:
    log = open_log()
    first = log.append(_ratings(3), accepted_us=1_000)
    second = log.append(_ratings(2, "v"), accepted_us=2_000)
    assert list(log.read(start=first[1].position)) == first[1:] + second
    assert list(log.read(end=second[0].position)) == first
    assert list(log.read(start=first[2].position, end=second[1].position)) == first[2:] + second[:1]


def test_a_cut_separates_what_a_retrain_merges_from_what_follows(open_log: Opener) -> None:
    log = open_log()
    before = log.append(_ratings(2), accepted_us=1_000)
    closed, cut_us = log.rotate()
    log.advance_past(closed)
    after = log.append(_ratings(2, "v"), accepted_us=cut_us + 1)
    assert all(r.position[0] > closed for r in after)
    assert all(r.position[0] <= closed for r in before)
    assert list(log.read(after_segment=closed)) == after
    assert list(log.read(end=(closed + 1, 0))) == before
    log.delete_through(closed)  # the file log removes merged segments; JetStream keeps them
    assert list(log.read(after_segment=closed)) == after


def test_what_was_acknowledged_survives_a_restart(open_log: Opener) -> None:
    log = open_log()
    written = log.append(_ratings(4), accepted_us=1_000)
    end = log.end_position()
    log.close()
    log.close()  # a second close is harmless
    again = open_log()
    assert list(again.read()) == written
    assert again.end_position() >= end
    more = again.append(_ratings(1, "w"), accepted_us=2_000)
    assert more[0].position > written[-1].position
