"""The JetStream rating log against a nats-server this test starts: what is appended is read
back in order with (sequence, index) positions, a cut and reads after it behave as the file
log's segments, a batch larger than one message's room is split, and a record that fails its
checksum is refused. NATS stopped and started under it, and not there at start."""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from rec_service.app import config
from rec_service.app.config import LogSettings
from rec_service.app.rating_logs.jetstream import (
    JetStreamLog,
    LogUnreachable,
    NatsAccessError,
    _chunks,
    _records,
)
from rec_service.app.wiring import nats_access
from rec_service.core.durable_log import NewRating, encode_record
from rec_service.core.errors import Unavailable
from rec_service.domain.model_types import RatingScale

from .certs import Authority
from .conftest import NatsServer


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
    """Another client publishes lines that are not ratings into the stream (garbage, and a
    well-formed rating outside the model's scale): the reader skips them, counts them once
    however often it reads them, and goes on to the valid ones."""
    import asyncio

    import nats

    log = JetStreamLog(nats_url, "GARBAGE_TEST")
    log.rating_scale = RatingScale(0.5, 5.0, 0.5)  # as the service sets it from its model
    try:
        first = log.append(_ratings(2), accepted_us=1_000)

        async def publish() -> None:
            client = await nats.connect(nats_url)
            try:
                garbage = b"not a rating\n\x00\xff\n"
                await client.jetstream().publish(log.subject, garbage)
                too_high = encode_record(1_500, 1_500, "forger", "1", 99.0)  # a valid checksum
                await client.jetstream().publish(log.subject, too_high)
            finally:
                await client.close()

        asyncio.run(publish())
        after = log.append(_ratings(1, "w"), accepted_us=2_000)
        assert list(log.read()) == first + after
        assert list(log.read()) == first + after  # read again: counted once
        assert log.skipped_records == 3
    finally:
        log.close()


def test_an_outage_is_told_once_refused_clearly_and_recovered(
    nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    """NATS stopped and started under the log: writers are refused at once with the URL, the
    connection's changes are heard (health) and logged once each without a traceback, and
    what was acknowledged before is all there after."""
    changes: list[bool] = []
    log = JetStreamLog(nats_server.url, "OUTAGE_TEST", on_connection=changes.append)
    try:
        before = log.append(_ratings(3), accepted_us=1_000)
        caplog.set_level(logging.INFO, logger="rec_service.app.rating_logs.jetstream")
        nats_server.stop()
        _wait_for(lambda: changes[-1] is False)
        time.sleep(3)  # a few of nats-py's reconnect attempts fail meanwhile
        started = time.monotonic()
        with pytest.raises(Unavailable, match=re.escape(nats_server.url)):
            log.append(_ratings(1, "lost"), accepted_us=2_000)
        assert time.monotonic() - started < 1.0  # no timeout waited out
        nats_server.start()
        _wait_for(lambda: changes[-1] is True)
        after = log.append(_ratings(2, "w"), accepted_us=3_000)
        assert list(log.read()) == before + after
    finally:
        log.close()
    assert changes == [True, False, True]
    said = [r for r in caplog.records if r.name == "rec_service.app.rating_logs.jetstream"]
    assert sum("disconnected" in r.getMessage() for r in said) == 1
    assert sum("reconnected" in r.getMessage() for r in said) == 1
    assert len([r for r in said if r.levelno >= logging.WARNING]) <= 3  # the reason once
    assert all(r.exc_info is None for r in caplog.records)
    assert all(nats_server.url in r.getMessage() for r in said if r.levelno >= logging.WARNING)


def test_a_start_while_nats_is_down_waits_for_it_then_names_the_url(tmp_path: Path) -> None:
    down = NatsServer(tmp_path)  # never started
    started = time.monotonic()
    with pytest.raises(LogUnreachable, match=re.escape(down.url) + ".*log_connect_timeout_s"):
        JetStreamLog(down.url, "DOWN_TEST", connect_timeout_s=2.0)
    assert time.monotonic() - started < 15
    threading.Timer(2.0, down.start).start()  # comes up while the next one retries
    try:
        log = JetStreamLog(down.url, "DOWN_TEST", connect_timeout_s=60.0)
        log.close()
    finally:
        time.sleep(0.1)
        down.stop()


def _wait_for(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_nats_server_with_tls_and_a_password_takes_only_this_service(tmp_path: Path) -> None:
    """NATS configured as in production: TLS with client certificates verified, and a user
    with a password. The service's access (from a file, as wiring reads it) writes and reads;
    a wrong password and a missing client certificate are refused, naming the URL."""
    authority = Authority(tmp_path / "pki", "nats-ca")
    server, client = authority.issue("nats", server=True), authority.issue("svc", server=False)
    nats = NatsServer(
        tmp_path,
        ["--tls", "--tlscert", str(server.cert), "--tlskey", str(server.key), "--tlsverify",
         "--tlscacert", str(authority.cert), "--user", "movierec", "--pass", "s3cret"],
    )  # fmt: skip
    nats.start()
    try:
        (tmp_path / "password").write_text("s3cret\n")
        settings = LogSettings(
            nats_url=nats.url,
            nats_tls_ca_file=str(authority.cert),
            nats_tls_cert_file=str(client.cert),
            nats_tls_key_file=str(client.key),
            nats_user="movierec",
            nats_password_file=str(tmp_path / "password"),
        )
        access = nats_access(settings, environ={})
        log = JetStreamLog(nats.url, "SECURE_TEST", connect_timeout_s=20, access=access)
        try:
            written = log.append(_ratings(2), accepted_us=1_000)
            assert list(log.read()) == written
        finally:
            log.close()
        wrong = dataclasses.replace(access, password="guess")
        with pytest.raises(LogUnreachable, match=re.escape(nats.url)) as refused:
            JetStreamLog(nats.url, "SECURE_TEST", connect_timeout_s=10, access=wrong)
        # NATS's refusal is named, not the reset of a later retry (seen on a busy machine)
        assert "authorization" in str(refused.value).lower()
        assert "; refused" in str(refused.value)  # not retried to the timeout: it cannot help
        no_cert = dataclasses.replace(access, tls_cert_file="", tls_key_file="")
        with pytest.raises(LogUnreachable, match=re.escape(nats.url)):
            JetStreamLog(nats.url, "SECURE_TEST", connect_timeout_s=3, access=no_cert)
    finally:
        nats.stop()


def test_a_nats_file_that_cannot_be_used_is_named_before_any_connection(tmp_path: Path) -> None:
    """Each file the NATS access names is read when the access is built: one that is missing
    or not what it should be fails there, as NatsAccessError naming its setting (start-up
    logs that one line; the CLI prints it), never as a traceback from inside nats-py."""
    garbage = tmp_path / "garbage"
    garbage.write_text("not a certificate\n")
    missing = str(tmp_path / "missing")
    for settings, named in (
        (LogSettings(nats_creds_file=missing), "log_nats_creds_file"),
        (LogSettings(nats_token_file=missing), "log_nats_token_file"),
        (LogSettings(nats_tls_ca_file=missing), "log_nats_tls_ca_file"),
        (LogSettings(nats_tls_ca_file=str(garbage)), "log_nats_tls_ca_file"),
        (
            LogSettings(nats_tls_cert_file=str(garbage), nats_tls_key_file=str(garbage)),
            "log_nats_tls_cert_file",
        ),
    ):
        with pytest.raises(NatsAccessError, match=named):
            nats_access(settings, environ={})


def test_nats_secrets_come_from_a_file_or_the_environment_never_both(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("  t0ken \n")
    from_file = nats_access(LogSettings(nats_token_file=str(tmp_path / "token")), environ={})
    assert from_file.token == "t0ken" and "t0ken" not in repr(from_file)
    from_env = nats_access(LogSettings(), environ={"MOVIEREC_NATS_TOKEN": "e"})
    assert from_env.token == "e"
    with pytest.raises(ValueError, match="not both"):
        nats_access(
            LogSettings(nats_token_file=str(tmp_path / "token")),
            environ={"MOVIEREC_NATS_TOKEN": "e"},
        )
    with pytest.raises(ValueError, match="cannot be read"):
        nats_access(LogSettings(nats_password_file=str(tmp_path / "none")), environ={})
    with pytest.raises(ValueError, match="one credential"):
        nats_access(LogSettings(nats_user="u", nats_token_file=str(tmp_path / "token")), {})
    nats_secrets = [s for s in config.SETTINGS if s.startswith("log_nats")]
    assert nats_secrets and not any(s.endswith(("password", "token")) for s in nats_secrets)
