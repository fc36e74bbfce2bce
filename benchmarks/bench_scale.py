"""The default path at a real catalogue's size: `movierec serve` with default settings (tuning
on) on synthetic sets shaped like MovieLens 25M, from no model to SERVING, then a retrain, with
what tuning measured and chose, peak memory, and the read latencies in process. Writes
benchmarks/results/scale.md and scale.json (rows are kept across runs: one per size, load and
master, the newest replacing the same kind).

    .venv/bin/python benchmarks/bench_scale.py --sizes 1000000 5000000 25000000
        [--stress] [--saved] [--flag=--spark-driver-memory=14g] [--spark-master spark://host:7077]

Each size: the data (benchmarks/scale_data.py, cached under build/scale-data/) is served by a
real `movierec serve` process on a scratch directory; the first start is timed from launch to
health SERVING (it trains, tunes, precomputes); GetModelInfo says what tuning measured, skipped
and chose, and its seconds; a retrain is triggered through the AdminService and timed (its
stage times kept); peak memory is the sum of each process's own high-water mark (the Python
server and the Spark JVM it starts), read just before the server stops. The server then stops
and a fresh process loads the saved model in process (`Service.load`) and times GetTopN on a
fresh list (second read of a user) and on a stale one (activity recorded, then read: the
recompute and write-back), over a seeded sample of users. `--stress` runs `stress-ng --cpu 2`
beside the server for the whole size (both cores busy).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from common import (
    RESULTS,
    ROOT,
    SCRATCH,
    ServerProcess,
    child_result,
    exponent,
    high_water_mb,
    machine,
    python_command,
    resident_mb,
    served_commit,
)
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc

TOKEN = "bench-scale-token"
AUTH = (("authorization", f"Bearer {TOKEN}"),)
QUIET = ("--retrain-interval-s", "0", "--retrain-after-ratings", "0", "--admin-token", TOKEN)
DATA = ROOT / "build" / "scale-data"
LATENCY_USERS = 500
JSON = RESULTS / "scale.json"


def data_dir(ratings: int) -> Path:
    if ratings == 0:
        return ROOT / "data" / "ml-latest-small"  # the demo data, the latency baseline
    where = DATA / f"{ratings}"
    if not (where / "ratings.csv").is_file():
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "scale_data.py"), str(ratings), str(where)],
            check=True,
        )
    return where


class PeakMemory:
    """Samples the server's resident set (process and JVM together) every two seconds."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_mb, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(2.0):
            self.peak_mb = max(self.peak_mb, resident_mb(self.pid))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


def model_info(admin: apb_grpc.AdminServiceStub) -> dict[str, Any]:
    info = admin.GetModelInfo(apb.GetModelInfoRequest(), metadata=AUTH)
    return {
        "ranker": info.ranker,
        "predictor": info.predictor,
        "candidates_measured": len(info.candidates),
        "skipped": list(info.skipped_candidates),
        "tuning_s": round(info.tuning_seconds, 1),
        "tuning_sample": info.tuning_sample,
        "tuning_decision": info.tuning_decision,
        "users": info.user_count,
        "movies": info.movie_count,
        "ratings": info.rating_count,
        "fit_s": round(info.fit_seconds, 1),
    }


def retrain(admin: apb_grpc.AdminServiceStub) -> dict[str, Any]:
    started = time.perf_counter()
    job = admin.TriggerRetrain(apb.TriggerRetrainRequest(), metadata=AUTH).job
    while job.state == apb.RETRAIN_STATE_RUNNING:
        time.sleep(2)
        job = admin.GetRetrainStatus(apb.GetRetrainStatusRequest(), metadata=AUTH).job
    outcome: dict[str, Any] = {
        "seconds": round(time.perf_counter() - started, 1),
        "stages": {k: round(v, 1) for k, v in job.stage_seconds.items()},
    }
    if job.state != apb.RETRAIN_STATE_SUCCEEDED:  # recorded: a failure is a finding
        error = job.error.splitlines()
        outcome["error"] = next((line for line in error if "Error:" in line), error[0])[:300]
    return outcome


def serve_size(ratings: int, args: argparse.Namespace) -> dict[str, Any]:
    data = data_dir(ratings)
    work = SCRATCH / f"scale-{ratings}"
    if not args.saved:  # a first start: no model, no log
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    flags = [*QUIET, "--data-dir", str(data), "--spark-master", args.spark_master, *args.flag]
    stress = subprocess.Popen(["stress-ng", "--cpu", "2"], stdout=subprocess.DEVNULL) if (
        args.stress
    ) else None  # fmt: skip
    server = ServerProcess(work, f"scale-{ratings}-server.log", *flags)
    memory = PeakMemory(server.proc.pid)
    try:
        first_start_s = server.wait(timeout=args.timeout_min * 60)
        print(f"{ratings:,}: SERVING after {first_start_s:.0f} s", flush=True)
        with grpc.insecure_channel(server.target) as channel:
            admin = apb_grpc.AdminServiceStub(channel)
            first = model_info(admin)
            print(f"  first start: {first}", flush=True)
            again = retrain(admin)
            print(f"  retrain: {again}", flush=True)
            after = model_info(admin)
        peak_hwm_mb = high_water_mb(server.proc.pid)
    finally:
        server.stop()
        sampled_peak_mb = memory.stop()
        if stress:
            stress.terminate()
            stress.wait()
    memory_flag = ["--memory", args.memory] if args.memory else []
    latencies = child_result(__file__, "--latencies", str(work), str(data), *memory_flag)
    print(f"  in process: {latencies}", flush=True)
    return {
        "ratings": ratings,
        "load": "stress-ng --cpu 2" if args.stress else "quiet",
        "master": args.spark_master,
        "start": "saved model" if args.saved else "first",
        "flags": args.flag,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": served_commit(),
        "first_start_s": round(first_start_s, 1),
        "first": first,
        "retrain": again,
        "after_retrain": after,
        "peak_hwm_mb": round(sum(peak_hwm_mb.values())),
        "peak_hwm_by_process_mb": {k: round(v) for k, v in peak_hwm_mb.items()},
        "peak_sampled_mb": round(sampled_peak_mb),
        "latencies": latencies,
    }


def measure_latencies(work: Path, data: Path, memory: str | None) -> dict[str, Any]:
    """GetTopN in process on the saved model: fresh (a user's second read) and stale (activity
    recorded, then read), over the same seeded sample of users."""
    sys.path.insert(0, str(ROOT))
    from rec_service.app.config import Config
    from rec_service.app.service import Service
    from rec_service.core.recommender import Source, now_us
    from rec_service.core.serving_model import MovieFilter

    settings: dict[str, Any] = {
        "model_dir": str(work / "model"),
        "ingest_dir": str(work / "ingest-in-process"),
        "data_dir": str(data),
        "writeback_interval_s": 3600,
    }
    if memory:
        settings["driver_memory"] = memory
    state = Service(Config().replace(**settings))
    rec = state.load()
    users = sorted(rec.model.user_index)
    sample = random.Random(42).sample(users, min(LATENCY_USERS, len(users)))
    fresh, stale = [], []
    for user in sample:
        rec.top_n(user, 10, MovieFilter())  # a list exists and is fresh after this
        started = time.perf_counter()
        result = rec.top_n(user, 10, MovieFilter())
        fresh.append(time.perf_counter() - started)
        assert result.source is Source.PRECOMPUTED, result.source
        rec.activity.record_activity(user, now_us())
        started = time.perf_counter()
        result = rec.top_n(user, 10, MovieFilter())
        stale.append(time.perf_counter() - started)
        assert result.source is Source.RECOMPUTED, result.source
    state.close()

    def ms(values: list[float]) -> dict[str, float]:
        lat = np.array(values[len(values) // 10 :]) * 1000  # the first tenth warms caches
        return {
            "p50_ms": round(float(np.percentile(lat, 50)), 3),
            "p99_ms": round(float(np.percentile(lat, 99)), 3),
        }

    return {"users": len(sample), "fresh": ms(fresh), "stale": ms(stale)}


def tuning_cell(row: dict[str, Any]) -> str:
    """Tuning's seconds and share of the start; a start on a saved model tuned nothing."""
    seconds = row["first"]["tuning_s"]
    if row.get("start", "first") != "first":
        return f"{seconds:.0f} (at its first start)"
    return f"{seconds:.0f} ({seconds / row['first_start_s']:.0%})"


def peak_cell(row: dict[str, Any]) -> str:
    peak = f"{row['peak_hwm_mb']:,}: {by_process(row)}"
    if "error" in row["retrain"]:  # read as the server went down with its JVM: not its peak
        return f"{peak} (read after the failed retrain; not a peak)"
    return peak


def retrain_cell(outcome: dict[str, Any]) -> str:
    seconds = f"{outcome['seconds']:.0f}"
    return f"failed after {seconds}: {outcome['error']}" if "error" in outcome else seconds


def by_process(row: dict[str, Any]) -> str:
    peaks = row.get("peak_hwm_by_process_mb", {})
    return " + ".join(f"{name} {mb:,}" for name, mb in sorted(peaks.items())) or "-"


def key(row: dict[str, Any]) -> tuple:
    return (row["ratings"], row["load"], row["master"], row.get("start", "first"))


def report(rows: list[dict[str, Any]], notes: list[str]) -> str:
    """scale.md: the table of rows, then `notes` (what runs that ended without a row showed,
    kept in scale.json by hand with the log lines they quote)."""
    demo = next((r for r in rows if r["ratings"] == 0 and r["load"] == "quiet"), None)
    lines = [
        "# The default path at 1M-25M ratings (tuning on)",
        "",
        "Written by `benchmarks/bench_scale.py` (method in its docstring). Synthetic data shaped "
        "like MovieLens 25M (`benchmarks/scale_data.py`, seed 7); size 0 is the demo data. "
        f"Machine: {machine()}.",
        "",
        "| ratings | load | master | flags | start | to SERVING s | tuning s (share) | measured | "
        "skipped | chosen ranker | retrain s | peak MB (sum of HWM: by process) | fresh p99 ms | "
        "stale p99 ms | commit, date |",
        "|---:|---|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    for r in sorted(rows, key=key):
        f = r["first"]
        lines.append(
            f"| {r['ratings']:,} | {r['load']} | {r['master']} | {' '.join(r['flags']) or '-'} "
            f"| {r.get('start', 'first')} | {r['first_start_s']:.0f} | {tuning_cell(r)} "
            f"| {f['candidates_measured']} "
            f"| {len(f['skipped'])} | {f['ranker']} | {retrain_cell(r['retrain'])} "
            f"| {peak_cell(r)} | {r['latencies']['fresh']['p99_ms']:.2f} "
            f"| {r['latencies']['stale']['p99_ms']:.2f} | {r['commit']}, {r['when'][:10]} |"
        )
    lines += ["", "Per size: the tuning sample, the retrain's decision and its stages.", ""]
    for r in sorted(rows, key=key):
        a = r["after_retrain"]
        stages = ", ".join(f"{k} {v:.0f} s" for k, v in r["retrain"]["stages"].items())
        decision = (
            f"failed ({r['retrain']['error']})" if "error" in r["retrain"] else a["tuning_decision"]
        )
        lines.append(
            f"- {r['ratings']:,}, {r['load']}, {r['master']}: {r['first']['tuning_sample']}; "
            f"retrain: {decision} ({stages})"
        )
    grown = [
        {"ratings": r["ratings"], "first": r["first_start_s"], "retrain": r["retrain"]["seconds"]}
        for r in sorted(rows, key=key)
        if r["ratings"] > 0
        and r["load"] == "quiet"
        and r["master"].startswith("local")
        and r.get("start", "first") == "first"
        and "error" not in r["retrain"]
    ]
    if len(grown) > 1:
        sizes = ", ".join(f"{r['ratings']:,}" for r in grown)
        lines += [
            "",
            f"Growth exponent over {sizes} ratings "
            f"(seconds ~ ratings^b): first start b = {exponent(grown, 'first'):.2f}, "
            f"retrain b = {exponent(grown, 'retrain'):.2f}.",
        ]
    if demo:
        lines += ["", "In-process GetTopN p99 against the demo data's (aim at 25M: within 2x):", ""]
        base = demo["latencies"]
        for r in sorted(rows, key=key):
            fresh = r["latencies"]["fresh"]["p99_ms"] / base["fresh"]["p99_ms"]
            stale = r["latencies"]["stale"]["p99_ms"] / base["stale"]["p99_ms"]
            lines.append(f"- {r['ratings']:,}, {r['load']}: fresh {fresh:.2f}x, stale {stale:.2f}x")
    if notes:
        lines += ["", "Runs that ended without a row:", ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--stress", action="store_true")
    parser.add_argument(
        "--saved", action="store_true", help="start on the model a first start left (no training)"
    )
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument(
        "--flag", action="append", default=[], help="a serve flag: --flag=--spark-driver-memory=14g"
    )
    parser.add_argument("--memory", help="driver memory of the in-process latency check")
    parser.add_argument("--timeout-min", type=float, default=90)
    parser.add_argument("--latencies", nargs=2, metavar=("WORK", "DATA"))
    args = parser.parse_args()
    if args.latencies:
        work, data = (Path(p) for p in args.latencies)
        print(json.dumps(measure_latencies(work, data, args.memory)))
        return 0
    saved = json.loads(JSON.read_text()) if JSON.is_file() else {}
    rows, notes = saved.get("rows", []), saved.get("notes", [])
    for ratings in args.sizes:
        row = serve_size(ratings, args)
        row["command"] = python_command("benchmarks/bench_scale.py " + " ".join(sys.argv[1:]))
        rows = [r for r in rows if key(r) != key(row)] + [row]
        JSON.write_text(json.dumps({"rows": rows, "notes": notes}, indent=2) + "\n")
        (RESULTS / "scale.md").write_text(report(rows, notes))
    print((RESULTS / "scale.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
