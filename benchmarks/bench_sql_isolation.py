"""GetTopN while an operator's heavy QuerySql runs: latency alone, then during a self-join of
`ratings` that runs until the SQL time limit cancels it. Writes
benchmarks/results/sql_isolation.md and .json.

    .venv/bin/python benchmarks/bench_sql_isolation.py [--seconds 20] [--inflight 8]

The real `movierec serve` runs in its own process on a scratch copy of the model; the reads
come from an asyncio gRPC client in this process, so client, server and Spark share the cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from datetime import UTC, datetime

import grpc
import numpy as np
from common import RESULTS, ROOT, ServerProcess, closed_loop, ensure_model, machine, scratch_copy
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

TOKEN = "bench-sql-token"
HEAVY = (
    "SELECT count(*) FROM ratings a JOIN ratings b ON a.movie_id = b.movie_id "
    "JOIN ratings c ON b.user_id = c.user_id"
)


async def reads(target: str, users: list[str], inflight: int, seconds: float) -> dict:
    errors = 0
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb_grpc.RecommendationServiceStub(channel)

        async def call(i: int) -> None:
            nonlocal errors
            try:
                await stub.GetTopN(pb.GetTopNRequest(user_id=users[i % len(users)]), timeout=10)
            except grpc.aio.AioRpcError:
                errors += 1

        await closed_loop(call, inflight, 1.0)  # warm-up
        rate, lat = await closed_loop(call, inflight, seconds)
    return {
        "rps": rate,
        "n": len(lat),
        "errors": errors,
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "max_ms": float(lat.max()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of reads per phase")
    parser.add_argument("--inflight", type=int, default=8)
    parser.add_argument("--model-dir", default=str(ROOT / "var" / "model"))
    args = parser.parse_args()
    ensure_model(args.model_dir)
    work = scratch_copy(args.model_dir, "sql-isolation")
    users = json.loads((work / "model" / "user_ids.json").read_text())[:500]
    limit_s = args.seconds + 10
    server = ServerProcess(
        work, "sql-isolation-server.log", "--admin-token", TOKEN,
        "--sql-timeout-s", str(limit_s), "--retrain-interval-s", "0",
        "--retrain-after-ratings", "0",
    )  # fmt: skip
    rows = {}
    outcome: dict[str, object] = {}
    try:
        print(f"server up in {server.wait():.1f} s")
        rows["alone"] = asyncio.run(reads(server.target, users, args.inflight, args.seconds))

        def heavy() -> None:
            started = time.perf_counter()
            with grpc.insecure_channel(server.target) as channel:
                try:
                    apb_grpc.AdminServiceStub(channel).QuerySql(
                        apb.QuerySqlRequest(sql=HEAVY),
                        metadata=(("authorization", f"Bearer {TOKEN}"),),
                    )
                    outcome["status"] = "OK"
                except grpc.RpcError as exc:
                    outcome["status"] = exc.code().name
            outcome["seconds"] = time.perf_counter() - started

        query = threading.Thread(target=heavy)
        query.start()
        time.sleep(2)  # the join is under way
        rows["during heavy query"] = asyncio.run(
            reads(server.target, users, args.inflight, args.seconds)
        )
        query.join()
        rows["after it was cancelled"] = asyncio.run(
            reads(server.target, users, args.inflight, min(args.seconds, 10))
        )
    finally:
        server.stop()
    for name, row in rows.items():
        print(
            f"{name:24} {row['rps']:7.0f}/s p50={row['p50_ms']:.2f} ms "
            f"p99={row['p99_ms']:.2f} ms errors={row['errors']}"
        )
    print(f"heavy query: {outcome['status']} after {outcome['seconds']:.1f} s (limit {limit_s} s)")
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "inflight": args.inflight,
        "seconds": args.seconds,
        "sql_timeout_s": limit_s,
        "heavy_query": HEAVY,
        "heavy_outcome": outcome,
        "phases": rows,
    }
    (RESULTS / "sql_isolation.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# GetTopN while an operator query runs",
        "",
        f"Machine: {machine()}. Command: `.venv/bin/python benchmarks/bench_sql_isolation.py "
        f"--seconds {args.seconds:g} --inflight {args.inflight}` ({result['when']}).",
        "",
        f"GetTopN for 500 demo users at {args.inflight} in flight, from an asyncio client in "
        "the benchmark's process, against `movierec serve` in its own process. During the "
        f"second phase QuerySql runs `{HEAVY}` until its time limit ({limit_s:g} s) cancels "
        f"it (outcome: {outcome['status']} after {outcome['seconds']:.1f} s).",
        "",
        "| phase | GetTopN/s | p50 (ms) | p99 (ms) | max (ms) | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {row['rps']:.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} "
            f"| {row['max_ms']:.1f} | {row['errors']} |"
        )
    (RESULTS / "sql_isolation.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
