"""The JetStream rating log against a nats-server this test starts: what is appended is read
back in order with (sequence, index) positions, a cut and reads after it behave as the file
log's segments, a batch larger than one message's room is split, and a record that fails its
checksum is refused."""

from __future__ import annotations

import pytest

from rec_service.app.jetstream_log import JetStreamLog, _chunks, _records
from rec_service.core.rating_log import LogCorrupted, NewRating, encode_record


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
    records = [r for i, c in enumerate(chunks) for r in _records(i + 1, b"".join(c))]
    assert [r.user_id for r in records] == [f"u{i}" for i in range(100)]


def test_a_damaged_record_is_refused() -> None:
    good = encode_record(1, 1, "u1", "1", 4.0)
    with pytest.raises(LogCorrupted, match="message 7, record 1"):
        _records(7, good + good.replace(b"u1", b"u2", 1))
