"""The benchmark suite: movierec against a MySQL baseline and a Spark SQL query per read, with
training cost and recommendation quality, written to benchmarks/results/REPORT.md + PNG charts.

    .venv/bin/python benchmarks/suite.py            # quick suite (under 10 minutes here)
    .venv/bin/python benchmarks/suite.py --full     # longer runs, more samples, 5M training

Sections: 1. list lookup vs data size (10k, 100k, 1M users x 50 movies); 2. GetTopN end to end
over gRPC, Spark SQL store vs MySQL store vs an empty RPC, fresh and a 10% stale mix;
3. PredictRating throughput and durable ingestion rate; 4. ALS training time and peak memory
vs ratings; 5. quality (`movierec evaluate`) on the demo data. Servers run as their own
processes on scratch copies of the model; the MySQL store uses the local MariaDB/MySQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import grpc
import lookup
import training
from bench_ingest import event_pool, ingest_rate
from common import RESULTS, ROOT, ServerProcess, ensure_model, machine, measure_levels, scratch_copy
from grpc_health.v1 import health_pb2, health_pb2_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

MODES = {
    "quick": {
        "sizes": [10_000, 100_000, 1_000_000],
        "spark_lookups": 60,
        "lookups": 2_000,
        "seconds": 3.0,
        "training": [100_000, 300_000],
    },
    "full": {
        "sizes": [10_000, 100_000, 1_000_000],
        "spark_lookups": 300,
        "lookups": 20_000,
        "seconds": 10.0,
        "training": [100_000, 1_000_000, 5_000_000],
    },
}
LEVELS = [1, 8, 32]
STALE_SHARE = 10  # one read in ten is by a user who has just rated


async def serve_levels(target: str, users: list[str], seconds: float, with_predict: bool) -> list:
    async with grpc.aio.insecure_channel(target) as channel:
        rec = pb_grpc.RecommendationServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        check = health_pb2.HealthCheckRequest()
        reads = [pb.GetTopNRequest(user_id=u, page_size=10) for u in users]
        predicts = [pb.PredictRatingRequest(user_id=u, movie_id="1") for u in users]
        rated = [
            pb.IngestRatingsRequest(events=[pb.RatingEvent(user_id=u, movie_id="1", rating=3.0)])
            for u in users
        ]

        async def empty(i: int) -> object:
            return await health.Check(check)

        async def fresh(i: int) -> object:
            return await rec.GetTopN(reads[i % len(reads)])

        async def stale_mix(i: int) -> object:
            if i % STALE_SHARE == 0:  # this user just rated: their list is stale
                await rec.IngestRatings(iter([rated[i % len(rated)]]))
            return await rec.GetTopN(reads[i % len(reads)])

        async def predict(i: int) -> object:
            return await rec.PredictRating(predicts[i % len(predicts)])

        calls = [("empty RPC", empty), ("GetTopN fresh", fresh), ("GetTopN 10% stale", stale_mix)]
        if with_predict:
            calls.append(("PredictRating", predict))
        rows = await measure_levels(calls, LEVELS, seconds)
    return rows


def end_to_end(model_dir: str, seconds: float) -> dict:
    users = json.loads((Path(model_dir) / "user_ids.json").read_text())
    random.Random(1).shuffle(users)
    result = {}
    for store in ("spark", "mysql"):
        work = scratch_copy(model_dir, f"suite-{store}")
        flags = ["--list-store", store, "--mysql-database", "movierec_suite",
                 "--retrain-interval-s", "0", "--retrain-after-ratings", "0"]  # fmt: skip
        if store == "mysql":
            subprocess.run(
                [sys.executable, "-c", "import pymysql; pymysql.connect(host='127.0.0.1', "
                 "user='root', autocommit=True).cursor().execute("
                 "'DROP DATABASE IF EXISTS movierec_suite')"],
                check=True,
            )  # fmt: skip
        server = ServerProcess(work, f"suite-{store}-server.log", *flags)
        try:
            start_s = server.wait()
            print(f"server with the {store} list store up in {start_s:.1f} s")
            rows = asyncio.run(serve_levels(server.target, users, seconds, store == "spark"))
            ingest = None
            if store == "spark":
                pool = event_pool(work / "model", 200, 500)
                ingest = ingest_rate(server.target, pool, 1, seconds, bidi=False)
                print(f"  ingestion {ingest['rate']:.0f} ratings/s")
        finally:
            server.stop()
        result[store] = {"start_s": start_s, "rows": rows, "ingest": ingest}
    return result


def quality(model_dir: str) -> dict:
    out = RESULTS / "quality.json"
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "movierec"), "evaluate", "--json", str(out),
         "--log-level", "WARNING"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return json.loads(out.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="the full suite (longer)")
    parser.add_argument("--model-dir", default=str(ROOT / "var" / "model"))
    args = parser.parse_args()
    mode = "full" if args.full else "quick"
    settings = MODES[mode]
    started = time.perf_counter()
    ensure_model(args.model_dir)

    sys.path.insert(0, str(ROOT))
    from spark_store.session import build_session

    spark = build_session(driver_memory="6g")
    lookups = lookup.run(spark, settings["sizes"], settings["spark_lookups"], settings["lookups"])
    spark.stop()
    e2e = end_to_end(args.model_dir, settings["seconds"])
    trainings = training.run(settings["training"], "6g")
    evaluation = quality(args.model_dir)
    elapsed = time.perf_counter() - started
    data = {
        "mode": mode,
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "machine": machine(),
        "seconds": elapsed,
        "lookup": lookups,
        "end_to_end": e2e,
        "training": trainings,
        "quality": evaluation,
    }
    (RESULTS / "suite.json").write_text(json.dumps(data, indent=2))
    import report

    report.write(data)
    print(f"suite ({mode}) took {elapsed / 60:.1f} min; wrote {RESULTS / 'REPORT.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
