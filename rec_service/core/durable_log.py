"""The durable log port: what ingestion, replay and retrain need of a rating log, and the one
record format every adapter writes (rec_service/app/rating_logs/: the fsync'd file log, the
JetStream stream replicas share).

A record is one text line

    accepted_us <TAB> event_us <TAB> user_id <TAB> movie_id <TAB> rating <TAB> crc32

Ids never contain tabs or newlines (validation allows only [A-Za-z0-9_.:@-]), and the CRC
covers the rest of the line, so a torn or foreign record is recognised, never misread.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from rec_service.core.validation import id_problem


class LogCorrupted(RuntimeError):
    """A record in the middle of the log fails its checksum: the log needs an operator."""


@dataclass(frozen=True, slots=True)
class LoggedRating:
    """One accepted rating as logged. position orders records: (segment, byte offset)."""

    user_id: str
    movie_id: str
    rating: float
    event_us: int
    accepted_us: int
    position: tuple[int, int]


@dataclass(frozen=True, slots=True)
class NewRating:
    """A validated rating waiting to be logged."""

    user_id: str
    movie_id: str
    rating: float
    event_us: int | None  # None: the acceptance time


class DurableLog(Protocol):
    """What ingestion, replay and retrain need of a rating log: the file log, or the JetStream
    stream replicas share (rec_service/app/rating_logs/). Positions are (segment, offset)
    here and (stream sequence, index in the message) there; both order records."""

    name: str  # what TrainingData.log calls it: positions of one log mean nothing in another
    on_fsync: Callable[[float], None] | None
    skipped_records: int  # lines read that were not valid ratings, skipped (never applied)

    def append(self, ratings: Sequence[NewRating], accepted_us: int) -> list[LoggedRating]: ...

    def rotate(self) -> tuple[int, int]: ...

    def advance_past(self, number: int) -> None: ...

    def delete_through(self, number: int) -> list[int]: ...

    def end_position(self) -> tuple[int, int]: ...

    def size_bytes(self) -> int: ...

    def read(
        self,
        after_segment: int = 0,
        start: tuple[int, int] = (0, 0),
        end: tuple[int, int] | None = None,
    ) -> Iterator[LoggedRating]: ...

    def close(self) -> None: ...


def encode_record(accepted_us: int, event_us: int, user: str, movie: str, rating: float) -> bytes:
    body = f"{accepted_us}\t{event_us}\t{user}\t{movie}\t{rating!r}"
    return f"{body}\t{zlib.crc32(body.encode()):08x}\n".encode()


def decode_record(line: bytes, position: tuple[int, int]) -> LoggedRating | None:
    """The record of a complete line, or None when its checksum, shape or values are wrong
    (a log another publisher can write must not crash or mislead its readers)."""
    text = line.decode("ascii", errors="replace").rstrip("\n")
    body, _, crc = text.rpartition("\t")
    if not crc or f"{zlib.crc32(body.encode()):08x}" != crc:
        return None
    parts = body.split("\t")
    if len(parts) != 5:
        return None
    accepted, event, user, movie, rating = parts
    if id_problem(user) is not None or id_problem(movie) is not None:
        return None
    try:
        value, event_us, accepted_us = float(rating), int(event), int(accepted)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return LoggedRating(user, movie, value, event_us, accepted_us, position)
