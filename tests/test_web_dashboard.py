"""The dashboard's web layer without Spark: login, CSRF, origin, headers, escaping, the id
literal in its fixed queries, the listen rules and HTTPS. A stand-in gateway answers with
canned messages; the browser tests (test_dashboard_browser.py) run it against a live server."""

from __future__ import annotations

import hashlib
import logging
import re
import socket
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import movierec_pb2 as pb
from prometheus_client import CollectorRegistry

from rec_service.app.config import Config
from rec_service.edge.dashboard import charts
from rec_service.edge.dashboard.gateway import PageError, Table, sql_text
from rec_service.edge.dashboard.history import MetricHistory
from rec_service.edge.dashboard.http import Dashboard
from rec_service.edge.dashboard.web import LOGIN_FAILURES_ALLOWED, create_app
from rec_service.edge.server import check_listen_settings
from rec_service.edge.tls import fingerprint

from .certs import Authority, Issued

TOKEN = "dashboard-test-token"
EVIL = "<script>alert(1)</script>"


class CannedGateway:
    """Answers as the servicers would, from fixed messages; records what it was asked."""

    def __init__(self) -> None:
        self.queries: list[str] = []
        self.retrains = 0

    def model_info(self) -> apb.GetModelInfoResponse:
        return apb.GetModelInfoResponse(
            model_version="v-test",
            user_count=3,
            ranker="ease",
            candidates=[apb.RankerCandidate(name=EVIL, ndcg_at_10=0.3)],
        )

    def freshness(self) -> dict[str, int]:
        return {"fresh": 5, "stale": 2, "without_list": 1}

    def retrain_status(self) -> apb.GetRetrainStatusResponse:
        return apb.GetRetrainStatusResponse()

    def trigger_retrain(self) -> apb.TriggerRetrainResponse:
        self.retrains += 1
        return apb.TriggerRetrainResponse()

    def top_n(self, user_id: str) -> pb.GetTopNResponse:
        if user_id == "nobody":
            raise PageError("INVALID_ARGUMENT", "user_id: too long")
        return pb.GetTopNResponse(
            movies=[pb.RecommendedMovie(movie_id="m1", title=EVIL, score=1.0)],
            source=pb.RECOMMENDATION_SOURCE_PRECOMPUTED,
        )

    def user_page(self, user_id: str) -> tuple[Table, dict[str, Any] | None]:
        return Table(["movie_id", "title", "rating", "rated_at", "source"], [], False), None

    def query(self, sql: str, max_rows: int = 0) -> Table:
        self.queries.append(sql)
        return Table(["n"], [[1.0]], False)


@pytest.fixture()
def gateway() -> CannedGateway:
    return CannedGateway()


@pytest.fixture()
def app(gateway: CannedGateway) -> Flask:
    history = MetricHistory(CollectorRegistry(), minutes=5)
    return create_app(gateway, history, TOKEN, secure=False)  # type: ignore[arg-type]


def signed_in(app: Flask) -> tuple[FlaskClient, str]:
    client = app.test_client()
    assert client.post("/login", data={"token": TOKEN}).status_code == 302
    with client.session_transaction() as session:
        return client, session["csrf"]


def test_every_page_needs_the_token(app: Flask) -> None:
    client = app.test_client()
    for page in ("/", "/user?id=1", "/movie?id=1", "/retrain", "/sql"):
        answer = client.get(page)
        assert answer.status_code == 302 and answer.headers["Location"] == "/login"
    refused = client.post("/login", data={"token": TOKEN + "x"})
    assert refused.status_code == 403 and b"wrong" in refused.data
    assert client.get("/").status_code == 302
    client, _ = signed_in(app)
    assert client.get("/").status_code == 200


def test_failed_logins_are_limited_per_address(app: Flask) -> None:
    client = app.test_client()
    for _ in range(LOGIN_FAILURES_ALLOWED):
        assert client.post("/login", data={"token": "guess"}).status_code == 403
    # Even the right token waits once the address has used up its failures.
    assert client.post("/login", data={"token": TOKEN}).status_code == 429
    other = app.test_client()
    answer = other.post("/login", data={"token": TOKEN}, environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert answer.status_code == 302


def test_a_post_needs_the_sessions_csrf_token_and_the_same_origin(
    app: Flask, gateway: CannedGateway
) -> None:
    client, csrf = signed_in(app)
    assert client.post("/retrain").status_code == 403
    assert client.post("/retrain", data={"csrf": "forged"}).status_code == 403
    cross = client.post("/retrain", data={"csrf": csrf}, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403 and gateway.retrains == 0
    same = client.post("/retrain", data={"csrf": csrf}, headers={"Origin": "http://localhost"})
    assert same.status_code == 302 and gateway.retrains == 1
    copied = client.get_cookie("movierec_dashboard")
    assert copied is not None
    assert client.post("/logout", data={"csrf": csrf}).status_code == 302
    assert client.get("/").status_code == 302  # signed out
    # Signing out ended the session on the server: the copied cookie opens nothing either.
    replay = app.test_client()
    replay.set_cookie("movierec_dashboard", copied.value)
    assert replay.get("/").status_code == 302


def test_pages_escape_what_they_show_and_allow_no_script(app: Flask) -> None:
    client, _ = signed_in(app)
    for page in ("/", "/user?id=u1"):
        answer = client.get(page)
        assert answer.status_code == 200
        assert EVIL.encode() not in answer.data
        assert b"&lt;script&gt;" in answer.data
        policy = answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["Cache-Control"] == "no-store"
    cookie = client.get_cookie("movierec_dashboard")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"


def test_a_refused_call_is_shown_with_its_status(app: Flask) -> None:
    client, _ = signed_in(app)
    answer = client.get("/user?id=nobody")
    assert answer.status_code == 400 and b"user_id: too long" in answer.data


def test_an_id_enters_a_fixed_query_as_hex_digits_only() -> None:
    hostile = "1' OR '1'='1\\'; DROP TABLE x; --\u00e9"
    literal = sql_text(hostile)
    hex_part = literal.removeprefix("CAST(unhex('").removesuffix("') AS STRING)")
    assert set(hex_part) <= set("0123456789abcdef")
    assert bytes.fromhex(hex_part).decode() == hostile


def test_a_long_label_fits_whole_in_its_chart() -> None:
    """A blend's name is drawn right-aligned before its bar: its start must stay inside."""
    long_name = "item-KNN cosine (50) + ALS 0.3 + popularity 0.2 + more"
    svg = str(charts.bar_chart([(long_name, 0.4), ("popularity", 0.1)]))
    label_end = float(re.search(r'<text x="([0-9.]+)"', svg).group(1))  # type: ignore[union-attr]
    assert label_end - 7 * len(long_name) >= 0  # at 7 px a character, nothing left of x=0
    width = float(re.search(r'width="([0-9.]+)"', svg).group(1))  # type: ignore[union-attr]
    assert width > label_end + 90


def test_chart_labels_are_escaped() -> None:
    svg = charts.bar_chart([(EVIL, 1.0)], title=EVIL)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    line = charts.line_chart([0.0, 5.0], {EVIL: [1.0, 2.0]})
    assert "<script>" not in line


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"dashboard_port": 0}, "no admin token"),
        (
            {"dashboard_port": 0, "admin_token": TOKEN, "dashboard_host": "0.0.0.0"},
            "the dashboard is on",
        ),
    ],
)
def test_a_dashboard_without_token_or_in_clear_off_loopback_is_refused(
    changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        check_listen_settings(Config().replace(**changes))
    check_listen_settings(Config().replace(admin_token=TOKEN, dashboard_port=0))


def test_the_dashboard_speaks_tls_with_the_servers_certificate(
    tmp_path: Path, gateway: CannedGateway
) -> None:
    ca = Authority(tmp_path / "ca", "dashboard-ca")
    issued = ca.issue("server", server=True)
    config = Config().replace(
        admin_token=TOKEN, dashboard_port=0, tls_cert_file=str(issued.cert),
        tls_key_file=str(issued.key),
    )  # fmt: skip
    dashboard = Dashboard(config, TOKEN, gateway, CollectorRegistry())  # type: ignore[arg-type]
    port = dashboard.start()
    try:
        trusting = ssl.create_default_context(cafile=str(ca.cert))
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/login", context=trusting) as r:
            assert r.status == 200 and b"admin token" in r.read()
            cookie_rules = r.headers.get("Content-Security-Policy")
            assert cookie_rules is not None
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5)
        # A request line beyond the header limit is refused before the app sees it. cheroot
        # answers 414 and closes; over TLS a client still sending its 100 KB line may meet the
        # close first (CI, on a busy machine: "EOF occurred in violation of protocol"), so
        # either is the refusal, never a page.
        with pytest.raises(urllib.error.URLError) as refused:
            urllib.request.urlopen(
                f"https://127.0.0.1:{port}/login?id={'x' * 100_000}", context=trusting
            )
        if isinstance(refused.value, urllib.error.HTTPError):
            assert refused.value.code in (413, 414)
        else:
            reason = refused.value.reason
            assert isinstance(reason, (ssl.SSLEOFError, ConnectionError)), reason
    finally:
        dashboard.stop()


def test_the_dashboard_serves_renewed_certificates_and_keeps_unusable_ones_out(
    tmp_path: Path, gateway: CannedGateway, caplog: pytest.LogCaptureFixture
) -> None:
    """As the gRPC port does: renewed files are served from the next connection on, files
    that cannot be served (a key of another certificate) are not, and the log names the
    certificate actually served."""
    ca = Authority(tmp_path / "ca", "dashboard-ca")
    first, second = ca.issue("server", server=True), ca.issue("renewed", server=True)
    live = tmp_path / "live"
    live.mkdir()
    _install(first, live)
    config = Config().replace(
        admin_token=TOKEN, dashboard_port=0, tls_cert_file=str(live / "server.crt"),
        tls_key_file=str(live / "server.key"),
    )  # fmt: skip
    dashboard = Dashboard(config, TOKEN, gateway, CollectorRegistry())  # type: ignore[arg-type]
    port = dashboard.start()
    caplog.set_level(logging.INFO, logger="rec_service.edge.tls")
    try:
        assert _served_fingerprint(port, ca) == fingerprint(str(first.cert))
        _install(second, live)
        assert _served_fingerprint(port, ca) == fingerprint(str(second.cert))
        renewed = fingerprint(str(second.cert))
        assert f"dashboard: TLS files changed on disk: serving certificate {renewed}" in caplog.text
        (live / "server.key").write_bytes(first.key.read_bytes())  # not this certificate's key
        assert _served_fingerprint(port, ca) == fingerprint(str(second.cert))
        assert "cannot be served" in caplog.text
        assert caplog.text.count("cannot be served") == 1  # once, however many connections
        assert _served_fingerprint(port, ca) == fingerprint(str(second.cert))
        assert caplog.text.count("cannot be served") == 1
    finally:
        dashboard.stop()


def _install(issued: Issued, live: Path) -> None:
    """New files renamed into place whole, as a renewal should write them."""
    for source, name in ((issued.cert, "server.crt"), (issued.key, "server.key")):
        staged = live / f".{name}.new"
        staged.write_bytes(source.read_bytes())
        staged.replace(live / name)


def _served_fingerprint(port: int, ca: Authority) -> str:
    """The certificate a new connection to the dashboard is served, as tls.fingerprint names it."""
    context = ssl.create_default_context(cafile=str(ca.cert))
    context.check_hostname = False
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return "sha256:" + hashlib.sha256(der).hexdigest()[:16]
