"""Shared fixtures: one local Spark session, the demo service loaded once, a server on port 0.

Two tiers. A test that needs the JVM asks for `spark` (directly or through the demo service)
and is marked `spark` here; the others form the fast tier (`pytest -m "not spark"`), which
starts no JVM. The session is started lazily by the first test that needs it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from movierec.v1 import movierec_pb2_grpc as pb_grpc
from pyspark.sql import SparkSession

from rec_service.app.config import PROJECT_ROOT, Config
from rec_service.app.service import Service
from rec_service.app.wiring import start_engine
from rec_service.edge.server import GrpcServer, create_server
from spark_store.engine import SparkEngine

DEMO_DATA = PROJECT_ROOT / "data" / "ml-latest-small"


def service_config(tmp: Path, **changes: object) -> Config:
    """Settings for tests: port 0, a private model directory, quick write-back."""
    base = Config().replace(
        port=0,
        model_dir=str(tmp / "model"),
        ingest_dir=str(tmp / "ingest"),
        writeback_interval_s=0.2,
        grpc_workers=8,
        spark_driver_memory=SPARK_MEMORY,
        # Tuning runs as in production on a shorter grid: the baselines and the first two
        # item-item models (cosine, EASE^R) are compared at every training of the suite.
        tuning_item_models=2,
        tuning_rating_fits=2,
    )
    return base.replace(**changes)


# The suite's services share one JVM; 2g ran out of heap in the retrain tests on a busy machine.
SPARK_MEMORY = "3g"
_spark: SparkSession | None = None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.spark)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Starts the JVM before any test runs when a selected test needs it: launching it later,
    from a process whose gRPC threads already run (a fast-tier server test), fails in gRPC's
    fork handlers, and the test order must not matter."""
    global _spark
    if any(item.get_closest_marker("spark") for item in session.items):
        _spark = start_engine(Config().replace(spark_driver_memory=SPARK_MEMORY)).session


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = _spark or start_engine(Config().replace(spark_driver_memory=SPARK_MEMORY)).session
    yield session
    session.stop()


@pytest.fixture(scope="session")
def demo_state(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The service on the shipped MovieLens data, trained and loaded once for the whole run."""
    state = Service(service_config(tmp_path_factory.mktemp("demo")))
    state.engine = SparkEngine(spark)
    state.load()
    yield state
    state.close()


@pytest.fixture(scope="session")
def demo_server(demo_state: Service) -> Iterator[int]:
    server, port = create_server(demo_state.config, demo_state)
    server.start()
    yield port
    server.stop(0)


@pytest.fixture(scope="session")
def channel(demo_server: int) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{demo_server}") as ch:
        grpc.channel_ready_future(ch).result(timeout=10)
        yield ch


@pytest.fixture(scope="session")
def stub(channel: grpc.Channel) -> pb_grpc.RecommendationServiceStub:
    return pb_grpc.RecommendationServiceStub(channel)


@contextmanager
def served_copy(
    demo_state: Service, tmp: Path, **changes: object
) -> Iterator[tuple[Service, GrpcServer, int]]:
    """Another service on the demo data in this process, on a copy of the demo model (no
    training), with its own rating log and these settings; yields it, its server and port."""
    shutil.copytree(demo_state.config.models.model_dir, tmp / "model")
    config = service_config(tmp, **changes)
    state = Service(config)
    state.engine = demo_state.engine
    state.load()
    server, port = create_server(config, state)
    server.start()
    try:
        yield state, server, port
    finally:
        server.stop(0).wait(60)
        state.close()


@contextmanager
def second_server(
    demo_state: Service, tmp: Path, **changes: object
) -> Iterator[tuple[Service, int]]:
    """served_copy, without its server."""
    with served_copy(demo_state, tmp, **changes) as (state, _, port):
        yield state, port


@contextmanager
def admin_service(
    demo_state: Service, tmp: Path, token: str, **changes: object
) -> Iterator[tuple[Service, grpc.Channel]]:
    """second_service with an admin token, no scheduled retrain and a small precompute: the
    service a module of admin, metrics or fuzz tests changes."""
    quiet = {"retrain_interval_s": 0, "retrain_after_ratings": 0, "active_users": 100}
    with second_service(demo_state, tmp, admin_token=token, **{**quiet, **changes}) as service:
        yield service


@contextmanager
def second_service(
    demo_state: Service, tmp: Path, **changes: object
) -> Iterator[tuple[Service, grpc.Channel]]:
    """second_server, with a channel to it instead of its port."""
    with (
        second_server(demo_state, tmp, **changes) as (state, port),
        grpc.insecure_channel(f"127.0.0.1:{port}") as channel,
    ):
        yield state, channel


NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NatsServer:
    """A nats-server of a test's own, JetStream on, storing under `store`; it can be stopped
    and started again on the same port with the same store (an outage)."""

    def __init__(self, store: Path, options: Sequence[str] = ()) -> None:
        self.store = store
        self.options = list(options)  # more nats-server flags: TLS, users
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.store / "nats.log", "ab") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen(
                [NATS_SERVER, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd",
                 str(self.store / "js"), *self.options],
                stdout=log,
                stderr=log,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, (self.store / "nats.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "nats-server did not start"
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@pytest.fixture()
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def nats_url(nats_server: NatsServer) -> str:
    """The URL of a nats-server of this test's own, JetStream on, storing under tmp_path."""
    return nats_server.url
