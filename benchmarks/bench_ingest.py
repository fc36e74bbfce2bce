"""Ingestion benchmark: durable ingestion rate, acknowledgement-to-visible delay and retrain time,
written to benchmarks/results/ingest.md and ingest.json.

    .venv/bin/python benchmarks/bench_ingest.py [--seconds 10] [--producers 1,2,4]
    .venv/bin/python benchmarks/bench_ingest.py --rates-only PHASE [--runs 2]

--rates-only measures the sustained rates alone, on the file log and on JetStream (a
nats-server of the benchmark's own), and keeps them under PHASE (before, after, ...) in
results/ingest-rates.json and .md: the edge before and after a change, the same day (an older
commit's server is measured as bench_capacity.py's docstring says, with PYTHONPATH).

The real `movierec serve` runs in its own process on a scratch copy of the model with an empty
rating log; producers are threads of this process, so client and server share the machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import shutil
import statistics
import tempfile
import threading
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
    python_command,
    scratch_copy,
    served_commit,
    start_nats,
)
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

from rec_service.app.rating_logs.file_log import RatingLog
from rec_service.app.retrain import STAGES
from rec_service.core.durable_log import NewRating

TOKEN = "bench"
AUTH = (("authorization", f"Bearer {TOKEN}"),)
STEPS = [0.5 * k for k in range(1, 11)]


def event_pool(model_dir: Path, messages: int, per_message: int) -> list[list[pb.RatingEvent]]:
    """Pre-built batches of valid events (known and new users, rated movies), so the client's
    own cost of building messages stays out of the measurement."""
    users = json.loads((model_dir / "user_ids.json").read_text())
    movies = json.loads((model_dir / "item_ids.json").read_text())
    rng = random.Random(7)
    pool = []
    for _ in range(messages):
        batch = []
        for _ in range(per_message):
            user = rng.choice(users) if rng.random() < 0.8 else f"new-{rng.randrange(20_000)}"
            batch.append(
                pb.RatingEvent(user_id=user, movie_id=rng.choice(movies), rating=rng.choice(STEPS))
            )
        pool.append(batch)
    return pool


def ingest_rate(
    target: str, pool: list[list[pb.RatingEvent]], producers: int, seconds: float, bidi: bool
) -> dict:
    """`producers` concurrent streams send batches back to back for `seconds`; the rate counts
    events acknowledged as durable (the call's answer, or StreamRatings acks)."""
    accepted = [0] * producers
    stop_at = time.perf_counter() + seconds

    def produce(k: int) -> None:
        with grpc.insecure_channel(target) as channel:
            stub = pb_grpc.RecommendationServiceStub(channel)
            batches = itertools.islice(itertools.cycle(pool), k, None, producers)

            def messages(kind: type) -> object:
                for events in batches:
                    if time.perf_counter() >= stop_at:
                        return
                    yield kind(events=events)

            if bidi:
                for ack in stub.StreamRatings(messages(pb.StreamRatingsRequest)):
                    accepted[k] = ack.accepted_count
            else:
                accepted[k] = stub.IngestRatings(messages(pb.IngestRatingsRequest)).accepted_count

    started = time.perf_counter()
    threads = [threading.Thread(target=produce, args=(k,)) for k in range(producers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {
        "rpc": "StreamRatings" if bidi else "IngestRatings",
        "producers": producers,
        "accepted": sum(accepted),
        "seconds": elapsed,
        "rate": sum(accepted) / elapsed,
    }


def visible_delay(target: str, users: list[str], samples: int, background: bool) -> dict:
    """For each sample: a user dislikes the top movie of their list; from the moment the
    acknowledgement arrives, GetTopN is called until the movie is gone. Optionally with a
    producer ingesting continuously beside it."""
    stop = threading.Event()
    loader = None
    if background:
        background_events = [
            pb.RatingEvent(user_id=f"bg-{i}", movie_id="1", rating=3.0) for i in range(500)
        ]

        def load() -> None:
            with grpc.insecure_channel(target) as channel:
                stub = pb_grpc.RecommendationServiceStub(channel)
                while not stop.is_set():
                    stub.IngestRatings(
                        pb.IngestRatingsRequest(events=background_events) for _ in range(20)
                    )

        loader = threading.Thread(target=load)
        loader.start()
    delays, reads = [], []
    rng = random.Random(3)
    with grpc.insecure_channel(target) as channel:
        stub = pb_grpc.RecommendationServiceStub(channel)
        for user in rng.sample(users, samples):
            top = stub.GetTopN(pb.GetTopNRequest(user_id=user, page_size=10)).movies[0].movie_id
            dislike = pb.RatingEvent(user_id=user, movie_id=top, rating=0.5)
            stub.IngestRatings(iter([pb.IngestRatingsRequest(events=[dislike])]))
            acked = time.perf_counter()
            attempts = 0
            while True:
                attempts += 1
                resp = stub.GetTopN(pb.GetTopNRequest(user_id=user, page_size=10))
                if top not in {m.movie_id for m in resp.movies}:
                    break
            delays.append(time.perf_counter() - acked)
            reads.append(attempts)
    stop.set()
    if loader is not None:
        loader.join()
    ms = np.array(delays) * 1000
    return {
        "background_ingestion": background,
        "samples": samples,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
        "reads_needed_max": max(reads),
    }


def retrain_time(target: str) -> dict:
    with grpc.insecure_channel(target) as channel:
        admin = apb_grpc.AdminServiceStub(channel)
        before = admin.GetModelInfo(apb.GetModelInfoRequest(), metadata=AUTH)
        started = time.perf_counter()
        job = admin.TriggerRetrain(apb.TriggerRetrainRequest(), metadata=AUTH).job
        while job.state == apb.RETRAIN_STATE_RUNNING:
            time.sleep(0.1)
            job = admin.GetRetrainStatus(apb.GetRetrainStatusRequest(), metadata=AUTH).job
        wall = time.perf_counter() - started
        assert job.state == apb.RETRAIN_STATE_SUCCEEDED, job.error
        after = admin.GetModelInfo(apb.GetModelInfoRequest(), metadata=AUTH)
    return {
        "seconds": wall,
        "ratings_before": before.rating_count,
        "logged_merged": before.ratings_since_model,
        "ratings_after": after.rating_count,
        "fit_seconds": after.fit_seconds,
        "stages": dict(job.stage_seconds),
    }


def log_ceiling(batch: int, batches: int) -> dict:
    """The rating log alone, in process: appends of `batch` ratings, each fsync'd."""
    ratings = [NewRating(f"u{i % 600}", str(i % 9000), 4.0, None) for i in range(batch)]
    with tempfile.TemporaryDirectory(dir=ROOT / "var") as tmp:
        log = RatingLog(Path(tmp))
        fsyncs = []
        started = time.perf_counter()
        for _ in range(batches):
            t = time.perf_counter()
            log.append(ratings, accepted_us=1)
            fsyncs.append(time.perf_counter() - t)
        elapsed = time.perf_counter() - started
        log.close()
    return {
        "batch": batch,
        "rate": batch * batches / elapsed,
        "append_p50_ms": statistics.median(fsyncs) * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per rate level")
    parser.add_argument("--producers", default="1,2,4")
    parser.add_argument("--per-message", type=int, default=500, help="events per stream message")
    parser.add_argument("--samples", type=int, default=300, help="ack-to-visible samples")
    parser.add_argument("--model-dir", default=str(ROOT / "var" / "model"))
    parser.add_argument("--rates-only", metavar="PHASE", help="only the rates, on both logs")
    parser.add_argument("--runs", type=int, default=2, help="with --rates-only")
    args = parser.parse_args()
    ensure_model(args.model_dir)
    if args.rates_only:
        return rates_only(args)
    work = scratch_copy(args.model_dir, "ingest")
    pool = event_pool(work / "model", 400, args.per_message)
    users = json.loads((work / "model" / "user_ids.json").read_text())

    ceiling = log_ceiling(4096, 200)
    print(f"rating log alone: {ceiling['rate']:.0f} ratings/s")
    server = ServerProcess(
        work, "ingest-server.log", "--admin-token", TOKEN,
        "--retrain-interval-s", "0", "--retrain-after-ratings", "0",
    )  # fmt: skip
    try:
        start_s = server.wait()
        print(f"server up in {start_s:.1f} s")
        # First a retrain on the demo data plus a small log, then one after the heavy phases.
        with grpc.insecure_channel(server.target) as channel:
            stub = pb_grpc.RecommendationServiceStub(channel)
            stub.IngestRatings(iter([pb.IngestRatingsRequest(events=e) for e in pool[:2]]))
        retrains = [retrain_time(server.target)]
        print(f"retrain, small log: {retrains[0]['seconds']:.1f} s")
        rates = []
        for producers in [int(p) for p in args.producers.split(",")]:
            for bidi in (False, True):
                row = ingest_rate(server.target, pool, producers, args.seconds, bidi)
                rates.append(row)
                print(f"{row['rpc']:14} producers={producers}: {row['rate']:8.0f} ratings/s")
        delays = [visible_delay(server.target, users, args.samples, bg) for bg in (False, True)]
        for d in delays:
            print(
                f"ack-to-visible (background={d['background_ingestion']}): "
                f"p50={d['p50_ms']:.2f} ms p99={d['p99_ms']:.2f} ms"
            )
        retrains.append(retrain_time(server.target))
        print(f"retrain after the runs above: {retrains[1]['seconds']:.1f} s")
    finally:
        server.stop()
    write_report(args, ceiling, rates, delays, retrains)
    return 0


def rates_only(args: argparse.Namespace) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="movierec-bench-ingest-"))
    nats, nats_url = start_nats(scratch / "js")
    backends = {
        "file": (),
        "jetstream": ("--log-backend", "jetstream", "--log-nats-url", nats_url),
    }  # fmt: skip
    rows = []
    try:
        for run in range(args.runs):
            for backend, flags in backends.items():
                work = scratch_copy(args.model_dir, f"ingest-{backend}")
                pool = event_pool(work / "model", 400, args.per_message)
                server = ServerProcess(
                    work, f"ingest-{backend}-server.log", "--log-stream",
                    f"INGEST_{run}", "--retrain-interval-s", "0",
                    "--retrain-after-ratings", "0", *flags,
                )  # fmt: skip
                try:
                    server.wait()
                    for producers in [int(p) for p in args.producers.split(",")]:
                        for bidi in (False, True):
                            row = ingest_rate(server.target, pool, producers, args.seconds, bidi)
                            rows.append({"run": run, "log": backend, **row})
                            print(rows[-1], flush=True)
                finally:
                    server.stop()
    finally:
        nats.terminate()
        nats.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)
    path = RESULTS / "ingest-rates.json"
    phases = json.loads(path.read_text())["phases"] if path.exists() else {}
    phases[args.rates_only] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "commit": served_commit(),
        "command": python_command(
            f"benchmarks/bench_ingest.py --rates-only {args.rates_only} --runs {args.runs} "
            f"--seconds {args.seconds:g} --producers {args.producers} "
            f"--per-message {args.per_message}"
        ),
        "rows": rows,
    }
    path.write_text(json.dumps({"phases": phases}, indent=2) + "\n")
    report = rates_report(phases)
    (RESULTS / "ingest-rates.md").write_text(report)
    print(report)
    return 0


def rates_report(phases: dict) -> str:
    lines = [
        "# Sustained durable ingestion, by phase",
        "",
        "Ratings acknowledged as durable per second (range over the phase's runs); producers "
        "are threads of the benchmark process with sync gRPC clients, on the same machine.",
    ]
    for phase, data in phases.items():
        lines += [
            "",
            f"## {phase}: commit {data['commit']}, {data['when']}",
            "",
            f"Machine: {data['machine']}. Command: `{data['command']}`.",
            "",
            "| log | RPC | producers | ratings/s |",
            "|---|---|---:|---:|",
        ]
        keys = dict.fromkeys((r["log"], r["rpc"], r["producers"]) for r in data["rows"])
        for log, rpc, producers in keys:
            rates = [
                r["rate"]
                for r in data["rows"]
                if (r["log"], r["rpc"], r["producers"]) == (log, rpc, producers)
            ]
            span = f"{min(rates):,.0f}-{max(rates):,.0f}" if len(rates) > 1 else f"{rates[0]:,.0f}"
            lines.append(f"| {log} | {rpc} | {producers} | {span} |")
    return "\n".join(lines) + "\n"


def write_report(
    args: argparse.Namespace,
    ceiling: dict,
    rates: list[dict],
    delays: list[dict],
    retrains: list[dict],
) -> None:
    lines = [
        "# Ingestion benchmark",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        "- data: MovieLens latest-small (shipped demo set) and the model trained on it",
        f"- command: `.venv/bin/python benchmarks/bench_ingest.py --seconds {args.seconds} "
        f"--producers {args.producers} --per-message {args.per_message} "
        f"--samples {args.samples}`",
        "- server: `movierec serve` in its own process; producers: threads of the benchmark "
        "process (sync gRPC), same machine",
        "- every rate counts only ratings acknowledged as durable: appended to the rating log "
        "and fsync'd, folded in, last activity moved",
        "",
        "## Sustained durable ingestion",
        "",
        f"{args.per_message} events per stream message, valid events (80% known users, 20% new), "
        f"{args.seconds:g} s per row.",
        "",
        "| RPC | producers | ratings accepted | seconds | ratings/s |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rates:
        lines.append(
            f"| {r['rpc']} | {r['producers']} | {r['accepted']} | {r['seconds']:.1f} "
            f"| {r['rate']:.0f} |"
        )
    lines += [
        "",
        f"The rating log alone (in process, no gRPC, {ceiling['batch']} ratings per fsync'd "
        f"append): {ceiling['rate']:.0f} ratings/s, append + fsync p50 "
        f"{ceiling['append_p50_ms']:.2f} ms.",
        "",
        "## From acknowledgement to a GetTopN that reflects the rating",
        "",
        "A user rates the top movie of their list 0.5; from the moment IngestRatings answers, "
        "GetTopN is called until that movie is gone (recomputed from the folded-in vector).",
        "",
        "| ingestion beside it | samples | p50 ms | p99 ms | max ms | most reads needed |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for d in delays:
        lines.append(
            f"| {'one producer streaming' if d['background_ingestion'] else 'none'} "
            f"| {d['samples']} | {d['p50_ms']:.2f} | {d['p99_ms']:.2f} | {d['max_ms']:.2f} "
            f"| {d['reads_needed_max']} |"
        )
    lines += [
        "",
        "## Retrain (TriggerRetrain to SUCCEEDED, reads served throughout)",
        "",
        "First on the demo data plus 1,000 logged ratings, then after everything logged above. "
        "Logged ratings count once per (user, movie): re-sent pairs collapse in the merge.",
        "",
        "| retrain | training ratings before | logged (user, movie) merged | training ratings "
        "after | wall s | " + " | ".join(STAGES) + " |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(STAGES),
    ]
    for name, r in zip(("demo + small log", "after the runs above"), retrains, strict=True):
        stages = " | ".join(f"{r['stages'].get(s, 0.0):.2f}" for s in STAGES)
        lines.append(
            f"| {name} | {r['ratings_before']} | {r['logged_merged']} | {r['ratings_after']} "
            f"| **{r['seconds']:.1f}** | {stages} |"
        )
    lines.append("")
    (RESULTS / "ingest.md").write_text("\n".join(lines))
    (RESULTS / "ingest.json").write_text(
        json.dumps(
            {"log_ceiling": ceiling, "rates": rates, "delays": delays, "retrains": retrains},
            indent=2,
        )
    )
    print(f"wrote {RESULTS / 'ingest.md'}")


if __name__ == "__main__":
    raise SystemExit(main())
