"""Live rating ingestion: validate each event, log it durably, then fold it in.

An event is accepted only once its batch is in the rating log and fsync'd; only then is it
applied to the live model and its user's last activity moved, so a read that reflects a rating
never precedes its durability. A bad event is rejected on its own, with its position in the
stream and the reason; the events around it go on.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

from movierec.v1 import movierec_pb2 as pb

from rec_service.core.durable_log import DurableLog, LoggedRating, NewRating
from rec_service.core.offload import Offload
from rec_service.core.recommender import Recommender, now_us
from rec_service.core.serving_model import ServingModel
from rec_service.core.validation import id_problem


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why the event at `index` of a stream was not accepted."""

    index: int
    field: str
    reason: str


# A rating this close to a step (in steps) is taken as that step: float clients send 4.9999999.
STEP_TOLERANCE = 1e-6


def on_step(rating: float, low: float, step: float) -> float:
    """The rating rounded to the nearest step of the scale, without float residue."""
    return round(low + round((rating - low) / step) * step, 9)


def check_event(
    event: pb.RatingEvent, model: ServingModel, now: int, max_future_us: int
) -> tuple[NewRating | None, list[tuple[str, str]]]:
    """The event as a NewRating, or its problems as (field, reason) pairs."""
    problems: list[tuple[str, str]] = []
    user_problem = id_problem(event.user_id)
    if user_problem:
        problems.append(("user_id", user_problem))
    movie_problem = id_problem(event.movie_id)
    if movie_problem is None and event.movie_id not in model.movies:
        movie_problem = f"unknown movie id {event.movie_id!r}"
    if movie_problem:
        problems.append(("movie_id", movie_problem))
    scale = model.scale
    rating = event.rating
    if not event.HasField("rating"):
        problems.append(("rating", "missing"))
    elif not math.isfinite(event.rating):
        problems.append(("rating", "not a finite number"))
    elif not scale.low <= event.rating <= scale.high:
        problems.append(
            ("rating", f"{event.rating:g} is outside the scale {scale.low:g}-{scale.high:g}")
        )
    elif scale.step > 0:  # a stepped scale; step 0 takes any value in range
        steps = (event.rating - scale.low) / scale.step
        if abs(steps - round(steps)) > STEP_TOLERANCE:
            problems.append(
                ("rating", f"{event.rating:g} is not on the scale's {scale.step:g} step")
            )
        else:
            rating = on_step(event.rating, scale.low, scale.step)
    event_us: int | None = None
    if event.HasField("event_time"):
        event_us = event.event_time.seconds * 1_000_000 + event.event_time.nanos // 1000
        if event_us < 0:
            problems.append(("event_time", "is before 1970"))
        elif event_us > now + max_future_us:
            ahead = (event_us - now) / 1e6
            problems.append(
                (
                    "event_time",
                    f"is {ahead:.0f} s in the future (at most {max_future_us / 1e6:.0f} s allowed)",
                )
            )
    if problems:
        return None, problems
    return NewRating(event.user_id, event.movie_id, rating, event_us), []


class IngestMetrics(Protocol):
    """Where the ingestor counts what it saw (the service's telemetry)."""

    def events_checked(self, accepted: int, rejected: int) -> None: ...

    def batch_committed(self, size: int) -> None: ...


class Ingestor:
    """Validates batches of events and commits the good ones: log + fsync, then fold-in."""

    def __init__(
        self,
        log: DurableLog,
        recommender: Recommender,
        max_future_s: float,
        metrics: IngestMetrics | None = None,
        *,
        visible: Callable[[list[LoggedRating]], int],
    ) -> None:
        self.log = log
        self.recommender = recommender
        self.max_future_us = int(max_future_s * 1_000_000)
        self._metrics = metrics
        # Makes durable ratings visible to reads and returns their read-your-writes token: one
        # process (the file log) applies them at once, token 0; replicas on a shared log wait
        # for their follower to apply them in log order (app/rating_logs/follower.py).
        self._visible = visible

    def check(
        self, events: Iterable[pb.RatingEvent], first_index: int
    ) -> tuple[list[NewRating], list[Rejection]]:
        """Splits events into accepted ratings and rejections (indices count from first_index)."""
        model = self.recommender.model
        now = now_us()
        good: list[NewRating] = []
        rejected: list[Rejection] = []
        for offset, event in enumerate(events):
            rating, problems = check_event(event, model, now, self.max_future_us)
            if rating is not None:
                good.append(rating)
            else:
                reason = "; ".join(f"{field}: {why}" for field, why in problems)
                rejected.append(Rejection(first_index + offset, problems[0][0], reason))
        if self._metrics is not None:
            self._metrics.events_checked(len(good), len(rejected))
        return good, rejected

    def commit(self, ratings: list[NewRating]) -> int:
        """Makes the ratings durable, then visible to reads. Returns once both are done, with
        the log position a read may ask for to see them (0: none needed)."""
        if not ratings:
            return 0
        logged = self.log.append(ratings, accepted_us=now_us())
        token = self._visible(logged)
        if self._metrics is not None:
            self._metrics.batch_committed(len(ratings))
        return token


# Rejections listed per answer; the counts still cover every event. A producer sending
# millions of bad events must not grow the server's memory without bound.
MAX_LISTED_REJECTIONS = 10_000


@dataclass
class StreamOutcome:
    """What a finished (or acknowledged) part of an ingestion stream came to."""

    received: int = 0
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    log_position: int = 0  # what a read asks for to see every accepted rating (0: nothing)

    def note_rejections(self, rejections: list[Rejection]) -> None:
        room = MAX_LISTED_REJECTIONS - len(self.rejected)
        if room > 0:
            self.rejected.extend(rejections[:room])


@dataclass(frozen=True)
class _Batch:
    """What committing a group of stream messages came to."""

    received: int
    accepted: int
    rejected: list[Rejection]
    log_position: int


def _commit_messages(
    ingestor: Ingestor, messages: list[Sequence[pb.RatingEvent]], first_index: int
) -> _Batch:
    """Checks the messages' events (rejections indexed from first_index) and commits the good
    ones as one durable batch. Runs off the event loop: validation, the log's fsync or publish
    and the fold-in all take time."""
    good: list[NewRating] = []
    rejected: list[Rejection] = []
    received = 0
    for events in messages:
        accepted, bad = ingestor.check(events, first_index + received)
        received += len(events)
        good.extend(accepted)
        rejected.extend(bad[: max(0, MAX_LISTED_REJECTIONS - len(rejected))])
    return _Batch(received, len(good), rejected, ingestor.commit(good))


async def ingest_all(
    ingestor: Ingestor,
    messages: AsyncIterable[Sequence[pb.RatingEvent]],
    batch_size: int,
    offload: Offload,
) -> StreamOutcome:
    """IngestRatings: commits every `batch_size` events received and at the end; returns the
    total.

    Messages are read only as fast as batches commit, so a producer faster than the disk is
    slowed by gRPC flow control rather than buffered here. If the stream breaks, what was
    received is still committed (nothing was acknowledged yet; a retry re-sends the same
    ratings, which replace themselves) and the error propagates.
    """
    outcome = StreamOutcome()
    group: list[Sequence[pb.RatingEvent]] = []
    waiting = 0  # events in `group`

    async def commit() -> None:
        nonlocal group, waiting
        taken, group, waiting = group, [], 0  # a failed commit must not be retried
        batch = await offload(partial(_commit_messages, ingestor, taken, outcome.received))
        outcome.received += batch.received
        outcome.accepted += batch.accepted
        outcome.note_rejections(batch.rejected)
        outcome.log_position = max(outcome.log_position, batch.log_position)

    try:
        async for events in messages:
            group.append(events)
            waiting += len(events)
            if waiting >= batch_size:
                await commit()
    finally:
        if group:
            await commit()
    return outcome


_END = object()


async def ingest_with_acks(
    ingestor: Ingestor,
    messages: AsyncIterable[Sequence[pb.RatingEvent]],
    batch_size: int,
    offload: Offload,
) -> AsyncIterator[tuple[int, int, list[Rejection], int]]:
    """StreamRatings: yields (handled_through, accepted so far, new rejections, log position)
    after each durable batch. A reader task pulls messages into a small bounded queue, so a
    batch is committed as soon as the producer pauses (or the batch is full) and a fast
    producer is held back by the full queue (then by gRPC flow control), not buffered without
    bound."""
    inbox: asyncio.Queue[object] = asyncio.Queue(maxsize=8)

    async def read() -> None:
        try:
            async for events in messages:
                await inbox.put(events)
        except Exception as exc:  # the stream broke: hand it to the committing side
            await inbox.put(exc)
            return
        await inbox.put(_END)

    reader = asyncio.ensure_future(read())
    try:
        received = accepted = position = 0
        done = False
        while not done:
            item = await inbox.get()
            group: list[Sequence[pb.RatingEvent]] = []
            waiting = 0
            failure: Exception | None = None
            while True:
                if item is _END:
                    done = True
                    break
                if isinstance(item, Exception):
                    failure, done = item, True
                    break
                group.append(item)  # type: ignore[arg-type]  # a batch of RatingEvents
                waiting += len(item)  # type: ignore[arg-type]
                if waiting >= batch_size:
                    break
                try:
                    item = inbox.get_nowait()
                except asyncio.QueueEmpty:
                    break
            batch = await offload(partial(_commit_messages, ingestor, group, received))
            received += batch.received
            accepted += batch.accepted
            position = max(position, batch.log_position)
            if failure is not None:
                raise failure
            if batch.accepted or batch.rejected or not done:
                yield received, accepted, batch.rejected, position
    finally:
        reader.cancel()
