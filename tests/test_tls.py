"""TLS on the gRPC port with certificates made at test time: a TLS client is served and a
plaintext one is not; under mutual TLS a client without a certificate signed by the client CA
is refused; renewed certificate files are served without a restart; the CLI and the Python and
Go example clients work over TLS."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

from rec_service.app.config import PROJECT_ROOT
from rec_service.app.service import Service
from rec_service.edge.tls import client_channel, fingerprint

from .certs import Authority, Issued
from .conftest import second_server
from .test_clients import PAIRS, run_example


def top(channel: grpc.Channel) -> pb.GetTopNResponse:
    return pb_grpc.RecommendationServiceStub(channel).GetTopN(
        pb.GetTopNRequest(user_id="1"), timeout=10
    )


def refused(channel: grpc.Channel) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as err:
        top(channel)
    return err.value.code()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | Issued | Authority]:
    root = tmp_path_factory.mktemp("pki")
    ca = Authority(root / "ca", "movierec-test-ca")
    clients = Authority(root / "clients", "movierec-client-ca")
    stranger = Authority(root / "stranger", "someone-else")
    return {
        "ca": ca,
        "server": ca.issue("server", server=True),
        "client_ca": clients,
        "client": clients.issue("backend-a", server=False),
        "stranger": stranger.issue("intruder", server=False),
        "root": root,
    }


@pytest.fixture(scope="module")
def tls_server(
    demo_state: Service, pki: dict, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, Path]]:
    """TLS only; the certificate files are copies, so the renewal test can replace them."""
    live = tmp_path_factory.mktemp("live-certs")
    (live / "server.crt").write_bytes(pki["server"].cert.read_bytes())
    (live / "server.key").write_bytes(pki["server"].key.read_bytes())
    with second_server(
        demo_state,
        tmp_path_factory.mktemp("tls"),
        tls_cert_file=str(live / "server.crt"),
        tls_key_file=str(live / "server.key"),
    ) as (_, port):
        yield port, live


@pytest.fixture(scope="module")
def mtls_server(
    demo_state: Service, pki: dict, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    with second_server(
        demo_state,
        tmp_path_factory.mktemp("mtls"),
        tls_cert_file=str(pki["server"].cert),
        tls_key_file=str(pki["server"].key),
        tls_client_ca_file=str(pki["client_ca"].cert),
    ) as (_, port):
        yield port


def test_a_tls_client_is_served_and_a_plaintext_one_is_not(
    tls_server: tuple[int, Path], pki: dict
) -> None:
    target = f"127.0.0.1:{tls_server[0]}"
    with client_channel(target, ca_file=str(pki["ca"].cert)) as channel:
        assert top(channel).movies
    with grpc.insecure_channel(target) as channel:
        assert refused(channel) == grpc.StatusCode.UNAVAILABLE


def test_mutual_tls_serves_only_clients_the_client_ca_signed(mtls_server: int, pki: dict) -> None:
    target, ca = f"127.0.0.1:{mtls_server}", str(pki["ca"].cert)
    with client_channel(target, ca_file=ca) as channel:  # no client certificate
        assert refused(channel) == grpc.StatusCode.UNAVAILABLE
    bad = pki["stranger"]
    with client_channel(target, ca, str(bad.cert), str(bad.key)) as channel:
        assert refused(channel) == grpc.StatusCode.UNAVAILABLE
    good = pki["client"]
    with client_channel(target, ca, str(good.cert), str(good.key)) as channel:
        assert top(channel).movies


@contextmanager
def original_restored(live: Path, original: Issued) -> Iterator[None]:
    """Puts the original certificate files back after the block: the module's other tests, in
    any order, expect them."""
    try:
        yield
    finally:
        (live / "server.key").write_bytes(original.key.read_bytes())
        (live / "server.crt").write_bytes(original.cert.read_bytes())


def test_renewed_certificates_are_served_without_a_restart(
    tls_server: tuple[int, Path], pki: dict
) -> None:
    port, live = tls_server
    target = f"127.0.0.1:{port}"
    renewal_ca = Authority(Path(pki["root"]) / "renewal", "movierec-renewed-ca")
    renewed = renewal_ca.issue("server-renewed", server=True)
    with original_restored(live, pki["server"]):
        (live / "server.key").write_bytes(renewed.key.read_bytes())
        (live / "server.crt").write_bytes(renewed.cert.read_bytes())
        with client_channel(target, ca_file=str(renewal_ca.cert)) as channel:
            assert top(channel).movies  # a new connection gets the renewed certificate
        with client_channel(target, ca_file=str(pki["ca"].cert)) as channel:
            assert refused(channel) == grpc.StatusCode.UNAVAILABLE  # the old CA no longer fits
    with client_channel(target, ca_file=str(pki["ca"].cert)) as channel:
        assert top(channel).movies


def test_renewed_files_that_cannot_be_served_keep_the_old_certificate(
    tls_server: tuple[int, Path], pki: dict, caplog: pytest.LogCaptureFixture
) -> None:
    port, live = tls_server
    target = f"127.0.0.1:{port}"
    renewal_ca = Authority(Path(pki["root"]) / "mismatch", "movierec-mismatch-ca")
    renewed = renewal_ca.issue("server-mismatch", server=True)
    original = pki["server"]
    caplog.set_level(logging.INFO, logger="rec_service.edge.tls")
    with original_restored(live, original):
        (live / "server.crt").write_bytes(renewed.cert.read_bytes())  # the key stays the old one
        with client_channel(target, ca_file=str(pki["ca"].cert)) as channel:
            assert top(channel).movies  # still the old certificate
        assert "gRPC: the TLS files changed on disk but cannot be served" in caplog.text
        assert f"still serving certificate {fingerprint(str(original.cert))}" in caplog.text
        assert "changed on disk: serving certificate" not in caplog.text
    with client_channel(target, ca_file=str(pki["ca"].cert)) as channel:
        assert top(channel).movies


def test_the_cli_talks_tls(mtls_server: int, pki: dict) -> None:
    good = pki["client"]
    done = subprocess.run(
        [
            sys.executable, "-m", "rec_service.edge.cli", "predict", "1", "50",
            "--target", f"127.0.0.1:{mtls_server}", "--tls-ca", str(pki["ca"].cert),
            "--tls-cert", str(good.cert), "--tls-key", str(good.key),
        ],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "MODEL" in done.stdout


def test_the_images_health_check_works_over_mutual_tls(mtls_server: int, pki: dict) -> None:
    """The Dockerfile's HEALTHCHECK command as written, with the environment that the TLS
    `docker run` line of docs/operations.md gives it; without that environment it reports the
    server unhealthy."""
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    command = json.loads(re.search(r"HEALTHCHECK .*?CMD (\[.*?\])", dockerfile, re.S)[1])
    assert command[:2] == ["movierec", "health"]
    args = [a.replace("127.0.0.1:50051", f"127.0.0.1:{mtls_server}") for a in command[2:]]
    run = [sys.executable, "-m", "rec_service.edge.cli", "health", *args]
    good = pki["client"]
    tls = {
        "MOVIEREC_TLS_CA": str(pki["ca"].cert),
        "MOVIEREC_TLS_CERT": str(good.cert),
        "MOVIEREC_TLS_KEY": str(good.key),
        "MOVIEREC_TLS_SERVER_NAME": "localhost",  # a name the certificate carries
    }
    plain = {k: v for k, v in os.environ.items() if not k.startswith("MOVIEREC_TLS")}
    healthy = subprocess.run(
        run, env={**plain, **tls}, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert healthy.returncode == 0 and healthy.stdout.strip() == "SERVING", healthy.stderr
    wrong_name = {**tls, "MOVIEREC_TLS_SERVER_NAME": "not-this-server.example"}
    unhealthy = [
        subprocess.run(run, env={**plain, **env}, cwd=PROJECT_ROOT, capture_output=True,
                       text=True, timeout=60)
        for env in ({}, wrong_name)
    ]  # fmt: skip
    assert all(done.returncode == 1 and "unreachable" in done.stdout for done in unhealthy)


@pytest.mark.parametrize("language", ["python", "go"])
def test_the_example_clients_run_over_mutual_tls(
    language: str, mtls_server: int, pki: dict
) -> None:
    good = pki["client"]
    flag = "-" if language == "go" else "--"
    out = run_example(
        language,
        mtls_server,
        f"{language}-tls",
        f"{flag}ca", str(pki["ca"].cert),
        f"{flag}cert", str(good.cert),
        f"{flag}key", str(good.key),
    )  # fmt: skip
    assert out["language"] == language
    assert len(out["predictions"]) == len(PAIRS)
    assert out["stream"]["accepted"] == 3 and out["bad_input"]["invalid_argument"] is True
