"""Soak: one `movierec serve` process under an hour of steady work, and what the hour does to
its memory, its latency and its errors. Writes benchmarks/results/soak.md, .json and soak.png.

    .venv/bin/python benchmarks/bench_soak.py [--minutes 60] [--reads-per-s 100]
        [--ratings-per-s 5] [--retrain-every-min 10] [--sql-every-s 60]

The load is fixed before it starts, in counts per second, never "as fast as it goes": reads
(GetTopN and PredictRating in turn, for the demo data's users in turn) sent open-loop at a
fixed rate, so a slow server shows as latency rather than as fewer calls; ratings of seeded
random users and movies, one client stream every 10 s at a fixed pace; TriggerRetrain every
`--retrain-every-min` minutes (tuning as the defaults do: reused while the data grew little);
QuerySql once every `--sql-every-s`. Every 10 s: the resident memory (VmRSS) of the server's
process and its descendants (the Spark JVM). Per minute: calls, p50 and p99 of the reads, and
every call that did not end OK, by method and status.

Aims (issue #26): no errors; resident memory after the first retrain grows by at most 10% over
the rest of the hour; the reads' p99 stays within 2x of the first minute's.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from common import (
    RESULTS,
    ROOT,
    ServerProcess,
    ensure_model,
    machine,
    python_command,
    resident_mb,
    scratch_copy,
    served_commit,
)
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

TOKEN = "soak-admin-token"
AUTH = (("authorization", f"Bearer {TOKEN}"),)
DATA = ROOT / "data" / "ml-latest-small"
SAMPLE_S = 10
RATING_STREAM_S = 10


class Tally:
    """Calls by minute: read latencies, and every call's outcome by method and status."""

    def __init__(self, started: float) -> None:
        self._started = started
        self._lock = threading.Lock()
        self.latencies: dict[int, list[float]] = defaultdict(list)
        self.outcomes: dict[int, Counter[tuple[str, str]]] = defaultdict(Counter)

    def minute(self) -> int:
        return int((time.monotonic() - self._started) // 60)

    def record(self, method: str, code: grpc.StatusCode, read_s: float | None = None) -> None:
        with self._lock:
            minute = self.minute()
            self.outcomes[minute][(method, code.name)] += 1
            if read_s is not None and code == grpc.StatusCode.OK:
                self.latencies[minute].append(read_s * 1000)


def reads(channel: grpc.Channel, tally: Tally, users: list[str], per_s: float, end: float) -> None:
    """Open loop: the i-th read is sent at start + i / per_s, whether or not earlier ones
    have been answered."""
    stub = pb_grpc.RecommendationServiceStub(channel)
    start, i = time.monotonic(), 0
    while True:
        due = start + i / per_s
        if due >= end:
            return
        time.sleep(max(0.0, due - time.monotonic()))
        user = users[(i // 2) % len(users)]
        if i % 2 == 0:
            method, future = (
                "GetTopN",
                stub.GetTopN.future(pb.GetTopNRequest(user_id=user, page_size=10), timeout=30),
            )
        else:
            method, future = (
                "PredictRating",
                stub.PredictRating.future(
                    pb.PredictRatingRequest(user_id=user, movie_id="1"), timeout=30
                ),
            )
        sent = time.perf_counter()

        def done(f: grpc.Future, method: str = method, sent: float = sent) -> None:
            tally.record(method, f.code(), time.perf_counter() - sent)

        future.add_done_callback(done)
        i += 1


def ratings(
    channel: grpc.Channel, tally: Tally, users: list[str], movies: list[str], per_s: float,
    end: float,
) -> None:  # fmt: skip
    """One client stream every RATING_STREAM_S seconds, its events paced at per_s."""
    stub = pb_grpc.RecommendationServiceStub(channel)
    rng = random.Random(42)
    while time.monotonic() < end:

        def stream() -> Any:
            for _ in range(int(per_s * RATING_STREAM_S)):
                event = pb.RatingEvent(
                    user_id=rng.choice(users),
                    movie_id=rng.choice(movies),
                    rating=rng.randrange(1, 11) / 2,
                )
                yield pb.IngestRatingsRequest(events=[event])
                time.sleep(1 / per_s)

        try:
            stub.IngestRatings(stream(), timeout=RATING_STREAM_S * 3)
            tally.record("IngestRatings", grpc.StatusCode.OK)
        except grpc.RpcError as exc:
            tally.record("IngestRatings", exc.code())


def every(period_s: float, end: float, action: Any) -> None:
    """action() at 0, period, 2 x period, ... until end."""
    start, n = time.monotonic(), 0
    while start + n * period_s < end:
        time.sleep(max(0.0, start + n * period_s - time.monotonic()))
        action()
        n += 1


def retrains_after_one_period(args: argparse.Namespace, end: float, retrain: Any) -> None:
    period_s = args.retrain_every_min * 60
    time.sleep(period_s)
    every(period_s, end, retrain)


def admin_calls(channel: grpc.Channel, tally: Tally, retrains: list[dict]) -> tuple[Any, Any]:
    admin = apb_grpc.AdminServiceStub(channel)

    def retrain() -> None:
        """Starts a retrain and waits for its end: its outcome counts like a call's."""
        try:
            job = admin.TriggerRetrain(apb.TriggerRetrainRequest(), metadata=AUTH, timeout=30).job
            tally.record("TriggerRetrain", grpc.StatusCode.OK)
            triggered = time.monotonic()
            while job.state == apb.RETRAIN_STATE_RUNNING:
                time.sleep(2)
                status = admin.GetRetrainStatus(apb.GetRetrainStatusRequest(), metadata=AUTH)
                job = status.job
        except grpc.RpcError as exc:
            tally.record("TriggerRetrain", exc.code())
            return
        retrains.append(
            {
                "at": triggered,
                "ended": time.monotonic(),
                "state": apb.RetrainState.Name(job.state).removeprefix("RETRAIN_STATE_").lower(),
                "tuning": job.tuning,
            }
        )
        if job.state != apb.RETRAIN_STATE_SUCCEEDED:
            tally.record("retrain", grpc.StatusCode.UNKNOWN)  # counted as an error

    def sql() -> None:
        query = apb.QuerySqlRequest(sql="SELECT COUNT(*) FROM rec_lists")
        try:
            admin.QuerySql(query, metadata=AUTH, timeout=60)
            tally.record("QuerySql", grpc.StatusCode.OK)
        except grpc.RpcError as exc:
            tally.record("QuerySql", exc.code())

    return retrain, sql


def summary(args: argparse.Namespace, tally: Tally, memory: list[dict], retrains: list[dict],
            started: float) -> dict[str, Any]:  # fmt: skip
    minutes = []
    for m in range(args.minutes):
        lat = np.array(tally.latencies.get(m, []))
        outcomes = tally.outcomes.get(m, Counter())
        minutes.append(
            {
                "minute": m,
                "reads": len(lat),
                "p50_ms": float(np.percentile(lat, 50)) if len(lat) else None,
                "p99_ms": float(np.percentile(lat, 99)) if len(lat) else None,
                "errors": {f"{k[0]} {k[1]}": v for k, v in outcomes.items() if k[1] != "OK"},
                "calls": sum(outcomes.values()),
            }
        )
    first_retrain_ended_s = retrains[0]["ended"] - started if retrains else 0.0
    return {
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "machine": machine(),
        "commit": served_commit(),
        "command": python_command(
            f"benchmarks/bench_soak.py --minutes {args.minutes} --reads-per-s "
            f"{args.reads_per_s:g} --ratings-per-s {args.ratings_per_s:g} --retrain-every-min "
            f"{args.retrain_every_min:g} --sql-every-s {args.sql_every_s:g}"
        ),
        "settings": vars(args),
        "minutes": minutes,
        "memory": memory,
        "retrains": [
            {
                "at_s": round(r["at"] - started, 1),
                "seconds": round(r["ended"] - r["at"], 1),
                "state": r["state"],
                "tuning": r["tuning"],
            }
            for r in retrains
        ],
        "first_retrain_ended_s": first_retrain_ended_s,
    }


def verdict(result: dict[str, Any]) -> dict[str, Any]:
    """The three aims, from the per-minute rows and the memory samples."""
    errors = sum(sum(m["errors"].values()) for m in result["minutes"])
    # Memory after the first retrain: the median of the last retrain period's samples over
    # the median of the first period's once it ended. A single sample is no measure: the JVM
    # peaks during each retrain and returns memory to the system now and then (dips of 2 GB).
    settle_s = result["first_retrain_ended_s"]
    period_s = result["settings"]["retrain_every_min"] * 60
    samples = [(s["at_s"], s["mb"]) for s in result["memory"] if s["at_s"] >= settle_s]
    first = [mb for at, mb in samples if at < settle_s + period_s]
    last = [mb for at, mb in samples if at >= samples[-1][0] - period_s] if samples else []
    growth = float(np.median(last) / np.median(first) - 1) if settle_s and first and last else None
    peak = (max(mb for _, mb in samples) / np.median(first) - 1) if growth is not None else None
    p99s = [m["p99_ms"] for m in result["minutes"] if m["p99_ms"] is not None]
    worst = max(p99s[1:]) / p99s[0] if len(p99s) > 1 else None
    return {
        "errors": errors,
        "memory_growth_after_first_retrain": growth,
        "memory_peak_after_first_retrain": peak,
        "memory_from_s": settle_s,
        "worst_p99_over_first_minute": worst,
    }


def chart(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (mem, lat, err) = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    mem.plot([s["at_s"] / 60 for s in result["memory"]], [s["mb"] for s in result["memory"]])
    mem.set_ylabel("resident MB\n(Python + JVM)")
    rows = [m for m in result["minutes"] if m["p99_ms"] is not None]
    lat.plot([m["minute"] for m in rows], [m["p99_ms"] for m in rows], "o-", label="p99")
    lat.plot([m["minute"] for m in rows], [m["p50_ms"] for m in rows], "o-", label="p50")
    lat.set_ylabel("read latency, ms")
    lat.legend()
    err.bar([m["minute"] for m in result["minutes"]],
            [sum(m["errors"].values()) for m in result["minutes"]])  # fmt: skip
    err.set_ylabel("calls not OK")
    err.set_xlabel("minute")
    for retrain in result["retrains"]:
        for axis in (mem, lat, err):
            axis.axvspan(retrain["at_s"] / 60, (retrain["at_s"] + retrain["seconds"]) / 60,
                         color="grey", alpha=0.2)  # fmt: skip
    mem.set_title("soak: one process, steady reads and ratings, a retrain every "
                  f"{result['settings']['retrain_every_min']:g} min (shaded)")  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def report(result: dict[str, Any]) -> str:
    v = result["verdict"]
    s = result["settings"]
    growth = v["memory_growth_after_first_retrain"]
    worst = v["worst_p99_over_first_minute"]
    lines = [
        f"# Soak: one process for {s['minutes']} minutes of steady work",
        "",
        f"- date: {result['date']}; commit {result['commit']}; {result['machine']}",
        f"- command: `{result['command']}`",
        f"- load: {s['reads_per_s']:g} reads/s open-loop (GetTopN and PredictRating in turn, "
        f"users in turn), {s['ratings_per_s']:g} ratings/s (a client stream every "
        f"{RATING_STREAM_S} s), TriggerRetrain every {s['retrain_every_min']:g} min, QuerySql "
        f"every {s['sql_every_s']:g} s; resident memory of the server and its JVM every "
        f"{SAMPLE_S} s",
        "",
        f"![soak]({s['out']}.png)",
        "",
        "| aim | measured | met |",
        "|---|---|---|",
        f"| no errors | {v['errors']} calls not OK | {'yes' if v['errors'] == 0 else 'no'} |",
        "| resident memory after the first retrain grows ≤ 10% | "
        + (f"{growth:+.1%}: median of the last {s['retrain_every_min']:g} min over that of the "
           f"first {s['retrain_every_min']:g} min from {v['memory_from_s'] / 60:.1f} min (single "
           f"samples reach {v['memory_peak_after_first_retrain']:+.1%} during retrains) | "
           f"{'yes' if growth <= 0.10 else 'no'} |"
           if growth is not None else "n/a | no |"),
        "| read p99 within 2x of the first minute's | "
        + (f"worst minute {worst:.2f}x | {'yes' if worst <= 2 else 'no'} |"
           if worst is not None else "n/a | no |"),
        "",
        "Retrains: " + "; ".join(
            f"at {r['at_s'] / 60:.1f} min, {r['seconds']:.0f} s, {r['state']}"
            + (f" ({r['tuning']})" if r["tuning"] else "")
            for r in result["retrains"]
        ) + ".",
        "",
        "| minute | reads | p50 ms | p99 ms | calls | not OK |",
        "|---:|---:|---:|---:|---:|---|",
    ]  # fmt: skip
    for m in result["minutes"]:
        p50 = f"{m['p50_ms']:.1f}" if m["p50_ms"] is not None else "-"
        p99 = f"{m['p99_ms']:.1f}" if m["p99_ms"] is not None else "-"
        errors = ", ".join(f"{k}: {n}" for k, n in m["errors"].items()) or "0"
        lines.append(f"| {m['minute']} | {m['reads']} | {p50} | {p99} | {m['calls']} | {errors} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--reads-per-s", type=float, default=100)
    parser.add_argument("--ratings-per-s", type=float, default=5)
    parser.add_argument("--retrain-every-min", type=float, default=10)
    parser.add_argument("--sql-every-s", type=float, default=60)
    parser.add_argument("--out", default="soak", help="name of the result files")
    parser.add_argument("--report", action="store_true", help="only rewrite the report")
    args = parser.parse_args()
    if args.report:  # from the saved measurements, with today's verdict and report code
        result = json.loads((RESULTS / f"{args.out}.json").read_text())
        result["verdict"] = verdict(result)
        write(result, args.out)
        return 0
    model_dir = str(ROOT / "var" / "model")
    ensure_model(model_dir)
    work = scratch_copy(model_dir, "soak")
    (work / "token").write_text(TOKEN)
    server = ServerProcess(
        work, f"{args.out}-server.log",
        "--admin-token-file", str(work / "token"), "--snapshot-dir", str(work / "snapshots"),
        "--retrain-interval-s", "0", "--retrain-after-ratings", "0",
    )  # fmt: skip
    try:
        server.wait(900)
        users = [str(u) for u in range(1, 611)]
        movies = [
            line.split(",", 1)[0] for line in (DATA / "movies.csv").read_text().splitlines()[1:]
        ]
        with grpc.insecure_channel(server.target) as channel:
            started = time.monotonic()
            end = started + args.minutes * 60
            tally = Tally(started)
            memory: list[dict] = []
            retrains: list[dict] = []
            retrain, sql = admin_calls(channel, tally, retrains)

            def sample() -> None:
                at = round(time.monotonic() - started, 1)
                memory.append({"at_s": at, "mb": round(resident_mb(server.proc.pid), 1)})

            workers = [
                threading.Thread(target=reads, args=(channel, tally, users, args.reads_per_s, end)),
                threading.Thread(
                    target=ratings, args=(channel, tally, users, movies, args.ratings_per_s, end)
                ),
                # the first retrain after one period, so the first minutes are a baseline
                threading.Thread(target=retrains_after_one_period, args=(args, end, retrain)),
                threading.Thread(target=every, args=(args.sql_every_s, end, sql)),
                threading.Thread(target=every, args=(SAMPLE_S, end, sample)),
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            time.sleep(5)  # the last reads' answers
            result = summary(args, tally, memory, retrains, started)
    finally:
        server.stop()
    result["verdict"] = verdict(result)
    write(result, args.out)
    return 0


def write(result: dict[str, Any], out: str) -> None:
    (RESULTS / f"{out}.json").write_text(json.dumps(result, indent=2) + "\n")
    chart(result, RESULTS / f"{out}.png")
    (RESULTS / f"{out}.md").write_text(report(result))
    print(report(result))


if __name__ == "__main__":
    raise SystemExit(main())
