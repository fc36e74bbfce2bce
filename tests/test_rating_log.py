"""The rating log on its own: durable appends read back, torn tails cut, corruption refused,
rotation and deletion, group commit across threads, one owner at a time."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from rec_service.core.rating_log import LogCorrupted, LogInUse, NewRating, RatingLog, segment_name


def _ratings(n: int, user: str = "u") -> list[NewRating]:
    return [NewRating(f"{user}{i}", str(i % 7), 0.5 * (1 + i % 10), None) for i in range(n)]


def test_appended_ratings_read_back_in_order_with_positions(tmp_path: Path) -> None:
    log = RatingLog(tmp_path)
    first = log.append(_ratings(3), accepted_us=1_000)
    second = log.append([NewRating("x", "9", 4.5, 77)], accepted_us=2_000)
    log.close()
    again = RatingLog(tmp_path)
    records = list(again.read())
    assert records == first + second
    assert [r.position for r in records] == sorted(r.position for r in records)
    assert records[0].event_us == 1_000  # no event time: the acceptance time
    assert records[-1].event_us == 77 and records[-1].rating == 4.5
    again.close()


def test_torn_tail_is_cut_and_appends_continue(tmp_path: Path) -> None:
    log = RatingLog(tmp_path)
    kept = log.append(_ratings(5), accepted_us=1)
    log.close()
    segment = tmp_path / segment_name(1)
    with open(segment, "ab") as fh:
        fh.write(b"123\t456\tu\t1\t4.0\tdead")  # a crash mid-write: no newline, no valid CRC
    log = RatingLog(tmp_path)
    more = log.append(_ratings(1, user="v"), accepted_us=2)
    assert list(log.read()) == kept + more
    log.close()


def test_a_bad_record_before_good_ones_refuses_to_open(tmp_path: Path) -> None:
    log = RatingLog(tmp_path)
    log.append(_ratings(4), accepted_us=1)
    log.close()
    segment = tmp_path / segment_name(1)
    lines = segment.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"u1", b"u9")  # same shape, wrong checksum
    segment.write_bytes(b"".join(lines))
    with pytest.raises(LogCorrupted, match="bad record"):
        RatingLog(tmp_path)


def test_rotate_read_ranges_and_delete(tmp_path: Path) -> None:
    log = RatingLog(tmp_path)
    old = log.append(_ratings(2), accepted_us=1)
    closed, cut_us = log.rotate()
    new = log.append(_ratings(2, user="n"), accepted_us=cut_us + 1)
    assert closed == 1 and log.active_segment == 2
    assert list(log.read(after_segment=1)) == new
    assert list(log.read(end=(2, 0))) == old
    middle = log.end_position()
    newest = log.append(_ratings(1, user="z"), accepted_us=cut_us + 2)
    assert list(log.read(start=middle)) == newest
    assert log.delete_through(1) == [1]
    assert log.segments() == [2]
    log.close()


def test_concurrent_appends_are_all_durable_and_whole(tmp_path: Path) -> None:
    log = RatingLog(tmp_path)

    def writer(name: str) -> None:
        for _ in range(50):
            log.append(_ratings(20, user=name), accepted_us=5)

    threads = [threading.Thread(target=writer, args=(f"w{i}-",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    records = list(RatingLog(tmp_path).read())
    assert len(records) == 4 * 50 * 20
    assert len({r.position for r in records}) == len(records)


def test_a_second_owner_is_refused(tmp_path: Path) -> None:
    log = RatingLog(tmp_path)
    with pytest.raises(LogInUse):
        RatingLog(tmp_path)
    log.close()
    RatingLog(tmp_path).close()  # free again once the owner closed it


def test_the_active_segment_moves_past_segments_a_model_holds(tmp_path: Path) -> None:
    log = RatingLog(tmp_path)
    log.advance_past(3)  # empty active segment 1: skipped
    assert log.active_segment == 4 and log.segments() == [4]
    assert log.append(_ratings(1), accepted_us=1)[0].position == (4, 0)
    with pytest.raises(LogCorrupted, match="holds ratings"):
        log.advance_past(4)  # segment 4 has data the model cannot hold
    log.close()
