"""`movierec serve --processes N`: N replica processes on one machine sharing one port, so
every core serves (one Python process is bound by its GIL).

Each child is a whole `movierec serve` (its own JVM, model copy and lists), a replica of the
shared JetStream log like a replica on another machine, with its own ingest directory. The
port is shared with SO_REUSEPORT: the kernel spreads new connections over the processes. This
parent only supervises: the first child starts alone (it trains the model if there is none,
which the others then load), a child that dies is started again (it catches up from the log
before it serves), and SIGTERM/SIGINT are passed on to all.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from rec_service.app import config as config_mod

log = logging.getLogger(__name__)

RESTART_BACKOFF_S = 5.0
FIRST_START_TIMEOUT_S = 3600.0


def check_processes(cfg: config_mod.Config) -> None:
    """Refuses settings under which replicas on one machine would not be correct."""
    if cfg.log.backend != "jetstream":
        raise SystemExit(
            "serve --processes needs log_backend = jetstream: each process is a replica, and "
            "replicas must share the rating log (the file log belongs to one process)"
        )
    if cfg.server.port == 0:
        raise SystemExit("serve --processes needs a fixed --port, which the processes share")
    if cfg.tls.enabled:
        # The supervisor waits for the first process through its health check in plaintext.
        raise SystemExit(
            "serve --processes does not support TLS yet: run one `movierec serve "
            "--reuse-port true` per process under your own supervisor instead"
        )


def child_args(argv: Sequence[str], cfg: config_mod.Config, index: int) -> list[str]:
    """The `serve` command line of child `index`: the parent's, one process, the port shared,
    its own ingest directory, metrics port and dashboard port."""
    args = [
        sys.executable, "-m", "rec_service.edge.cli", "serve", *argv,
        "--processes", "1", "--reuse-port", "true",
        "--ingest-dir", str(Path(cfg.ingest.ingest_dir) / f"replica-{index}"),
    ]  # fmt: skip
    # A fixed port moves up by one per child; -1 (off) and 0 (any free port) stay as they are.
    if cfg.telemetry.metrics_port > 0:
        args += ["--metrics-port", str(cfg.telemetry.metrics_port + index)]
    if cfg.dashboard.port > 0:
        args += ["--dashboard-port", str(cfg.dashboard.port + index)]
    return args


def run_processes(argv: Sequence[str], cfg: config_mod.Config) -> int:
    check_processes(cfg)
    stopping = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        log.info("signal %s: stopping %d processes", signal.Signals(signum).name, count)
        stopping.set()

    count = cfg.server.processes
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children: list[subprocess.Popen[bytes] | None] = [None] * count
    try:
        first = children[0] = subprocess.Popen(child_args(argv, cfg, 0))
        if not _wait_serving(cfg, first, stopping):
            return 1
        for index in range(1, count):
            children[index] = subprocess.Popen(child_args(argv, cfg, index))
        log.info("%d processes serving on port %d", count, cfg.server.port)
        while not stopping.wait(1.0):
            for index, child in enumerate(children):
                if child is not None and child.poll() is not None:
                    log.error(
                        "process %d exited (%s); starting it again in %.0f s",
                        index,
                        child.returncode,
                        RESTART_BACKOFF_S,
                    )
                    if stopping.wait(RESTART_BACKOFF_S):
                        break
                    children[index] = subprocess.Popen(child_args(argv, cfg, index))
    finally:
        running = [c for c in children if c is not None and c.poll() is None]
        for child in running:
            child.terminate()
        for child in running:
            try:
                child.wait(timeout=cfg.server.shutdown_drain_s + cfg.server.shutdown_grace_s + 60)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0


def _wait_serving(
    cfg: config_mod.Config, child: subprocess.Popen[bytes], stopping: threading.Event
) -> bool:
    """Whether the first child came up (it may train the model first)."""
    target = f"{cfg.server.host}:{cfg.server.port}"
    deadline = time.monotonic() + FIRST_START_TIMEOUT_S
    with grpc.insecure_channel(target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline and not stopping.is_set():
            if child.poll() is not None:
                log.error("the first process exited (%s) before serving", child.returncode)
                return False
            try:
                answer = health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return True
            except grpc.RpcError:
                pass
            time.sleep(1.0)
    return False
