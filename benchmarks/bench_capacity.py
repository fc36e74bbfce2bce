"""Server capacity with a load generator that is not Python: h2load (Debian's nghttp2-client)
sending gRPC-framed requests over HTTP/2, against the bare Python gRPC servers (the ceiling of
the stack: benchmarks/bare_server.py, thread pool and asyncio) and against movierec with 1 and 2
serving processes (`movierec serve --processes N`, replicas of one JetStream log), all in one
run. Writes benchmarks/results/capacity.md and .json.

    .venv/bin/python benchmarks/bench_capacity.py --phase NAME [--runs 2]
        [--requests 30000] [--clients 4] [--streams 32]

A phase's runs replace that phase's earlier ones in capacity.json; the report shows every
phase kept there (the edge before and after a change, measured the same day). To measure an
older commit's server with today's script: `git worktree add /work/before COMMIT`, link this
checkout's .venv and var into it, and run with PYTHONPATH=/work/before (the report records the
commit the servers ran, from served_commit).

Calls: the empty RPC (grpc.health.v1.Health/Check), GetTopN for one user whose list is
precomputed and fresh (the served path), the same GetTopN while a second h2load sends that
user a rating at a tenth of the fresh read rate (each rating makes the next read recompute the
list: the 10%-stale mix), and PredictRating. Every request carries the same gRPC frame (one
flag byte, a 4-byte length, the protobuf), built here; one call of each is checked through a
real gRPC client first, since h2load counts HTTP status only. The stale mix runs last on each
server: the lists and activity its ratings queue for the Spark tables are written back (Spark
jobs) for a while after it ends. p50/p99 come from h2load's per-request log. h2load, the
servers and nats-server share the machine's 2 cores; the servers of a run are measured one
after another, and the runs alternate their order.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from common import (
    RESULTS,
    ROOT,
    SCRATCH,
    ensure_model,
    free_port,
    machine,
    python_command,
    served_commit,
    start_nats,
)
from grpc_health.v1 import health_pb2, health_pb2_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

MOVIEREC = str(ROOT / ".venv" / "bin" / "movierec")
USER = "414"  # the demo data's most active user: a precomputed list
EMPTY = "empty RPC (Health/Check)"
STALE_MIX = "GetTopN, a rating before every tenth read"
CALLS = {
    EMPTY: ("/grpc.health.v1.Health/Check", health_pb2.HealthCheckRequest()),
    "GetTopN (fresh precomputed list)": (
        "/movierec.v1.RecommendationService/GetTopN",
        pb.GetTopNRequest(user_id=USER, page_size=10),
    ),
    "PredictRating": (
        "/movierec.v1.RecommendationService/PredictRating",
        pb.PredictRatingRequest(user_id=USER, movie_id="1"),
    ),
}


INGEST_PATH = "/movierec.v1.RecommendationService/IngestRatings"
RATING = pb.IngestRatingsRequest(
    events=[pb.RatingEvent(user_id=USER, movie_id="1", rating=4.0)]
)  # a client stream of one message: h2load sends it as one request body


def ensure_h2load() -> str:
    found = shutil.which("h2load")
    if found:
        return found
    print("h2load missing: installing Debian's nghttp2-client (apt)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "update", "-q"], check=True)
    subprocess.run(
        [*sudo, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q",
         "nghttp2-client"],
        check=True,
    )  # fmt: skip
    return shutil.which("h2load") or "/usr/bin/h2load"


def framed(message: object) -> bytes:
    body = message.SerializeToString()  # type: ignore[attr-defined]
    return struct.pack(">?I", False, len(body)) + body


def all_serving(target: str, checks: int = 40) -> bool:
    """Health SERVING on `checks` fresh connections in a row: with SO_REUSEPORT each new
    connection may land on any process, so every process is up."""
    for _ in range(checks):
        with grpc.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)]) as ch:
            try:
                status = (
                    health_pb2_grpc.HealthStub(ch)
                    .Check(health_pb2.HealthCheckRequest(), timeout=2)
                    .status
                )
            except grpc.RpcError:
                return False
            if status != health_pb2.HealthCheckResponse.SERVING:
                return False
    return True


def check_calls(target: str) -> None:
    with grpc.insecure_channel(target) as channel:
        health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        stub = pb_grpc.RecommendationServiceStub(channel)
        assert len(stub.GetTopN(CALLS["GetTopN (fresh precomputed list)"][1]).movies) == 10
        stub.PredictRating(CALLS["PredictRating"][1], timeout=10)


def h2load(
    binary: str,
    target: str,
    path: str,
    body: Path,
    requests: int,
    clients: int,
    streams: int,
    log: Path,
    extra: tuple[str, ...] = (),
) -> dict[str, float]:
    log.unlink(missing_ok=True)  # h2load appends to its log: each pass starts it afresh
    args = [
        binary, f"http://{target}{path}", "-n", str(requests), "-c", str(clients),
        "-m", str(streams), "-t", "1", "-d", str(body), *extra,
        "-H", "content-type: application/grpc", "-H", "te: trailers",
        f"--log-file={log}",
    ]  # fmt: skip
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    finished = next(line for line in out.splitlines() if line.startswith("finished in"))
    rps = float(finished.split(",")[1].split()[0])
    seconds = _seconds(finished.split()[2].rstrip(","))
    status = next(line for line in out.splitlines() if line.startswith("status codes:"))
    ok = int(status.split()[2])
    times_ms = []
    for line in log.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[1] == "200":
            times_ms.append(int(parts[2]) / 1000)  # microseconds in the log
    times_ms.sort()
    return {
        "rps": rps,
        "seconds": seconds,
        "ok": ok,
        "p50_ms": statistics.median(times_ms),
        "p99_ms": times_ms[min(len(times_ms) - 1, int(0.99 * len(times_ms)))],
    }


def _seconds(text: str) -> float:
    """h2load's duration ("812.5ms", "3.25s", "1m2.5s" is not used below an hour)."""
    for unit, scale in (("ms", 1e-3), ("us", 1e-6), ("s", 1.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    raise ValueError(f"unexpected h2load duration {text!r}")


@dataclass
class Load:
    """What every h2load pass of a run shares."""

    binary: str
    scratch: Path
    requests: int
    clients: int
    streams: int

    def body(self, message: object) -> Path:
        path = self.scratch / f"{abs(hash(message.SerializeToString()))}.bin"  # type: ignore[attr-defined]
        path.write_bytes(framed(message))
        return path

    def measure(self, target: str, path: str, message: object) -> dict[str, float]:
        body = self.body(message)
        # a warm-up pass, then the measured one
        h2load(self.binary, target, path, body, 2000, self.clients, self.streams,
               self.scratch / "warm.log")  # fmt: skip
        return h2load(self.binary, target, path, body, self.requests, self.clients,
                      self.streams, self.scratch / "run.log")  # fmt: skip

    def stale_mix(self, target: str, fresh_rps: float) -> dict[str, float]:
        """GetTopN with a second h2load sending ratings for the same user at a tenth of the
        fresh read rate: one connection, one rating in flight, each acknowledged only once
        durable. Reported with how many ratings fell per ten reads while both ran."""
        path, message = CALLS["GetTopN (fresh precomputed list)"]
        rating_rps = max(1, round(fresh_rps / 10))
        ratings = subprocess.Popen(
            [self.binary, f"http://{target}{INGEST_PATH}", "-n", str(self.requests // 10),
             "-c", "1", "-m", "1", "-t", "1", f"--rps={rating_rps}",
             "-d", str(self.body(RATING)), "-H", "content-type: application/grpc",
             "-H", "te: trailers"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        reads = h2load(self.binary, target, path, self.body(message), self.requests,
                       self.clients, self.streams, self.scratch / "run.log")  # fmt: skip
        out, _ = ratings.communicate(timeout=600)
        finished = next(line for line in out.splitlines() if line.startswith("finished in"))
        rating_seconds = _seconds(finished.split()[2].rstrip(","))
        status = next(line for line in out.splitlines() if line.startswith("status codes:"))
        answered = int(status.split()[2])
        overlap = min(rating_seconds, reads["seconds"])
        per_ten = 10 * answered * overlap / rating_seconds / (reads["rps"] * overlap)
        return {**reads, "ratings": answered, "ratings_per_10_reads": round(per_ten, 2)}


def bare_rows(load: Load, kind: str) -> list[dict[str, Any]]:
    port = free_port()
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "benchmarks" / "bare_server.py"),
         kind, str(port)],
    )  # fmt: skip
    try:
        target = f"127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while not all_serving(target, checks=1):
            assert server.poll() is None and time.monotonic() < deadline, "bare server down"
            time.sleep(0.5)
        path, message = CALLS[EMPTY]
        name = "grpc.server (thread pool)" if kind == "sync" else "grpc.aio.server"
        return [{"server": f"bare {name}", "call": EMPTY, **load.measure(target, path, message)}]
    finally:
        server.terminate()
        server.wait(timeout=30)


def movierec_rows(
    load: Load, processes: int, model_dir: str, nats_url: str
) -> list[dict[str, Any]]:
    work = SCRATCH / f"capacity-{processes}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(model_dir, work / "model")
    port = free_port()
    target = f"127.0.0.1:{port}"
    log = open(RESULTS / f"capacity-{processes}-server.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [MOVIEREC, "serve", "--processes", str(processes), "--port", str(port),
         "--model-dir", str(work / "model"), "--ingest-dir", str(work / "ingest"),
         "--log-backend", "jetstream", "--log-nats-url", nats_url,
         "--log-stream", f"CAPACITY_{processes}_{port}", "--retrain-interval-s", "0",
         "--retrain-after-ratings", "0"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    name = f"movierec, {processes} process{'es' if processes > 1 else ''}"
    rows: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + 900
        while not all_serving(target):
            assert server.poll() is None, "the server exited; see its log"
            assert time.monotonic() < deadline, "the processes did not all serve"
            time.sleep(2)
        check_calls(target)
        for call, (path, message) in CALLS.items():
            rows.append({"server": name, "call": call, **load.measure(target, path, message)})
            print(rows[-1], flush=True)
        # Last: its ratings leave work behind (lists and activity queued for the Spark
        # tables' write-back) that would run under whatever call was measured next.
        fresh = next(r for r in rows if r["call"] == "GetTopN (fresh precomputed list)")
        rows.append({"server": name, "call": STALE_MIX, **load.stale_mix(target, fresh["rps"])})
        print(rows[-1], flush=True)
    finally:
        server.terminate()
        server.wait(timeout=180)
        log.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phase", required=True, help="before, after, ...: the report's heading")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--requests", type=int, default=30000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--streams", type=int, default=32, help="concurrent streams per client")
    parser.add_argument("--processes", default="1,2")
    args = parser.parse_args()
    model_dir = str(ROOT / "var" / "model")
    ensure_model(model_dir)
    scratch = Path(tempfile.mkdtemp(prefix="movierec-bench-capacity-"))
    load = Load(ensure_h2load(), scratch, args.requests, args.clients, args.streams)
    nats, nats_url = start_nats(scratch / "js")
    servers: list[Callable[[], list[dict[str, Any]]]] = [
        lambda: bare_rows(load, "sync"),
        lambda: bare_rows(load, "aio"),
        *(
            (lambda p=p: movierec_rows(load, p, model_dir, nats_url))  # type: ignore[misc]
            for p in (int(p) for p in args.processes.split(","))
        ),
    ]
    runs = []
    try:
        for number in range(args.runs):
            order = servers if number % 2 == 0 else servers[::-1]
            rows = [row for measure in order for row in measure()]
            runs.append({"when": datetime.now(UTC).isoformat(timespec="seconds"), "rows": rows})
    finally:
        nats.terminate()
        nats.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)
    path = RESULTS / "capacity.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    phases = saved.get("phases", {})
    phases[args.phase] = {
        "machine": machine(),
        "commit": served_commit(),
        "command": python_command(
            "benchmarks/bench_capacity.py " + " ".join(f"--{k} {v}" for k, v in vars(args).items())
        ),
        "runs": runs,
    }
    path.write_text(json.dumps({"phases": phases}, indent=2) + "\n")
    (RESULTS / "capacity.md").write_text(report(phases))
    print(report(phases))
    return 0


def report(phases: dict[str, Any]) -> str:
    lines = [
        "# Server capacity (h2load, gRPC-framed requests)",
        "",
        "Protocol in `benchmarks/bench_capacity.py`'s docstring. Each figure is the range over "
        "the phase's runs; x empty is the call's req/s over the same server's empty call, "
        "x aio over the bare grpc.aio.server's, both from the same run (lowest to highest).",
    ]
    for phase, data in phases.items():
        runs = data["runs"]
        first = runs[0]
        lines += [
            "",
            f"## {phase}: commit {data['commit']}, {runs[0]['when']} to {runs[-1]['when']}",
            "",
            f"Machine: {data['machine']}. Command: `{data['command']}`; {len(runs)} runs.",
            "",
            "| server | call | req/s | x empty | x aio | p50 ms | p99 ms | answered |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for row in first["rows"]:
            same = [_find(run, row["server"], row["call"]) for run in runs]
            empty = [_find(run, row["server"], EMPTY)["rps"] for run in runs]
            aio = [_find(run, "bare grpc.aio.server", EMPTY)["rps"] for run in runs]
            extra = (
                f" ({_span([r['ratings_per_10_reads'] for r in same], '.2f')} ratings per 10 reads)"
                if row["call"] == STALE_MIX
                else ""
            )
            lines.append(
                f"| {row['server']} | {row['call']}{extra} | {_span([r['rps'] for r in same])} "
                f"| {_span([r['rps'] / e for r, e in zip(same, empty, strict=True)], '.2f')} "
                f"| {_span([r['rps'] / a for r, a in zip(same, aio, strict=True)], '.2f')} "
                f"| {_span([r['p50_ms'] for r in same], '.1f')} "
                f"| {_span([r['p99_ms'] for r in same], '.1f')} "
                f"| {min(r['ok'] for r in same):,} |"
            )
    return "\n".join(lines) + "\n"


def _find(run: dict[str, Any], server: str, call: str) -> dict[str, Any]:
    return next(r for r in run["rows"] if r["server"] == server and r["call"] == call)


def _span(values: list[float], spec: str = ",.0f") -> str:
    low, high = min(values), max(values)
    return f"{low:{spec}}" if f"{low:{spec}}" == f"{high:{spec}}" else f"{low:{spec}}-{high:{spec}}"


if __name__ == "__main__":
    raise SystemExit(main())
