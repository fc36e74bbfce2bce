"""The dashboard's Flask app: a login with the admin token, then the operator's pages.

Safe by construction rather than by filtering:
- every page but the login needs a session signed in on the server (SignedIn), carried by a
  signed cookie (HttpOnly, SameSite=Strict, Secure under TLS) whose key is random per process,
  so a restart signs everyone out and signing out ends the session even for a copied cookie;
- every POST carries the session's CSRF token, and a POST from another origin is refused;
- templates escape everything (Jinja autoescape), charts are escaped SVG, and the pages' CSP
  allows no script at all and nothing from another origin;
- login failures are limited per client address;
- a page reads only through the Gateway, i.e. the same servicers and limits as a gRPC client.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from google.protobuf.timestamp_pb2 import Timestamp
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import movierec_pb2 as pb
from werkzeug.wrappers import Response

from rec_service.app.retrain import STAGES
from rec_service.edge.dashboard import charts
from rec_service.edge.dashboard.gateway import TOP_N, Gateway, PageError
from rec_service.edge.dashboard.history import SOURCES, MetricHistory

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # same-origin, not no-referrer: with no-referrer a browser posts forms with "Origin: null".
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# The HTTP status a page answers with when a servicer refused its call.
PAGE_STATUS = {"INVALID_ARGUMENT": 400, "NOT_FOUND": 404, "UNAVAILABLE": 503}
LOGIN_FAILURES_ALLOWED = 5  # per client address, per LOGIN_WINDOW_S
LOGIN_WINDOW_S = 60.0
RETRAIN_REFRESH_S = 2  # the retrain page reloads itself this often while a job runs
SESSION_HOURS = 8
MAX_SESSIONS = 1000  # signed-in sessions kept; beyond it the oldest is signed out


class SignedIn:
    """The sessions signed in now, on the server: signing out ends a session even if its
    cookie was copied, and a session ends SESSION_HOURS after its login whatever the cookie
    says."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def start(self) -> str:
        session_id = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._until = {k: t for k, t in self._until.items() if t > now}  # expired ones go
            if len(self._until) >= MAX_SESSIONS:
                oldest = min(self._until, key=self._until.__getitem__)
                del self._until[oldest]
            self._until[session_id] = now + SESSION_HOURS * 3600
        return session_id

    def valid(self, session_id: object) -> bool:
        with self._lock:
            until = self._until.get(session_id) if isinstance(session_id, str) else None
        return until is not None and until > time.monotonic()

    def end(self, session_id: object) -> None:
        with self._lock:
            if isinstance(session_id, str):
                self._until.pop(session_id, None)


class LoginThrottle:
    """At most LOGIN_FAILURES_ALLOWED failed logins per address per window."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._failures.setdefault(address, deque())
        while times and times[0] < now - LOGIN_WINDOW_S:
            times.popleft()
        return times

    def blocked(self, address: str) -> bool:
        with self._lock:
            return len(self._recent(address, time.monotonic())) >= LOGIN_FAILURES_ALLOWED

    def failed(self, address: str) -> None:
        with self._lock:
            if len(self._failures) > 10_000:  # bounded, whoever knocks
                self._failures.clear()
            self._recent(address, time.monotonic()).append(time.monotonic())


def when_us(micros: int | float | None) -> str:
    if not micros:
        return "never"
    return datetime.fromtimestamp(micros / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def when(stamp: Timestamp) -> str:
    if not stamp.seconds and not stamp.nanos:
        return "never"
    return when_us(stamp.seconds * 1_000_000 + stamp.nanos // 1000)


@dataclass(frozen=True)
class Dashboard:
    """What the pages read, one per app: the servicers' gateway, the sampled history, the
    admin token, and the login state."""

    gateway: Gateway
    history: MetricHistory
    token: str
    throttle: LoginThrottle
    signed_in: SignedIn


EXTENSION = "movierec_dashboard"
# The operator's pages, one handler each; create_app registers them on an app of their own.
pages = Blueprint("pages", __name__)


def _dashboard() -> Dashboard:
    dashboard: Dashboard = current_app.extensions[EXTENSION]
    return dashboard


def create_app(gateway: Gateway, history: MetricHistory, token: str, secure: bool) -> Flask:
    """The dashboard app; `token` is the admin token, `secure` whether it is served over TLS."""
    if not token:
        raise ValueError("the dashboard needs the admin token (admin_token or admin_token_file)")
    app = Flask(__name__)
    app.secret_key = secrets.token_bytes(32)
    app.config.update(
        SESSION_COOKIE_NAME="movierec_dashboard",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        MAX_CONTENT_LENGTH=256 * 1024,
    )
    app.jinja_env.filters.update(when_us=when_us, when=when)
    app.jinja_env.globals.update(
        source_name=lambda v: pb.RecommendationSource.Name(v).removeprefix(
            "RECOMMENDATION_SOURCE_"
        ),
        state_name=lambda v: apb.RetrainState.Name(v).removeprefix("RETRAIN_STATE_"),
        csrf_token=lambda: session.get("csrf", ""),
    )
    app.extensions[EXTENSION] = Dashboard(gateway, history, token, LoginThrottle(), SignedIn())
    app.register_blueprint(pages)
    return app


@pages.before_app_request
def guard() -> Any:
    signed_in = _dashboard().signed_in
    if request.method == "POST" and not _same_origin():
        abort(403)
    if request.endpoint in ("pages.login", "static"):
        return None
    if not signed_in.valid(session.get("sid")):
        session.clear()
        return redirect(url_for("pages.login"))
    if request.method == "POST":
        sent = request.form.get("csrf", "")
        if not hmac.compare_digest(sent.encode(), session.get("csrf", "").encode()):
            abort(403)
    return None


@pages.after_app_request
def headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


@pages.route("/login", methods=["GET", "POST"])
def login() -> Any:
    dashboard = _dashboard()
    signed_in = dashboard.signed_in
    throttle = dashboard.throttle
    token = dashboard.token
    if request.method == "GET":
        return render_template("login.html", error="")
    address = request.remote_addr or "?"
    if throttle.blocked(address):
        return render_template("login.html", error="Too many failed logins; wait."), 429
    presented = request.form.get("token", "").strip().encode()
    if not hmac.compare_digest(presented, token.encode()):
        throttle.failed(address)
        return render_template("login.html", error="The admin token is wrong."), 403
    session.clear()  # nothing from before the login carries over
    session.permanent = True
    session.update(sid=signed_in.start(), csrf=secrets.token_urlsafe(32))
    return redirect(url_for("pages.overview"))


@pages.post("/logout")
def logout() -> Any:
    signed_in = _dashboard().signed_in
    signed_in.end(session.get("sid"))
    session.clear()
    return redirect(url_for("pages.login"))


@pages.get("/")
def overview() -> Any:
    dashboard = _dashboard()
    gateway = dashboard.gateway
    history = dashboard.history
    info, info_error = _attempt(gateway.model_info)
    freshness, freshness_error = _attempt(gateway.freshness)
    status, _ = _attempt(gateway.retrain_status)
    samples = history.samples()
    times = [s.at for s in samples]
    sources = {name.lower(): [s.answers[name] / s.seconds for s in samples] for name in SOURCES}
    return render_template(
        "overview.html",
        info=info,
        info_error=info_error,
        freshness=freshness,
        freshness_error=freshness_error,
        job=status.job if status is not None and status.HasField("job") else None,
        candidates_chart=charts.bar_chart(
            [(c.name, c.ndcg_at_10) for c in info.candidates] if info else [],
            title="validation NDCG@10 per candidate",
        ),
        freshness_chart=charts.bar_chart(
            [(k.replace("_", " "), v) for k, v in freshness.items()] if freshness else [],
            title="lists by freshness",
        ),
        sources_chart=charts.line_chart(
            times, sources, "/s", "GetTopN answers per second by list source"
        ),
        ingest_chart=charts.line_chart(
            times,
            {"accepted ratings": [s.accepted / s.seconds for s in samples]},
            "/s",
            "ratings accepted per second",
        ),
        stages_chart=_stages_chart(status.job if status is not None else None),
    )


@pages.get("/user")
def user() -> Any:
    gateway = _dashboard().gateway
    user_id = request.args.get("id", "").strip()
    if not user_id:
        return render_template("user.html", user_id="", top=None, error="")
    try:
        # The tables first: a read queues write-backs that the next query would flush.
        ratings, activity = gateway.user_page(user_id)
        top = gateway.top_n(user_id)
    except PageError as exc:
        page = render_template("user.html", user_id=user_id, top=None, error=str(exc))
        return page, PAGE_STATUS.get(exc.code, 500)
    titles = {r["movie_id"]: r["title"] for r in ratings.records()}
    last_active = activity["last_active_us"] if activity else 0
    computed_at = top.computed_at.seconds * 1_000_000 + top.computed_at.nanos // 1000
    return render_template(
        "user.html",
        user_id=user_id,
        top=top,
        page_size=TOP_N,
        ratings=ratings,
        titles=titles,
        activity=activity,
        fresh_when_read=computed_at > last_active if computed_at else False,
        error="",
    )


@pages.get("/movie")
def movie() -> Any:
    gateway = _dashboard().gateway
    movie_id = request.args.get("id", "").strip()
    if not movie_id:
        return render_template("movie.html", movie_id="", movie=None, error="")
    try:
        similar = gateway.similar(movie_id)  # first: the servicer validates the id
        row = gateway.movie(movie_id)
        if row is None:
            raise PageError("NOT_FOUND", f"movie {movie_id!r} is not in the catalogue")
    except PageError as exc:
        page = render_template("movie.html", movie_id=movie_id, movie=None, error=str(exc))
        return page, PAGE_STATUS.get(exc.code, 500)
    return render_template("movie.html", movie_id=movie_id, movie=row, similar=similar, error="")


@pages.route("/retrain", methods=["GET", "POST"])
def retrain() -> Any:
    gateway = _dashboard().gateway
    if request.method == "POST":
        _, error = _attempt(gateway.trigger_retrain)
        if error:
            return render_template("retrain.html", job=None, error=error, chart=""), 503
        return redirect(url_for("pages.retrain"))
    status, error = _attempt(gateway.retrain_status)
    job = status.job if status is not None and status.HasField("job") else None
    running = job is not None and job.state == apb.RETRAIN_STATE_RUNNING
    return render_template(
        "retrain.html",
        job=job,
        error=error,
        chart=_stages_chart(job),
        refresh=RETRAIN_REFRESH_S if running else 0,
    )


@pages.route("/sql", methods=["GET", "POST"])
def sql() -> Any:
    gateway = _dashboard().gateway
    text = request.form.get("sql", "") if request.method == "POST" else ""
    max_rows = request.form.get("max_rows", "100")
    table, error, status = None, "", 200
    if request.method == "POST":
        try:
            table = gateway.query(text, int(max_rows))
        except ValueError:
            error, status = "max_rows must be a whole number", 400
        except PageError as exc:
            error, status = f"{exc.code}: {exc}", PAGE_STATUS.get(exc.code, 400)
    return render_template(
        "sql.html", sql=text, max_rows=max_rows, table=table, error=error
    ), status


def _same_origin() -> bool:
    """A form posted from this dashboard's own pages (browsers send Origin with a POST)."""
    origin = request.headers.get("Origin")
    return origin is None or origin == f"{request.scheme}://{request.host}"


def _attempt(call: Callable[[], Any]) -> tuple[Any, str]:
    """(result, "") or (None, the refusal's message): one failing part of a page does not
    hide the others."""
    try:
        return call(), ""
    except PageError as exc:
        return None, f"{exc.code}: {exc}"


def _stages_chart(job: apb.RetrainJob | None) -> Any:
    if job is None or not job.stage_seconds:
        return ""
    seconds = job.stage_seconds
    rows = [(stage, seconds[stage]) for stage in STAGES if stage in seconds]
    return charts.bar_chart(rows, " s", "seconds per retrain stage")
