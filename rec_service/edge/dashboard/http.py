"""Serves the dashboard app with cheroot (CherryPy's WSGI server): HTTPS with the gRPC port's
certificate when the server has one, plain HTTP otherwise (a loopback address unless
admin_allow_plaintext says a mesh terminates TLS, as for the gRPC port)."""

from __future__ import annotations

import logging
import threading

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from prometheus_client import CollectorRegistry

from rec_service.app.config import Config
from rec_service.edge.dashboard.gateway import Gateway
from rec_service.edge.dashboard.history import MetricHistory
from rec_service.edge.dashboard.web import create_app
from rec_service.edge.tls import TlsFiles, renewing_server_context

log = logging.getLogger(__name__)

THREADS = 4  # pages are few and light: a handful of operators at a time
MAX_HEADER_BYTES = 64 * 1024  # the request line and headers: ids travel in the query string
MAX_BODY_BYTES = 256 * 1024  # a form: the SQL box is the largest field
IDLE_TIMEOUT_S = 10  # a connection that sends nothing this long is closed (slow clients)


class Dashboard:
    """The dashboard's HTTP server and its metric sampler, started and stopped together."""

    def __init__(
        self, config: Config, token: str, gateway: Gateway, registry: CollectorRegistry
    ) -> None:
        settings = config.dashboard
        self.history = MetricHistory(registry, settings.history_minutes)
        app = create_app(gateway, self.history, token, secure=config.tls.enabled)
        self._server = wsgi.Server(
            (settings.host, settings.port),
            app,
            numthreads=THREADS,
            server_name="movierec",
            timeout=IDLE_TIMEOUT_S,
        )
        self._server.max_request_header_size = MAX_HEADER_BYTES
        self._server.max_request_body_size = MAX_BODY_BYTES
        tls = config.tls
        if tls.enabled:
            adapter = BuiltinSSLAdapter(tls.cert_file, tls.key_file)
            # The gRPC port's files, renewed the same way; mutual TLS on gRPC asks the
            # dashboard's visitors for a certificate too.
            files = TlsFiles(tls.cert_file, tls.key_file, tls.client_ca_file)
            adapter.context = renewing_server_context(files, "dashboard")
            self._server.ssl_adapter = adapter
        self.scheme = "https" if tls.enabled else "http"
        self._thread = threading.Thread(target=self._serve, name="dashboard", daemon=True)
        self.port = 0

    def start(self) -> int:
        """Binds the port (0 picks one), starts serving and returns the port."""
        self._server.prepare()
        self.port = int(self._server.bind_addr[1])
        self.history.start()
        self._thread.start()
        return self.port

    def _serve(self) -> None:
        try:
            self._server.serve()
        except Exception:  # the dashboard failing must not take the gRPC service down
            log.exception("dashboard: the HTTP server stopped")

    def stop(self) -> None:
        self.history.stop()
        self._server.stop()
        self._thread.join(timeout=10)
