"""TLS for the gRPC port: server credentials that follow renewed certificate files, mutual TLS
with a client CA, the rule that admin never listens in clear beyond loopback, and the client
side the `movierec` commands use."""

from __future__ import annotations

import ipaddress
import logging
import os
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


def server_credentials(files: TlsFiles) -> grpc.ServerCredentials:
    """Credentials that re-read the files when they change on disk (checked at each new
    connection), so renewed certificates are served without a restart. Files that cannot be
    read keep the previous certificate and log a warning; the files are not parsed here, so a
    renewal should be renamed into place whole rather than written in place."""
    lock = threading.Lock()
    stamp = files.stamp()
    initial = files.read()

    def fetch() -> grpc.ServerCertificateConfiguration | None:
        nonlocal stamp
        with lock:
            try:
                current = files.stamp()
                if current == stamp:
                    return None
                renewed = files.read()
            except OSError as exc:
                log.warning("TLS files could not be re-read, keeping the old ones: %s", exc)
                return None
            stamp = current
            log.info("TLS certificate files changed on disk: serving the renewed ones")
            return renewed

    # grpc calls `fetch` at each handshake and keeps the current configuration when it returns
    # None (grpc's documentation); the typing stubs leave None out.
    return grpc.dynamic_ssl_server_credentials(
        initial,
        fetch,  # type: ignore[arg-type]
        require_client_authentication=bool(files.client_ca_file),
    )


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
