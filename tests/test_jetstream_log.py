"""The JetStream rating log against a nats-server this test starts: what is appended is read
back in order with (sequence, index) positions, a cut and reads after it behave as the file
log's segments, a batch larger than one message's room is split, and a record that fails its
checksum is refused."""

from __future__ import annotations

import zlib

import pytest

from rec_service.app.jetstream_log import JetStreamLog, _chunks, _records
from rec_service.core.rating_log import NewRating, encode_record


def _ratings(n: int, user: str = "u") -> list[NewRating]:
    return [NewRating(f"{user}{i}", str(i % 7 + 1), 0.5 + (i % 10) / 2, None) for i in range(n)]


def test_append_read_back_and_cut(nats_url: str) -> None:
    log = JetStreamLog(nats_url, "LOG_TEST")
    try:
        assert log.end_position() == (1, 0) and list(log.read()) == []
        first = log.append(_ratings(3), accepted_us=1_000)
        assert [r.position for r in first] == [(1, 0), (1, 1), (1, 2)]
        closed, _cut_us = log.rotate()
        assert closed == 1
        second = log.append(_ratings(2, "v"), accepted_us=2_000)
        assert [r.position for r in second] == [(2, 0), (2, 1)]
        assert list(log.read()) == first + second
        assert list(log.read(after_segment=closed)) == second  # what a retrain's cut leaves
        assert list(log.read(start=(1, 2), end=(2, 0))) == first[2:]
        assert log.end_position() == (3, 0) and log.size_bytes() > 0
    finally:
        log.close()
    again = JetStreamLog(nats_url, "LOG_TEST")  # the stream outlives a connection
    try:
        assert [r.user_id for r in again.read()] == ["u0", "u1", "u2", "v0", "v1"]
    finally:
        again.close()


def test_a_large_batch_is_split_into_messages(
    nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(JetStreamLog, "_max_message_bytes", lambda self: 4096)
    log = JetStreamLog(nats_url, "SPLIT_TEST")
    try:
        logged = log.append(_ratings(500), accepted_us=1_000)
        sequences = sorted({r.position[0] for r in logged})
        assert len(sequences) > 1 and len(logged) == 500
        assert list(log.read()) == logged
    finally:
        log.close()


def test_chunks_respect_the_size_and_keep_the_order() -> None:
    chunks = list(_chunks(_ratings(100), 1_000, max_bytes=300))
    assert all(sum(map(len, c)) <= 300 or len(c) == 1 for c in chunks)
    records = [r for i, c in enumerate(chunks) for r in _records(i + 1, b"".join(c))[0]]
    assert [r.user_id for r in records] == [f"u{i}" for i in range(100)]


def test_lines_that_are_not_valid_ratings_are_skipped_not_applied() -> None:
    good = encode_record(1, 1, "u1", "1", 4.0)
    damaged = good.replace(b"u1", b"u2", 1)  # the checksum no longer matches
    forged_id = encode_record(1, 1, "u 1; drop", "1", 4.0)  # a valid checksum, a bad id
    forged_value = encode_record(1, 1, "u3", "1", 4.0).replace(b"\t4.0\t", b"\tnan\t")
    not_a_number = (
        b"1\t1\tu4\t1\tfour\t" + f"{zlib.crc32(b'1	1	u4	1	four'):08x}".encode()
    )
    records, bad = _records(7, good + damaged + forged_id + forged_value + not_a_number + b"\n")
    assert [(r.user_id, r.position) for r in records] == [("u1", (7, 0))]
    assert bad == 4


def test_a_publisher_of_garbage_never_stops_a_reader(nats_url: str) -> None:
    """Another client publishes lines that are not ratings into the stream: the reader skips
    them, counts them once however often it reads them, and goes on to the valid ones."""
    import asyncio

    import nats

    log = JetStreamLog(nats_url, "GARBAGE_TEST")
    try:
        first = log.append(_ratings(2), accepted_us=1_000)

        async def publish() -> None:
            client = await nats.connect(nats_url)
            try:
                await client.jetstream().publish(log.subject, b"not a rating\n\x00\xff\n")
            finally:
                await client.close()

        asyncio.run(publish())
        after = log.append(_ratings(1, "w"), accepted_us=2_000)
        assert list(log.read()) == first + after
        assert list(log.read()) == first + after  # read again: counted once
        assert log.skipped_records == 2
    finally:
        log.close()
