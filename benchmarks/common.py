"""Helpers the benchmark scripts share: a free port, waiting for SERVING, the real server as a
child process on scratch directories, and the machine description for reports."""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SCRATCH = ROOT / "var" / "bench"
MOVIEREC = str(ROOT / ".venv" / "bin" / "movierec")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_serving(target: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                status = stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                if status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.05)
    raise TimeoutError("server did not become SERVING")


def ensure_model(model_dir: str) -> None:
    """Trains the demo model into model_dir when there is none (own scratch rating log)."""
    if not (Path(model_dir) / "metadata.json").is_file():
        print("no saved model: training one first")
        subprocess.run(
            [MOVIEREC, "train", "--model-dir", model_dir, "--ingest-dir", str(SCRATCH / "train")],
            check=True,
        )


def scratch_copy(model_dir: str, name: str) -> Path:
    """A fresh scratch directory holding a copy of the model and an empty rating log, so a
    benchmark never writes into the user's model or log."""
    work = SCRATCH / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copytree(model_dir, work / "model")
    return work


class ServerProcess:
    """`movierec serve` in its own process; stopped with SIGTERM."""

    def __init__(self, work: Path, log_name: str, *flags: str) -> None:
        self.port = free_port()
        self.target = f"127.0.0.1:{self.port}"
        self._log = open(RESULTS / log_name, "w")  # noqa: SIM115 (closed in stop)
        args = [
            MOVIEREC, "serve", "--port", str(self.port),
            "--model-dir", str(work / "model"), "--ingest-dir", str(work / "ingest"), *flags,
        ]  # fmt: skip
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 300) -> float:
        """Seconds from launch to SERVING."""
        wait_serving(self.target, timeout)
        return time.perf_counter() - self.started

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self._log.close()


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )


sys.path.insert(0, str(ROOT))
