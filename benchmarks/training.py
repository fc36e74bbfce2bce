"""Suite section 4: training time (all of a version's models: ranking ALS, bias-aware rating
ALS, Item-CF) and peak memory vs number of ratings.

Each size runs in a child process of its own (`python benchmarks/training.py N`), so its peak
memory is its own: the high-water resident set (VmHWM) of the Python driver plus its JVM.
Ratings are synthetic with a realistic skew: a few users rate a lot and a few movies get most
ratings (power-law draws), on a half-star scale.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

from common import child_result

ROOT = Path(__file__).resolve().parent.parent


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def synthetic(spark: object, n: int) -> object:
    from pyspark.sql import functions as F

    users = max(100, n // 100)
    movies = min(20_000, max(2_000, n // 200))
    return (
        spark.range(int(n * 1.5))  # type: ignore[attr-defined]
        .select(
            F.floor(F.lit(users) * F.pow(F.rand(1), 2)).cast("string").alias("user_id"),
            F.floor(F.lit(movies) * F.pow(F.rand(2), 3)).cast("string").alias("movie_id"),
            (F.round((F.lit(3.0) + F.randn(3)) * 2) / 2).alias("r"),
            F.lit(0).cast("long").alias("timestamp"),
        )
        .select(
            "user_id",
            "movie_id",
            F.least(F.lit(5.0), F.greatest(F.lit(0.5), F.col("r"))).alias("rating"),
            "timestamp",
        )
        .dropDuplicates(["user_id", "movie_id"])  # one rating per pair, then exactly n
        .limit(n)
    )


class Notes(logging.Handler):
    """Keeps what the co-ratings step says about its cap and path."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def child(n: int, driver_memory: str) -> None:
    sys.path.insert(0, str(ROOT))
    notes = Notes()
    item_models_log = logging.getLogger("spark_store.item_models")
    item_models_log.setLevel(logging.INFO)
    item_models_log.addHandler(notes)
    from rec_service.domain.model_types import ModelSettings
    from spark_store.models import train_models
    from spark_store.session import build_session

    spark = build_session(driver_memory=driver_memory)
    ratings = synthetic(spark, n).cache()  # type: ignore[attr-defined]
    count = ratings.count()
    started = time.perf_counter()
    trained = train_models(spark, ratings, ModelSettings())
    seconds = time.perf_counter() - started
    jvm = spark.sparkContext._gateway.proc.pid  # type: ignore[union-attr]
    print(
        json.dumps(
            {
                "requested": n,
                "ratings": count,
                "users": len(trained.user_ids),
                "movies": len(trained.item_ids),
                "seconds": seconds,
                "python_peak_mb": vm_hwm_mb(os.getpid()),
                "jvm_peak_mb": vm_hwm_mb(jvm),
                "driver_memory": driver_memory,
                "co_ratings": notes.lines,
            }
        )
    )
    spark.stop()


def run(sizes: list[int], driver_memory: str) -> list[dict]:
    rows = []
    for n in sizes:
        row = child_result(__file__, str(n), driver_memory)
        print(
            f"training {row['ratings']:>9} ratings: {row['seconds']:.1f} s, "
            f"peak {row['python_peak_mb'] + row['jvm_peak_mb']:.0f} MB"
        )
        rows.append(row)
    return rows


if __name__ == "__main__":
    child(int(sys.argv[1]), sys.argv[2])
