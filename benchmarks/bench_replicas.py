"""Scale-out benchmark: the JetStream rating log against the file log, and how long a rating
accepted at one replica takes to be readable at another. Writes
benchmarks/results/replicas.md and .json.

    .venv/bin/python benchmarks/bench_replicas.py [--seconds 5] [--samples 200]

1. Durable append rate, in this process, no gRPC: batches of 1, 64 and 1024 ratings appended
   to the file log (write + fsync) and to a JetStream stream (publish, acknowledged once
   stored on disk by a nats-server with file storage, started here on a scratch directory).
2. Cross-replica delay: two `movierec serve --log-backend jetstream` replicas on the demo model;
   a client rates one movie at replica A, then asks replica B for that user's GetTopN with A's
   `log_position`. Delay = from A's acknowledgement to B's answer (which waits until B applied
   the rating), as p50/p99 over the samples. Client, servers and nats-server share the 2 cores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import grpc
from common import (
    RESULTS,
    ROOT,
    SCRATCH,
    ServerProcess,
    ensure_model,
    machine,
    start_nats,
)
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

from rec_service.app.rating_logs.file_log import RatingLog
from rec_service.app.rating_logs.jetstream import JetStreamLog
from rec_service.core.durable_log import NewRating

BATCHES = (1, 64, 1024)
MOVIES = ["1", "2", "3", "6", "10", "32", "47", "50", "110", "150"]


def append_rate(log: RatingLog | JetStreamLog, batch: int, seconds: float) -> float:
    """Ratings per second made durable, one batch after another."""
    ratings = [NewRating(f"u{i}", MOVIES[i % len(MOVIES)], 4.0, None) for i in range(batch)]
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        log.append(ratings, accepted_us=time.time_ns() // 1000)
        done += batch
    return done / (time.perf_counter() - started)


def cross_replica_delays(url: str, samples: int) -> list[float]:
    model_dir = str(ROOT / "var" / "model")
    ensure_model(model_dir)
    shared = SCRATCH / "replicas"
    shutil.rmtree(shared, ignore_errors=True)
    shutil.copytree(model_dir, shared / "model")
    flags = (
        "--model-dir", str(shared / "model"), "--log-backend", "jetstream",
        "--log-nats-url", url, "--log-stream", "BENCH_REPLICAS",
        "--retrain-interval-s", "0", "--retrain-after-ratings", "0",
    )  # fmt: skip
    servers = []
    try:
        for name in ("a", "b"):
            server = ServerProcess(shared / name, f"replicas-{name}-server.log", *flags)
            server.wait(timeout=900)
            servers.append(server)
        a, b = servers
        delays = []
        with grpc.insecure_channel(a.target) as to_a, grpc.insecure_channel(b.target) as to_b:
            at_a = pb_grpc.RecommendationServiceStub(to_a)
            at_b = pb_grpc.RecommendationServiceStub(to_b)
            for i in range(samples):
                user = f"bench-replica-{i}"
                event = pb.RatingEvent(user_id=user, movie_id=MOVIES[i % len(MOVIES)], rating=4.5)
                answer = at_a.IngestRatings(iter([pb.IngestRatingsRequest(events=[event])]))
                acked = time.perf_counter()
                at_b.GetTopN(
                    pb.GetTopNRequest(
                        user_id=user, page_size=10, min_log_position=answer.log_position
                    )
                )
                delays.append(time.perf_counter() - acked)
        return delays
    finally:
        for server in servers:
            server.stop()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per append rate")
    parser.add_argument("--samples", type=int, default=200, help="cross-replica reads")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="movierec-bench-replicas-"))
    nats_proc, url = start_nats(scratch / "js")
    try:
        rates: dict[str, dict[int, float]] = {"file log (fsync)": {}, "JetStream (acked)": {}}
        file_log = RatingLog(scratch / "file-log")
        stream = JetStreamLog(url, "BENCH_APPEND")
        try:
            for batch in BATCHES:
                rates["file log (fsync)"][batch] = append_rate(file_log, batch, args.seconds)
                rates["JetStream (acked)"][batch] = append_rate(stream, batch, args.seconds)
                print(
                    f"batch {batch}: "
                    + ", ".join(f"{k} {v[batch]:.0f}/s" for k, v in rates.items())
                )
        finally:
            file_log.close()
            stream.close()
        delays = cross_replica_delays(url, args.samples)
    finally:
        nats_proc.terminate()
        nats_proc.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)
    ms = [d * 1000 for d in delays]
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "append_ratings_per_s": {k: {str(b): v for b, v in r.items()} for k, r in rates.items()},
        "cross_replica_ms": {
            "p50": statistics.median(ms),
            "p99": percentile(ms, 0.99),
            "max": max(ms),
            "samples": len(ms),
        },
    }
    (RESULTS / "replicas.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Replicas: JetStream log and cross-replica delay",
        "",
        f"Machine: {machine()}. Command: `.venv/bin/python benchmarks/bench_replicas.py "
        f"--seconds {args.seconds:g} --samples {args.samples}` ({result['when']}). Protocol in "
        "the script's docstring.",
        "",
        "Durable appends, ratings per second (one batch after another, one writer):",
        "",
        "| log | " + " | ".join(f"batch {b}" for b in BATCHES) + " |",
        "|---|" + "---:|" * len(BATCHES),
    ]
    for name, by_batch in rates.items():
        lines.append(f"| {name} | " + " | ".join(f"{by_batch[b]:,.0f}" for b in BATCHES) + " |")
    c = result["cross_replica_ms"]
    lines += [
        "",
        f"Rating accepted at replica A to GetTopN answered at replica B with A's log position "
        f"({c['samples']} samples): p50 {c['p50']:.1f} ms, p99 {c['p99']:.1f} ms, "
        f"max {c['max']:.1f} ms.",
        "",
    ]
    (RESULTS / "replicas.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
