"""The file log, an adapter of core.durable_log.DurableLog: the append-only, fsync'd log of
accepted ratings, where nothing acknowledged is ever lost.

Layout: numbered segment files ``ratings-00000001.log`` in one directory. Only the newest
segment is written; a retrain rotates to a new one and, once its merged data is persisted,
deletes the segments it consumed. Each record is one line of core.durable_log's format, whose
CRC covers the line, so a torn write (a crash between write and fsync) is found at the
tail on the next open and cut off; it was never acknowledged. A bad record followed by good
ones is corruption, not a torn tail, and refuses to open rather than drop data silently.

Writers share the fsync (group commit): a batch is written under the lock, then one fsync
covers every batch written before it, so concurrent streams do not queue one fsync each.

A disk that fails (ENOSPC, EIO) is answered UNAVAILABLE with the reason and acknowledges
nothing that is not durable. A failed write is cut off the segment again. After a failed fsync
the page cache is not trusted (PostgreSQL's fsync lesson: the kernel may have dropped the
pages and will not say so twice): the segment is cut back to the last successful fsync and
every batch written after it is refused, whoever wrote it. Until the disk takes writes again,
each append tries that repair first; ingestion resumes by itself once it succeeds.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from rec_service.core.durable_log import (
    LogCorrupted,
    LoggedRating,
    NewRating,
    decode_record,
    encode_record,
)
from rec_service.core.errors import Unavailable

log = logging.getLogger(__name__)

SEGMENT_RE = re.compile(r"ratings-(\d{8})\.log")


class LogInUse(RuntimeError):
    """Another process (a running server) owns the log directory."""


def segment_name(number: int) -> str:
    return f"ratings-{number:08d}.log"


def _os_reason(exc: OSError) -> str:
    """A disk error as the writer is told it: "ENOSPC: No space left on device"."""
    return f"{errno.errorcode.get(exc.errno or 0, 'error')}: {exc.strerror or exc}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class RatingLog:
    """The log directory: append with durable group commit, rotate, read back, delete."""

    name = "file"
    # Only this process writes the file log: a damaged record there is a fault it refuses
    # (LogCorrupted), never one it skips, unlike a shared stream other publishers can reach.
    skipped_records = 0

    def __init__(
        self,
        directory: str | Path,
        sync: bool = True,
        on_writable: Callable[[bool], None] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self._sync = sync  # False only for benchmarks that measure the cost of fsync
        self.on_fsync: Callable[[float], None] | None = None  # seconds per fsync, for metrics
        # Told False at the first failure and True once an append is durable again (writers'
        # health follows it), not at every refused retry in between.
        self._on_writable = on_writable
        self._told_unwritable = False
        self._write_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._written = 0  # bytes written to the active segment
        self._synced = 0  # bytes of the active segment known to be on disk
        # Bumped when a failed fsync cut the segment back: batches written before are refused.
        self._epoch = 0
        self._failure = ""  # why the disk refuses writes now; "" while it takes them
        self.directory.mkdir(parents=True, exist_ok=True)
        # One owner at a time: two writers would interleave records and both compact.
        self._owner = open(self.directory / "LOCK", "a")  # noqa: SIM115 (held for our life)
        try:
            fcntl.flock(self._owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._owner.close()
            raise LogInUse(
                f"{self.directory} is in use by another movierec process (a running server "
                "retrains through the admin TriggerRetrain call)"
            ) from None
        try:
            segments = self.segments()
            self._active = segments[-1] if segments else 1
            for number in segments[:-1]:
                self._check(number, tail_may_tear=False)
            if segments:
                self._written = self._check(self._active, tail_may_tear=True)
            self._file = open(self._path(self._active), "ab")  # noqa: SIM115 (held open)
        except BaseException:
            self._owner.close()
            raise
        self._synced = self._written
        _fsync_dir(self.directory)

    def _path(self, number: int) -> Path:
        return self.directory / segment_name(number)

    def segments(self) -> list[int]:
        """Segment numbers on disk, oldest first."""
        found = (SEGMENT_RE.fullmatch(p.name) for p in self.directory.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def size_bytes(self) -> int:
        """Bytes in the segments on disk."""
        total = 0
        for number in self.segments():
            with contextlib.suppress(FileNotFoundError):  # deleted by a compaction meanwhile
                total += self._path(number).stat().st_size
        return total

    def _check(self, number: int, tail_may_tear: bool) -> int:
        """Verifies a segment; cuts a torn tail off the newest one. Returns its good length."""
        path = self._path(number)
        good = 0
        with open(path, "rb") as fh:
            data = fh.read()
        offset = 0
        while offset < len(data):
            end = data.find(b"\n", offset)
            line = data[offset : end + 1] if end >= 0 else data[offset:]
            if end < 0 or decode_record(line, (number, offset)) is None:
                rest_ok = self._rest_is_garbage(data, end + 1 if end >= 0 else len(data), number)
                if tail_may_tear and rest_ok:
                    with open(path, "r+b") as fh:
                        fh.truncate(good)
                        os.fsync(fh.fileno())
                    return good
                raise LogCorrupted(f"{path}: bad record at byte {offset}")
            offset = end + 1
            good = offset
        return good

    @staticmethod
    def _rest_is_garbage(data: bytes, start: int, number: int) -> bool:
        """True when no valid record follows a bad one: a torn tail, not corruption."""
        offset = start
        while offset < len(data):
            end = data.find(b"\n", offset)
            if end < 0:
                return True
            if decode_record(data[offset : end + 1], (number, offset)) is not None:
                return False
            offset = end + 1
        return True

    def append(self, ratings: Sequence[NewRating], accepted_us: int) -> list[LoggedRating]:
        """Writes the ratings and returns once they are on disk (fsync'd)."""
        if not ratings:
            return []
        with self._write_lock:
            if self._failure:
                self._repair()
            number, epoch = self._active, self._epoch
            offset = start = self._written
            logged = []
            chunks = []
            for r in ratings:
                event_us = accepted_us if r.event_us is None else r.event_us
                line = encode_record(accepted_us, event_us, r.user_id, r.movie_id, r.rating)
                chunks.append(line)
                logged.append(
                    LoggedRating(
                        r.user_id, r.movie_id, r.rating, event_us, accepted_us, (number, offset)
                    )
                )
                offset += len(line)
            try:
                self._file.write(b"".join(chunks))
                self._file.flush()
            except OSError as exc:
                self._failed("a write", exc, cut_to=start)
                raise self._refusal() from None
            self._written = offset
            target = offset
        self._sync_through(number, target, epoch)
        if self._told_unwritable:
            with self._write_lock:
                if self._told_unwritable and not self._failure:
                    self._told_unwritable = False
                    log.warning("rating log: %s takes writes again", self._path(self._active))
                    if self._on_writable is not None:
                        self._on_writable(True)
        return logged

    def _sync_through(self, number: int, target: int, epoch: int) -> None:
        """Group commit: one fsync makes every byte written before it durable."""
        with self._sync_lock:
            if epoch != self._epoch:
                raise self._refusal()  # a failed fsync since: those bytes were cut off
            if number != self._active or self._synced >= target:
                return  # rotated (rotation syncs) or another writer's fsync covered us
            with self._write_lock:
                if epoch != self._epoch:  # an append repaired the log meanwhile
                    raise self._refusal()
                covered = self._written
                fd = self._file.fileno()
            if self._sync:
                started = time.perf_counter()
                try:
                    os.fsync(fd)
                except OSError as exc:
                    with self._write_lock:
                        if epoch == self._epoch:
                            self._failed("an fsync", exc, cut_to=self._synced)
                    raise self._refusal() from None
                if self.on_fsync is not None:
                    self.on_fsync(time.perf_counter() - started)
            with self._write_lock:
                if epoch != self._epoch:  # cut back while this fsync ran: not durable
                    raise self._refusal()
                self._synced = covered

    def _failed(self, what: str, exc: OSError, cut_to: int) -> None:
        """After a failed write or fsync (write lock held): the active segment is cut back to
        `cut_to` and reopened; after an fsync, batches written since the last good one are
        refused (epoch). If even that fails, the log stays failed (appends repair first)."""
        self._failure = _os_reason(exc)
        if not self._told_unwritable:  # once per outage, not at every refused retry
            self._told_unwritable = True
            log.warning(
                "rating log: %s of %s failed (%s); nothing unsynced is acknowledged, and "
                "ingestion answers UNAVAILABLE until the disk takes writes again",
                what,
                self._path(self._active),
                self._failure,
            )
            if self._on_writable is not None:
                self._on_writable(False)
        if what == "an fsync":
            self._epoch += 1
        self._cut_back(cut_to)

    def _cut_back(self, offset: int) -> None:
        with contextlib.suppress(OSError):  # its buffer may fail to flush again: dropped
            self._file.close()
        try:
            path = self._path(self._active)
            with open(path, "r+b") as fh:
                fh.truncate(offset)
                os.fsync(fh.fileno())
            self._file = open(path, "ab")  # noqa: SIM115 (held open)
        except OSError as exc:
            self._failure = _os_reason(exc)
            return
        self._written = offset
        self._synced = min(self._synced, offset)

    def _repair(self) -> None:
        """While failed (write lock held): the segment cut back to its last good fsync; the
        failure stays (Unavailable) if the disk still refuses."""
        self._epoch += 1
        self._failure = ""
        self._cut_back(self._synced)
        if self._failure:
            raise self._refusal()

    def _refusal(self) -> Unavailable:
        return Unavailable(
            f"the rating log could not store the ratings ({self._failure or 'a disk error'}); "
            "none of them is acknowledged: retry later"
        )

    def rotate(self) -> tuple[int, int]:
        """Closes the active segment (synced) and starts the next. Returns the closed segment's
        number and the cut time: every record of later segments is appended after it."""
        with self._sync_lock, self._write_lock:
            cut_us = time.time_ns() // 1000
            closed = self._active
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._active = closed + 1
            self._file = open(self._path(self._active), "ab")  # noqa: SIM115 (held open)
            self._written = self._synced = 0
            _fsync_dir(self.directory)
            return closed, cut_us

    def advance_past(self, number: int) -> None:
        """Makes the active segment come after `number` (the segments a model's training data
        already holds), so new ratings never land in a segment the model claims to include.
        Only an empty active segment can be skipped; anything else is an inconsistent state."""
        with self._sync_lock, self._write_lock:
            if self._active > number:
                return
            if self._written:
                raise LogCorrupted(
                    f"{self._path(self._active)} holds ratings, but the model's training data "
                    f"claims every segment through {number}"
                )
            self._file.close()
            self._path(self._active).unlink()
            self._active = number + 1
            self._file = open(self._path(self._active), "ab")  # noqa: SIM115 (held open)
            _fsync_dir(self.directory)

    def end_position(self) -> tuple[int, int]:
        """Where the next record will go; every record before it is written."""
        with self._write_lock:
            return (self._active, self._written)

    def read(
        self,
        after_segment: int = 0,
        start: tuple[int, int] = (0, 0),
        end: tuple[int, int] | None = None,
    ) -> Iterator[LoggedRating]:
        """Records of segments after `after_segment`, from position `start` up to `end`."""
        for number in self.segments():
            if number <= after_segment or number < start[0]:
                continue
            if end is not None and number > end[0]:
                return
            with open(self._path(number), "rb") as fh:
                offset = start[1] if number == start[0] else 0
                fh.seek(offset)
                limit = end[1] if end is not None and number == end[0] else None
                for line in fh:
                    if limit is not None and offset >= limit:
                        break
                    record = decode_record(line, (number, offset)) if line.endswith(b"\n") else None
                    if record is None:
                        break  # the active segment's unsynced tail, being written right now
                    yield record
                    offset += len(line)

    def delete_through(self, number: int) -> list[int]:
        """Deletes closed segments up to `number` (their data is persisted elsewhere)."""
        deleted = [n for n in self.segments() if n <= number and n != self._active]
        for n in deleted:
            self._path(n).unlink()
        if deleted:
            _fsync_dir(self.directory)
        return deleted

    def close(self) -> None:
        with self._sync_lock, self._write_lock:
            if not self._file.closed:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
            if not self._owner.closed:
                self._owner.close()  # releases the flock
