"""The rating log on NATS JetStream, shared by every serving replica (`log_backend =
"jetstream"`): the same operations as the embedded file log (file_log.py), so ingestion,
start-up replay and retrain work unchanged on top of it.

- A committed batch is one message, published with JetStream's acknowledgement: JetStream has
  stored it (on `log_replicas` servers) before the batch is acknowledged to the producer. A
  record's position is (stream sequence, index in its batch).
- The file log's "segments" are stream sequences: a retrain's cut is the last sequence then
  (`rotate`), and the manifest's `segments_through` is that sequence.
- Nothing is deleted by a retrain: other replicas may still need messages this one merged, and
  a restarted replica reads from its own model's cut. How long messages stay is the stream's
  own retention (set max_age on the stream; see docs/scaling.md).

nats-py is asyncio; the service is threads. One event loop runs in a daemon thread and every
operation is a coroutine run on it, waited for with a timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import ssl
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

import nats
from nats.aio.client import Client as NatsClient
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from rec_service.core.durable_log import (
    LogCorrupted,
    LoggedRating,
    NewRating,
    decode_record,
    encode_record,
)
from rec_service.core.errors import Unavailable
from rec_service.domain.model_types import RatingScale

log = logging.getLogger(__name__)

T = TypeVar("T")
# Seconds any one JetStream operation may take before the call fails (a publish then is not
# acknowledged to the producer, who retries; ratings replace themselves).
OPERATION_TIMEOUT_S = 10.0
# Messages handed over per read call: bounds what a catch-up holds in memory at once.
READ_CHUNK = 256
# Words of an error by which NATS refuses this client rather than failing to answer.
REFUSALS = ("authorization", "authentication", "certificate", "permissions")
# How often a start that waits for NATS looks whether NATS refused this client meanwhile.
REFUSAL_CHECK_S = 0.2
# Seconds one attempt to reach NATS may take, and between attempts (nats-py's own retries).
CONNECT_RETRY_S = 2


class LogUnreachable(RuntimeError):
    """NATS could not be reached at start-up within log_connect_timeout_s; names the URL."""


class NatsAccessError(ValueError):
    """The NATS TLS or credential settings cannot work; the message names the setting."""


@dataclass(frozen=True)
class NatsAccess:
    """How this process proves itself to NATS, so only the service writes its rating log:
    TLS (a CA to check the server, and a client certificate for NATS's mutual TLS) and one
    kind of credential (a .creds file, a user and password, or a token). Secrets arrive here
    already read from files or the environment (app/wiring.py), never from a flag."""

    tls_ca_file: str = ""
    tls_cert_file: str = ""
    tls_key_file: str = ""
    creds_file: str = ""
    user: str = ""
    password: str = field(default="", repr=False)
    token: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise NatsAccessError("log_nats_tls_cert_file and log_nats_tls_key_file go together")
        kinds = [bool(self.creds_file), bool(self.user or self.password), bool(self.token)]
        if sum(kinds) > 1:
            raise NatsAccessError("NATS takes one credential: a .creds file, a user, or a token")
        if bool(self.user) != bool(self.password):
            raise NatsAccessError("a NATS user needs its password, and a password its user")

    def check(self) -> None:
        """Reads every file the access names now, so that one that cannot be used is named
        at start-up (NatsAccessError) rather than deep inside the first connection."""
        if self.tls:
            self.tls_context()
        if self.creds_file:
            try:
                with open(self.creds_file, "rb"):
                    pass
            except OSError as exc:
                raise NatsAccessError(
                    f"log_nats_creds_file {self.creds_file!r} cannot be read: {exc.strerror}"
                ) from None

    def tls_context(self) -> ssl.SSLContext:
        try:
            context = ssl.create_default_context(cafile=self.tls_ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise NatsAccessError(
                f"log_nats_tls_ca_file {self.tls_ca_file!r} cannot be used: {_reason(exc)}"
            ) from None
        if self.tls_cert_file:
            try:
                context.load_cert_chain(self.tls_cert_file, self.tls_key_file)
            except (OSError, ssl.SSLError) as exc:
                raise NatsAccessError(
                    f"log_nats_tls_cert_file {self.tls_cert_file!r} with log_nats_tls_key_file "
                    f"{self.tls_key_file!r} cannot be used: {_reason(exc)}"
                ) from None
        return context

    @property
    def tls(self) -> bool:
        return bool(self.tls_ca_file or self.tls_cert_file)

    def connect_options(self) -> dict[str, Any]:
        """nats.connect's keyword arguments for this access."""
        options: dict[str, Any] = {}
        if self.tls:
            options["tls"] = self.tls_context()
        if self.creds_file:
            options["user_credentials"] = self.creds_file
        if self.user:
            options.update(user=self.user, password=self.password)
        if self.token:
            options["token"] = self.token
        return options


def _reason(exc: OSError | ssl.SSLError) -> str:
    """An ssl or file error in a few words (ssl's own text carries its source line)."""
    if isinstance(exc, ssl.SSLError):  # no reason: a file that is not PEM at all
        return exc.reason or "not a PEM certificate and key"
    return exc.strerror or str(exc)


class JetStreamLog:
    """A JetStream stream as the rating log: append (durable on ack), cut, read back, follow."""

    def __init__(
        self,
        url: str,
        stream: str,
        replicas: int = 1,
        connect_timeout_s: float = 60.0,
        on_connection: Callable[[bool], None] | None = None,
        access: NatsAccess | None = None,
    ) -> None:
        self.url = url
        self._access = access or NatsAccess()
        self.stream = stream
        self.name = f"jetstream:{stream}"
        self.subject = f"movierec.ratings.{stream}"
        self.on_fsync: Callable[[float], None] | None = None  # seconds per acknowledged publish
        self.skipped_records = 0  # lines of the stream that were not valid ratings
        # Ratings outside it are not valid ratings either (another publisher's): set once the
        # model's scale is known; ingestion never logs one.
        self.rating_scale: RatingScale | None = None
        self._skipped_messages: set[int] = set()  # counted once, however often read
        self._skipped_lock = threading.Lock()
        # Whether NATS is reachable now: its changes are logged once each, with the URL (not
        # nats-py's traceback per reconnect attempt) and told to on_connection (health).
        self.connected = False
        self._on_connection = on_connection
        self._last_error = ""  # the last error said, so a repeated one is not said again
        self._seen_error = ""  # the last error nats-py reported, said or not
        # A refusal by NATS itself (credentials, certificates): what a failed start names,
        # whatever transport error a later retry met (a server closes a refused connection).
        self._refused = ""
        self._closing = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="movierec-nats", daemon=True
        )
        self._thread.start()
        try:
            self._nc = self._connect(connect_timeout_s)
            self._js = self._nc.jetstream()
            self.call(self._ensure_stream(replicas))
        except BaseException:
            self._loop.call_soon_threadsafe(self._loop.stop)
            raise
        log.info("rating log: JetStream stream %s at %s", stream, url)

    def _connect(self, timeout_s: float) -> NatsClient:
        """The NATS connection. nats-py retries on its own (every CONNECT_RETRY_S, each
        failure heard by _error, said once per reason); a replica started while NATS is down
        so waits for it up to `timeout_s`, then gets LogUnreachable naming the URL."""
        attempt = asyncio.run_coroutine_threadsafe(
            nats.connect(
                servers=self.url.split(","),
                connect_timeout=CONNECT_RETRY_S,
                reconnect_time_wait=CONNECT_RETRY_S,
                max_reconnect_attempts=-1,  # at start until timeout_s; once connected, ever
                disconnected_cb=self._disconnected,
                reconnected_cb=self._reconnected,
                error_cb=self._error,
                closed_cb=self._disconnected,
                **self._access.connect_options(),
            ),
            self._loop,
        )
        started = time.monotonic()
        # Until connected, refused by NATS (retrying cannot help), or out of time.
        while not attempt.done():
            if self._refused or time.monotonic() - started >= timeout_s:
                self._unreachable(attempt, "timed out", time.monotonic() - started)
            concurrent.futures.wait([attempt], timeout=REFUSAL_CHECK_S)
        try:
            connection = attempt.result()
        except Exception as exc:  # whatever stopped it, the URL is named
            self._unreachable(attempt, _describe(exc), time.monotonic() - started)
        self.connected = True
        if self._on_connection is not None:
            self._on_connection(True)
        return connection

    def _unreachable(
        self, attempt: concurrent.futures.Future[NatsClient], fallback: str, waited: float
    ) -> NoReturn:
        attempt.cancel()
        # NATS's refusal, else nats-py's last error: either tells more than a timeout
        reason = self._refused or self._seen_error or fallback
        how = "refused" if self._refused else "tried for"
        raise LogUnreachable(
            f"cannot reach NATS at {self.url} (log_nats_url): {reason}; {how} "
            f"{waited:.0f} s (log_connect_timeout_s)"
        ) from None

    async def _disconnected(self) -> None:
        self._connection_changed(False, "disconnected: ratings cannot be stored until it is back")

    async def _reconnected(self) -> None:
        self._connection_changed(True, "reconnected")

    async def _error(self, exc: Exception) -> None:
        """nats-py's errors (each failed reconnect attempt among them): said once while they
        repeat, without a traceback."""
        reason = self._seen_error = _describe(exc)
        if any(word in reason.lower() for word in REFUSALS):
            self._refused = reason
        if self.connected or self._closing:
            return  # a stray error on a working link; or at start-up, _connect says it
        if reason != self._last_error:
            self._last_error = reason
            log.warning("rating log: NATS at %s: %s", self.url, reason)

    def _connection_changed(self, connected: bool, what: str) -> None:
        if connected == self.connected or self._closing:
            return
        self.connected = connected
        self._last_error = ""
        log.warning("rating log: NATS at %s %s", self.url, what)
        if self._on_connection is not None:
            self._on_connection(connected)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = OPERATION_TIMEOUT_S) -> T:
        """Runs a nats-py coroutine on this log's event loop and waits for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def jetstream(self) -> JetStreamContext:
        return self._js

    async def _ensure_stream(self, replicas: int) -> None:
        try:
            await self._js.stream_info(self.stream)
        except NotFoundError:
            await self._js.add_stream(
                StreamConfig(
                    name=self.stream,
                    subjects=[self.subject],
                    storage=StorageType.FILE,
                    num_replicas=replicas,
                )
            )

    # --- the file log's operations ---

    def append(self, ratings: Sequence[NewRating], accepted_us: int) -> list[LoggedRating]:
        """Publishes the ratings, as few messages as fit NATS's payload limit; returns once
        JetStream acknowledged every one. If a later message fails, the earlier ones are
        stored but nothing is acknowledged: a retry re-sends them, and they replace
        themselves."""
        if not self.connected:  # nothing could be stored: say so now rather than after a timeout
            raise Unavailable(
                f"the rating log (JetStream) cannot store ratings: NATS at {self.url} is "
                "unreachable; retry later"
            )
        logged: list[LoggedRating] = []
        for chunk in _chunks(ratings, accepted_us, self._max_message_bytes()):
            published = ratings[len(logged) : len(logged) + len(chunk)]
            started = time.perf_counter()
            try:
                ack = self.call(self._js.publish(self.subject, b"".join(chunk), stream=self.stream))
            except (TimeoutError, nats.errors.Error) as exc:  # not stored: nothing acknowledged
                raise Unavailable(
                    f"the rating log (JetStream) did not store the ratings: {exc!r}"
                ) from exc
            if self.on_fsync is not None:
                self.on_fsync(time.perf_counter() - started)
            logged += [
                LoggedRating(
                    r.user_id,
                    r.movie_id,
                    r.rating,
                    accepted_us if r.event_us is None else r.event_us,
                    accepted_us,
                    (ack.seq, i),
                )
                for i, r in enumerate(published)
            ]
        return logged

    def _max_message_bytes(self) -> int:
        """Half the server's max_payload (1 MiB by default): room for headers and framing."""
        return max(4096, int(self._nc.max_payload) // 2)

    def last_sequence(self) -> int:
        info = self.call(self._js.stream_info(self.stream))
        return int(info.state.last_seq)

    def rotate(self) -> tuple[int, int]:
        """A retrain's cut: the last sequence stored now, and the time (taken first, so every
        message after the cut was published after it)."""
        cut_us = time.time_ns() // 1000
        return self.last_sequence(), cut_us

    def advance_past(self, number: int) -> None:
        """Nothing to do: a sequence after the cut is never reused."""

    def delete_through(self, number: int) -> list[int]:
        """Nothing is deleted: other replicas may still need these messages (retention is the
        stream's max_age)."""
        return []

    def end_position(self) -> tuple[int, int]:
        """Where the next message will go; every message before it is stored."""
        return (self.last_sequence() + 1, 0)

    def size_bytes(self) -> int:
        info = self.call(self._js.stream_info(self.stream))
        return int(info.state.bytes)

    def read(
        self,
        after_segment: int = 0,
        start: tuple[int, int] = (0, 0),
        end: tuple[int, int] | None = None,
    ) -> Iterator[LoggedRating]:
        """Records of messages after sequence `after_segment`, from `start` up to (not
        including) `end`; either may fall inside a message."""
        first = max(after_segment + 1, start[0], 1)
        # the last message read: an end inside message end[0] takes its records before end
        last = end[0] - (end[1] == 0) if end is not None else self.last_sequence()
        if first > last:
            return
        reader = self.follow_from(first)
        try:
            while True:
                batch = reader.take(READ_CHUNK, wait=OPERATION_TIMEOUT_S)
                if not batch:
                    raise LogCorrupted(
                        f"stream {self.stream}: sequences {first}-{last} are not all readable "
                        "(removed by the stream's retention?)"
                    )
                for seq, records in batch:
                    if seq > last:
                        return
                    yield from (
                        r
                        for r in records
                        if (seq > start[0] or r.position >= start)
                        and (end is None or r.position < end)
                    )
                    if seq == last:
                        return
        finally:
            reader.close()

    def follow_from(self, sequence: int) -> Reader:
        """A reader of every message from `sequence` on, in stream order."""
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=sequence
        )
        sub = self.call(self._js.subscribe(self.subject, ordered_consumer=True, config=config))
        return Reader(self, sub)

    def valid_records(self, seq: int, data: bytes) -> list[LoggedRating]:
        """Message `seq`'s valid records. Anyone with the stream's credentials can publish to
        it: a line that is not a valid rating is skipped, never applied, said at WARNING and
        counted once per message (skipped_records), and never stops a reader."""
        records, bad = _records(seq, data)
        scale = self.rating_scale
        if scale is not None:
            in_scale = [r for r in records if scale.low <= r.rating <= scale.high]
            bad, records = bad + len(records) - len(in_scale), in_scale
        if bad:
            with self._skipped_lock:
                first_time = seq not in self._skipped_messages
                if first_time:
                    self._skipped_messages.add(seq)
                    self.skipped_records += bad
            if first_time:
                log.warning(
                    "rating log: stream %s message %d: %d of %d lines are not valid ratings "
                    "(another publisher, or a damaged write); skipped, never applied",
                    self.stream,
                    seq,
                    bad,
                    bad + len(records),
                )
        return records

    def close(self) -> None:
        if not self._thread.is_alive():  # closed already: its loop would never run the drain
            return
        self._closing = True
        try:
            self.call(self._nc.drain(), timeout=5)
        except Exception:  # closing anyway
            log.warning("rating log: NATS connection did not drain", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)


class Reader:
    """An ordered consumer of the stream, read in batches from a thread."""

    def __init__(self, owner: JetStreamLog, sub: Any) -> None:
        self._owner, self._sub = owner, sub

    def take(self, limit: int, wait: float) -> list[tuple[int, list[LoggedRating]]]:
        """Up to `limit` messages as (sequence, records): waits up to `wait` seconds for the
        first, then takes only what has arrived."""
        messages = self._owner.call(self._take(limit, wait), timeout=wait + OPERATION_TIMEOUT_S)
        return [(seq, self._owner.valid_records(seq, data)) for seq, data in messages]

    async def _take(self, limit: int, wait: float) -> list[tuple[int, bytes]]:
        out: list[tuple[int, bytes]] = []
        timeout = wait
        while len(out) < limit:
            try:
                msg = await self._sub.next_msg(timeout=timeout)
            except NatsTimeout:
                break
            out.append((int(msg.metadata.sequence.stream), msg.data))
            timeout = 0.001  # only what is already here
        return out

    def close(self) -> None:
        try:
            self._owner.call(self._sub.unsubscribe(), timeout=5)
        except Exception:
            log.warning("rating log: a JetStream reader did not unsubscribe", exc_info=True)


def _describe(exc: BaseException) -> str:
    """An exception in one line: its type, and its message where it has one."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _chunks(
    ratings: Sequence[NewRating], accepted_us: int, max_bytes: int
) -> Iterator[list[bytes]]:
    """The ratings' encoded records, grouped into messages of at most max_bytes."""
    chunk: list[bytes] = []
    size = 0
    for r in ratings:
        event_us = accepted_us if r.event_us is None else r.event_us
        line = encode_record(accepted_us, event_us, r.user_id, r.movie_id, r.rating)
        if chunk and size + len(line) > max_bytes:
            yield chunk
            chunk, size = [], 0
        chunk.append(line)
        size += len(line)
    if chunk:
        yield chunk


def _records(seq: int, data: bytes) -> tuple[list[LoggedRating], int]:
    """A message's valid records, and how many of its lines are not a valid record."""
    records, bad = [], 0
    for i, line in enumerate(data.splitlines(keepends=True)):
        record = decode_record(line, (seq, i))
        if record is None:
            bad += 1
        else:
            records.append(record)
    return records, bad
