"""Helpers the benchmark scripts share: a free port, waiting for SERVING, the real server as a
child process on scratch directories, and the machine description for reports."""

from __future__ import annotations

import asyncio
import math
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import grpc
import numpy as np
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
        """Seconds from launch to SERVING; fails at once if the server exits instead."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}); see its log")
            try:
                wait_serving(self.target, min(5.0, max(0.1, deadline - time.monotonic())))
                return time.perf_counter() - self.started
            except TimeoutError:
                if time.monotonic() >= deadline:
                    raise

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self._log.close()


async def closed_loop(
    call: Callable[[int], Awaitable[object]], inflight: int, seconds: float
) -> tuple[float, np.ndarray]:
    """`inflight` workers each issue calls back to back for `seconds`; returns (rate, latencies
    in ms)."""
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def worker(seed: int) -> None:
        i = seed
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            await call(i)
            latencies.append(time.perf_counter() - started)
            i += inflight

    started = time.perf_counter()
    await asyncio.gather(*(worker(s) for s in range(inflight)))
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, np.array(latencies) * 1000


async def measure_levels(
    calls: Sequence[tuple[str, Callable[[int], Awaitable[object]]]],
    levels: Sequence[int],
    seconds: float,
) -> list[dict]:
    """Every call at every in-flight level, each after a short warm-up: rate, p50 and p99."""
    rows = []
    for inflight in levels:
        for name, call in calls:
            await closed_loop(call, inflight, min(1.0, seconds))  # warm-up
            rate, lat = await closed_loop(call, inflight, seconds)
            rows.append(
                {
                    "rpc": name,
                    "inflight": inflight,
                    "rps": rate,
                    "n": len(lat),
                    "p50_ms": float(np.percentile(lat, 50)),
                    "p99_ms": float(np.percentile(lat, 99)),
                }
            )
            print(
                f"  {name:26} inflight={inflight:3d} {rate:8.0f}/s "
                f"p50={rows[-1]['p50_ms']:.2f} ms p99={rows[-1]['p99_ms']:.2f} ms"
            )
    return rows


def family(pid: int) -> set[int]:
    """The process and every descendant (the JVM Spark starts)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        parents[int(stat.parent.name)] = int(fields[1])
    members, grew = {pid}, True
    while grew:
        more = {p for p, parent in parents.items() if parent in members} - members
        members |= more
        grew = bool(more)
    return members


def _status_mb(pids: set[int], field: str) -> float:
    total_kb = 0
    for member in pids:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


def resident_mb(pid: int) -> float:
    """VmRSS of the process and every descendant, in MB."""
    return _status_mb(family(pid), "VmRSS")


def high_water_mb(pid: int) -> dict[str, float]:
    """Each process's own peak resident set (VmHWM) over the process and its descendants, in
    MB, by command name (python, java). Their sum is at least the peak of them together, since
    each may peak at another time."""
    peaks: dict[str, float] = {}
    for member in family(pid):
        try:
            name = Path(f"/proc/{member}/comm").read_text().strip()
        except OSError:
            continue
        peaks[name] = peaks.get(name, 0.0) + _status_mb({member}, "VmHWM")
    return peaks


def exponent(rows: list[dict], key: str) -> float:
    """b of value ~ ratings^b: the least-squares slope of log(row[key]) on log(ratings)."""
    xs = [math.log(r["ratings"]) for r in rows]
    ys = [math.log(r[key]) for r in rows]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def child_result(script: str, *args: str) -> dict:
    """Runs `python script args` in a process of its own (so its peak memory is its own) and
    returns the JSON object its last output line holds."""
    import json

    out = subprocess.run(
        [sys.executable, script, *args], check=True, capture_output=True, text=True
    ).stdout
    result: dict = json.loads(out.strip().splitlines()[-1])
    return result


def start_nats(store: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A nats-server with JetStream of the benchmark's own, storing under `store`; its URL."""
    port = free_port()
    nats_server = shutil.which("nats-server") or "/usr/sbin/nats-server"
    proc = subprocess.Popen(
        [nats_server, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    return proc, f"nats://127.0.0.1:{port}"


def python_command(script_and_args: str) -> str:
    """The command line that ran this benchmark, for its report: PYTHONPATH included when set,
    since it decides which rec_service the servers run (see served_commit)."""
    where = os.environ.get("PYTHONPATH")
    return f"{f'PYTHONPATH={where} ' if where else ''}.venv/bin/python {script_and_args}"


def served_commit() -> str:
    """The commit of the rec_service that `movierec serve` imports here: this checkout's, or
    another worktree's when PYTHONPATH names it (how a "before" phase measures an older edge)."""
    where = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c",
         "import os, rec_service; print(os.path.dirname(rec_service.__file__))"],
        capture_output=True, text=True, check=True, cwd="/",  # not this checkout: as a script
    ).stdout.strip()  # fmt: skip
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=where
    ).stdout.strip()


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )


sys.path.insert(0, str(ROOT))
