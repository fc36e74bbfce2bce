"""TLS for the gRPC port and the dashboard: server credentials that follow renewed certificate
files (checked before they are served, and named in the log), mutual TLS
with a client CA, the rule that admin never listens in clear beyond loopback, and the client
side the `movierec` commands use."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

import grpc

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TlsFiles:
    """PEM files of the server's certificate chain and key, and optionally the CA that client
    certificates must be signed by (mutual TLS)."""

    cert_file: str
    key_file: str
    client_ca_file: str = ""

    def stamp(self) -> tuple[tuple[int, int], ...]:
        paths = [p for p in (self.cert_file, self.key_file, self.client_ca_file) if p]
        return tuple((os.stat(p).st_mtime_ns, os.stat(p).st_size) for p in paths)

    def read(self) -> grpc.ServerCertificateConfiguration:
        chain = Path(self.cert_file).read_bytes()
        key = Path(self.key_file).read_bytes()
        client_ca = Path(self.client_ca_file).read_bytes() if self.client_ca_file else None
        return grpc.ssl_server_certificate_configuration([(key, chain)], client_ca)


def usable_problem(files: TlsFiles) -> str:
    """Why these files cannot be served ("" when they can): each must parse and the key must
    match the certificate, checked the way the dashboard's TLS loads them."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(files.cert_file, files.key_file)
        if files.client_ca_file:
            context.load_verify_locations(files.client_ca_file)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        return str(exc) or type(exc).__name__
    return ""


def fingerprint(cert_file: str) -> str:
    """The served certificate by name in the log: SHA-256 of the chain's first certificate."""
    try:
        text = Path(cert_file).read_text("ascii", errors="replace")
        start = text.index(ssl.PEM_HEADER)
        end = text.index(ssl.PEM_FOOTER, start) + len(ssl.PEM_FOOTER)
        der = ssl.PEM_cert_to_DER_cert(text[start:end])
    except (OSError, ValueError):
        return "(unreadable)"
    return "sha256:" + hashlib.sha256(der).hexdigest()[:16]


class CertificateWatch:
    """One listener's view of its TLS files, asked at each new connection: `renewed()` is
    true once when the files changed on disk and are usable, and the log then names the
    certificate served from now on. Files that cannot be served (a key that does not match,
    a half-written file) keep the certificate being served, and the log says which one."""

    def __init__(self, files: TlsFiles, listener: str) -> None:
        self.files, self.listener = files, listener
        self._lock = threading.Lock()
        self._stamp = files.stamp()
        self._refused: tuple[tuple[int, int], ...] | None = None  # said once per change
        self.serving = fingerprint(files.cert_file)

    def renewed(self) -> bool:
        with self._lock:
            try:
                current = self.files.stamp()
            except OSError as exc:
                current, problem = None, str(exc)
            else:
                if current in (self._stamp, self._refused):
                    return False
                problem = usable_problem(self.files)
            if problem:
                if current is None or current != self._refused:
                    log.warning(
                        "%s: the TLS files changed on disk but cannot be served (%s); still "
                        "serving certificate %s",
                        self.listener,
                        problem,
                        self.serving,
                    )
                self._refused = current
                return False
            assert current is not None
            self._stamp, self._refused = current, None
            self.serving = fingerprint(self.files.cert_file)
            log.info(
                "%s: TLS files changed on disk: serving certificate %s",
                self.listener,
                self.serving,
            )
            return True


def server_credentials(files: TlsFiles) -> grpc.ServerCredentials:
    """Credentials that re-read the files when they change on disk (checked at each new
    connection), so renewed certificates are served without a restart; files that cannot be
    served keep the previous certificate (CertificateWatch)."""
    watch = CertificateWatch(files, "gRPC")

    def fetch() -> grpc.ServerCertificateConfiguration | None:
        if not watch.renewed():
            return None
        try:
            return files.read()
        except OSError as exc:  # replaced again since it was checked: the next one tries
            log.warning("gRPC: the TLS files could not be re-read: %s", exc)
            return None

    # grpc calls `fetch` at each handshake and keeps the current configuration when it returns
    # None (grpc's documentation); the typing stubs leave None out.
    return grpc.dynamic_ssl_server_credentials(
        files.read(),
        fetch,  # type: ignore[arg-type]
        require_client_authentication=bool(files.client_ca_file),
    )


def renewing_server_context(files: TlsFiles, listener: str) -> ssl.SSLContext:
    """An ssl server context (the dashboard's) that serves renewed files as gRPC does: at each
    handshake it switches the connection to a context of the current files."""
    watch = CertificateWatch(files, listener)
    front = _server_context(files)
    current = [front]

    def on_client_hello(sock: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
        sock.sni = server_name  # type: ignore[attr-defined]  # what cheroot's own callback keeps
        if watch.renewed():
            current[0] = _server_context(files)
        if current[0] is not front:
            sock.context = current[0]

    front.sni_callback = on_client_hello
    return front


def _server_context(files: TlsFiles) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.cert_file, files.key_file)
    if files.client_ca_file:  # mutual TLS: a client certificate is asked for and checked
        context.load_verify_locations(files.client_ca_file)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def plaintext_admin_problem(host: str, tls: bool, admin_on: bool, allow: bool) -> str | None:
    """Why the server must not start as configured, or None: the admin token and every
    operator query would cross the network in clear."""
    if admin_on and not tls and not is_loopback(host) and not allow:
        return (
            f"admin is enabled and the server would listen on {host} without TLS: set "
            "tls_cert_file and tls_key_file, listen on 127.0.0.1, or set "
            "admin_allow_plaintext=true where a service mesh terminates TLS"
        )
    return None


def client_channel(
    target: str,
    ca_file: str = "",
    cert_file: str = "",
    key_file: str = "",
    server_name: str = "",
) -> grpc.Channel:
    """A channel to `target`: TLS when a CA (or a client certificate) is given, else plaintext."""
    if not (ca_file or cert_file):
        return grpc.insecure_channel(target)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=Path(ca_file).read_bytes() if ca_file else None,
        private_key=Path(key_file).read_bytes() if key_file else None,
        certificate_chain=Path(cert_file).read_bytes() if cert_file else None,
    )
    options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
    return grpc.secure_channel(target, credentials, options=options)
