"""The rating log on its own: durable appends read back, torn tails cut, corruption refused,
rotation and deletion, group commit across threads, one owner at a time; a failing fsync and a
full disk acknowledge nothing that is not durable and recover by themselves."""

from __future__ import annotations

import errno
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rec_service.app.rating_logs.file_log import LogInUse, RatingLog, segment_name
from rec_service.core.durable_log import LogCorrupted, NewRating
from rec_service.core.errors import Unavailable


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
    assert closed == 1 and log.end_position()[0] == 2
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
    assert log.end_position() == (4, 0) and log.segments() == [4]
    assert log.append(_ratings(1), accepted_us=1)[0].position == (4, 0)
    with pytest.raises(LogCorrupted, match="holds ratings"):
        log.advance_past(4)  # segment 4 has data the model cannot hold
    log.close()


def test_a_failed_fsync_acknowledges_nothing_unsynced_and_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EIO from fsync while two writers' batches wait on it: both are refused (the page cache
    is not trusted after a failed fsync), neither is in the log afterwards, and appends work
    again once fsync does."""
    log = RatingLog(tmp_path)
    kept = log.append(_ratings(3), accepted_us=1)
    real_fsync = os.fsync
    in_fsync, release = threading.Event(), threading.Event()

    def failing_fsync(fd: int) -> None:
        in_fsync.set()
        release.wait(10)
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    outcomes: dict[str, str] = {}

    def append(user: str) -> None:
        try:
            log.append(_ratings(2, user), accepted_us=2)
            outcomes[user] = "acknowledged"
        except Unavailable as exc:
            outcomes[user] = str(exc)

    first = threading.Thread(target=append, args=("a",))
    first.start()
    assert in_fsync.wait(10)  # a's fsync runs (and will fail)
    second = threading.Thread(target=append, args=("b",))
    second.start()
    _wait_until(lambda: log._written > kept[-1].position[1] + 100)  # b's bytes are written too
    release.set()
    first.join(10)
    second.join(10)
    assert set(outcomes) == {"a", "b"}
    assert all(
        "EIO" in text and "none of them is acknowledged" in text for text in outcomes.values()
    )
    monkeypatch.setattr(os, "fsync", real_fsync)
    after = log.append(_ratings(1, "c"), accepted_us=3)
    log.close()
    again = RatingLog(tmp_path)
    assert list(again.read()) == kept + after
    again.close()


def test_a_full_disk_refuses_writers_and_recovers_when_space_returns(
    small_fs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A real 64 KiB filesystem: appends until it is full are acknowledged, the one that does
    not fit answers UNAVAILABLE naming ENOSPC and leaves nothing, and once space is freed
    ingestion goes on by itself; the log reopens with exactly what was acknowledged."""
    filler = small_fs / "filler"
    filler.write_bytes(b"\0" * 40_000)
    writable: list[bool] = []
    log = RatingLog(small_fs / "log", on_writable=writable.append)
    acknowledged: list = []
    with pytest.raises(Unavailable, match="ENOSPC"):
        for batch in range(1000):
            acknowledged += log.append(_ratings(20, f"b{batch}-"), accepted_us=batch + 1)
    assert acknowledged
    with pytest.raises(Unavailable, match="ENOSPC"):  # still full
        log.append(_ratings(20, "again-"), accepted_us=5_000)
    assert writable == [False]  # told once, not at every refused retry
    filler.unlink()
    acknowledged += log.append(_ratings(5, "after-"), accepted_us=6_000)
    assert writable == [False, True]  # writers' health: back once an append is durable
    said = [r.getMessage() for r in caplog.records if r.name.endswith("file_log")]
    assert len(said) == 2 and "failed" in said[0] and "takes writes again" in said[1]
    log.close()
    again = RatingLog(small_fs / "log")
    assert list(again.read()) == acknowledged
    again.close()


@pytest.fixture()
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of 64 KiB, where this machine lets the test mount one (root)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def _wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.01)
