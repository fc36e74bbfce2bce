"""Server capacity with a load generator that is not Python: h2load (Debian's nghttp2-client)
sending gRPC-framed requests over HTTP/2, against 1 and 2 serving processes on this machine
(`movierec serve --processes N`, replicas of one JetStream log). Writes
benchmarks/results/capacity.md and .json.

    .venv/bin/python benchmarks/bench_capacity.py [--requests 20000] [--clients 8] [--streams 8]

Calls: the empty RPC (grpc.health.v1.Health/Check, the limit of the gRPC stack itself),
GetTopN for one user whose list is precomputed and fresh (the served path), and
PredictRating. Every request carries the same gRPC frame (one flag byte, a 4-byte length,
the protobuf), built here; one call of each is checked through a real gRPC client first, since
h2load counts HTTP status only. p50/p99 come from h2load's per-request log. h2load, the
servers and nats-server share the machine's 2 cores.
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
from datetime import UTC, datetime
from pathlib import Path

import grpc
from common import RESULTS, ROOT, SCRATCH, ensure_model, free_port, machine
from grpc_health.v1 import health_pb2, health_pb2_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

MOVIEREC = str(ROOT / ".venv" / "bin" / "movierec")
USER = "414"  # the demo data's most active user: a precomputed list
CALLS = {
    "empty RPC (Health/Check)": ("/grpc.health.v1.Health/Check", health_pb2.HealthCheckRequest()),
    "GetTopN (fresh precomputed list)": (
        "/movierec.v1.RecommendationService/GetTopN",
        pb.GetTopNRequest(user_id=USER, page_size=10),
    ),
    "PredictRating": (
        "/movierec.v1.RecommendationService/PredictRating",
        pb.PredictRatingRequest(user_id=USER, movie_id="1"),
    ),
}


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
) -> dict[str, float]:
    args = [
        binary, f"http://{target}{path}", "-n", str(requests), "-c", str(clients),
        "-m", str(streams), "-t", "1", "-d", str(body),
        "-H", "content-type: application/grpc", "-H", "te: trailers",
        f"--log-file={log}",
    ]  # fmt: skip
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rps = next(float(line.split(",")[1].split()[0]) for line in out.splitlines()
               if line.startswith("finished in"))  # fmt: skip
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
        "ok": ok,
        "p50_ms": statistics.median(times_ms),
        "p99_ms": times_ms[min(len(times_ms) - 1, int(0.99 * len(times_ms)))],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--streams", type=int, default=8, help="concurrent streams per client")
    parser.add_argument("--processes", default="1,2")
    args = parser.parse_args()
    binary = ensure_h2load()
    model_dir = str(ROOT / "var" / "model")
    ensure_model(model_dir)
    scratch = Path(tempfile.mkdtemp(prefix="movierec-bench-capacity-"))
    nats_port = free_port()
    nats = subprocess.Popen(
        [shutil.which("nats-server") or "/usr/sbin/nats-server", "-js", "-a", "127.0.0.1",
         "-p", str(nats_port), "-sd", str(scratch / "js")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    bodies = {}
    for name, (_, message) in CALLS.items():
        bodies[name] = scratch / f"{len(bodies)}.bin"
        bodies[name].write_bytes(framed(message))
    rows = []
    try:
        for processes in (int(p) for p in args.processes.split(",")):
            work = SCRATCH / f"capacity-{processes}"
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(model_dir, work / "model")
            port = free_port()
            target = f"127.0.0.1:{port}"
            log = open(RESULTS / f"capacity-{processes}-server.log", "w")  # noqa: SIM115
            server = subprocess.Popen(
                [MOVIEREC, "serve", "--processes", str(processes), "--port", str(port),
                 "--model-dir", str(work / "model"), "--ingest-dir", str(work / "ingest"),
                 "--log-backend", "jetstream", "--log-nats-url", f"nats://127.0.0.1:{nats_port}",
                 "--log-stream", f"CAPACITY_{processes}", "--retrain-interval-s", "0",
                 "--retrain-after-ratings", "0"],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                deadline = time.monotonic() + 900
                while not all_serving(target):
                    assert server.poll() is None, "the server exited; see its log"
                    assert time.monotonic() < deadline, "the processes did not all serve"
                    time.sleep(2)
                check_calls(target)
                for name, (path, _) in CALLS.items():
                    # a warm-up pass, then the measured one
                    h2load(binary, target, path, bodies[name], 2000, args.clients,
                           args.streams, scratch / "warm.log")  # fmt: skip
                    row = h2load(binary, target, path, bodies[name], args.requests, args.clients,
                                 args.streams, scratch / "run.log")  # fmt: skip
                    rows.append({"processes": processes, "call": name, **row})
                    print(rows[-1], flush=True)
            finally:
                server.terminate()
                server.wait(timeout=180)
                log.close()
    finally:
        nats.terminate()
        nats.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": vars(args),
        "rows": rows,
    }
    (RESULTS / "capacity.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Server capacity (h2load, gRPC-framed requests)",
        "",
        f"Machine: {machine()}. Command: `.venv/bin/python benchmarks/bench_capacity.py "
        f"--requests {args.requests} --clients {args.clients} --streams {args.streams}` "
        f"({result['when']}); {args.clients * args.streams} requests in flight. Protocol in the "
        "script's docstring.",
        "",
        "| processes | call | req/s | p50 ms | p99 ms | answered |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['processes']} | {r['call']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} "
            f"| {r['p99_ms']:.2f} | {r['ok']:,} |"
        )
    (RESULTS / "capacity.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
