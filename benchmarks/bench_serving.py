"""Serving benchmark: GetTopN on fresh lists vs an empty RPC over real gRPC, recompute latency and
server start time, written to benchmarks/results/serving.md and serving.json.

    .venv/bin/python benchmarks/bench_serving.py [--seconds 5] [--inflight 1,8,32]

The server runs as its own process (the real `movierec serve`), the load comes from this process
through grpc.aio with a fixed number of calls in flight. Both share this machine's cores, so the
figures are for client and server on one box.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import grpc
import numpy as np
from common import (
    RESULTS,
    ROOT,
    ServerProcess,
    ensure_model,
    machine,
    measure_levels,
    scratch_copy,
)
from grpc_health.v1 import health_pb2, health_pb2_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc


async def drive(target: str, users: list[str], levels: list[int], seconds: float) -> list[dict]:
    async with grpc.aio.insecure_channel(target) as channel:
        rec = pb_grpc.RecommendationServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        check = health_pb2.HealthCheckRequest()
        requests = [pb.GetTopNRequest(user_id=u, page_size=10) for u in users]

        async def top_n(i: int) -> object:
            return await rec.GetTopN(requests[i % len(requests)])

        async def empty(i: int) -> object:
            return await health.Check(check)

        first = await rec.GetTopN(requests[0])
        assert first.source == pb.RECOMMENDATION_SOURCE_PRECOMPUTED, first.source
        calls = [("empty RPC (health Check)", empty), ("GetTopN, fresh lists", top_n)]
        rows = await measure_levels(calls, levels, seconds)
    return rows


def measure_recompute(work: Path, repeats: int) -> dict:
    """p50/p99 of the stale-list path (recompute from factors + write-back), in-process."""
    from rec_service.app.config import Config
    from rec_service.app.service import Service
    from rec_service.core.recommender import now_us
    from rec_service.core.serving_model import MovieFilter

    state = Service(
        Config().replace(
            model_dir=str(work / "model"),
            ingest_dir=str(work / "ingest-in-process"),
            writeback_interval_s=3600,
        )
    )
    rec = state.load()
    users = list(rec.model.user_index)
    latencies = []
    for r in range(repeats):
        for user in users:
            rec.activity.record_activity(user, now_us())
            started = time.perf_counter()
            result = rec.top_n(user, 10, MovieFilter())
            latencies.append(time.perf_counter() - started)
            assert result.source.name == "RECOMPUTED", result.source
        if r == 0:
            latencies.clear()  # first pass warms caches
    flush_started = time.perf_counter()
    written = rec.lists.flush()
    flush_s = time.perf_counter() - flush_started
    state.close()
    lat = np.array(latencies) * 1000
    return {
        "n": len(lat),
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "max_ms": float(lat.max()),
        "flush_rows": written,
        "flush_s": flush_s,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per level")
    parser.add_argument("--inflight", default="1,8,32")
    parser.add_argument("--model-dir", default=str(ROOT / "var" / "model"))
    parser.add_argument("--recompute-repeats", type=int, default=5)
    args = parser.parse_args()
    levels = [int(x) for x in args.inflight.split(",")]
    ensure_model(args.model_dir)
    work = scratch_copy(args.model_dir, "serving")
    server = ServerProcess(work, "serving-server.log")
    try:
        start_s = server.wait()
        print(f"server start with a saved model: {start_s:.1f} s")
        users = json.loads((work / "model" / "user_ids.json").read_text())
        random.Random(1).shuffle(users)
        rows = asyncio.run(drive(server.target, users, levels, args.seconds))
    finally:
        server.stop()
    recompute = measure_recompute(work, args.recompute_repeats)
    print(
        f"stale-list recompute: p50={recompute['p50_ms']:.3f} ms p99={recompute['p99_ms']:.3f} ms"
    )
    write_report(rows, recompute, start_s, args)
    return 0


def write_report(
    rows: list[dict], recompute: dict, start_s: float, args: argparse.Namespace
) -> None:
    by = {(r["rpc"], r["inflight"]): r for r in rows}
    levels = sorted({r["inflight"] for r in rows})
    lines = [
        "# Serving benchmark",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        "- data: MovieLens latest-small (100,836 ratings, 610 users), shipped demo set",
        f"- command: `.venv/bin/python benchmarks/bench_serving.py --seconds {args.seconds} "
        f"--inflight {args.inflight}`",
        "- server: `movierec serve` in its own process (sync gRPC server, 16 threads); client: "
        "grpc.aio in this process, same machine",
        "",
        "## GetTopN (fresh precomputed lists, page_size 10) vs an empty RPC, same server, same run",
        "",
        "| in flight | empty RPC req/s | p50 ms | p99 ms | GetTopN req/s | p50 ms | p99 ms "
        "| GetTopN / empty |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in levels:
        e, t = by[("empty RPC (health Check)", n)], by[("GetTopN, fresh lists", n)]
        lines.append(
            f"| {n} | {e['rps']:.0f} | {e['p50_ms']:.2f} | {e['p99_ms']:.2f} | {t['rps']:.0f} "
            f"| {t['p50_ms']:.2f} | {t['p99_ms']:.2f} | {t['rps'] / e['rps']:.2f} |"
        )
    lines += [
        "",
        "## Stale-list recompute (in-process, no gRPC)",
        "",
        f"Every one of the 610 users made stale, then read: ranking all movies from the factors, "
        f"excluding rated ones, and writing the list back; {recompute['n']} reads.",
        "",
        "| p50 ms | p99 ms | max ms | batched write-back into rec_lists |",
        "|---:|---:|---:|---:|",
        f"| {recompute['p50_ms']:.3f} | {recompute['p99_ms']:.3f} | {recompute['max_ms']:.3f} "
        f"| {recompute['flush_rows']} rows in {recompute['flush_s']:.2f} s |",
        "",
        "## Server start with a saved model",
        "",
        f"From process launch to health SERVING: {start_s:.1f} s (JVM and Spark session start, "
        "data load, tables, bulk precompute of every active user's list).",
        "",
    ]
    (RESULTS / "serving.md").write_text("\n".join(lines))
    (RESULTS / "serving.json").write_text(
        json.dumps({"rows": rows, "recompute": recompute, "start_s": start_s}, indent=2)
    )
    print(f"wrote {RESULTS / 'serving.md'}")


if __name__ == "__main__":
    sys.exit(main())
