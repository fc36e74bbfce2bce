"""What a model is trained on: a base ratings set plus logged ratings, merged and persisted.

The manifest (``<ingest_dir>/manifest.json``) names the current base: at first the shipped
MovieLens directory, later the Parquet snapshot a retrain wrote, with the number of the last
log segment merged into it. A retrain reads base + later segments, writes the merge as a new
snapshot, and only after the model trained on it is saved does the manifest move to it and the
merged segments get deleted: at every instant the manifest's base plus the segments on disk
hold every acknowledged rating.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from rec_service.domain.model_types import TrainingData
from spark_store.loaders import load_dataset
from spark_store.table_loader import TableLayout

PARQUET = "parquet"
MANIFEST = "manifest.json"
LOG_ROW = (
    "user_id string, movie_id string, rating double, timestamp long, segment long, offset long"
)


def read_ratings(spark: SparkSession, data: TrainingData) -> DataFrame:
    """The ratings (user_id, movie_id, rating, timestamp) of a TrainingData."""
    if data.format == PARQUET and not data.layout:
        return spark.read.parquet(data.path).select("user_id", "movie_id", "rating", "timestamp")
    layout = TableLayout.from_dict(data.layout) if data.layout else None
    return load_dataset(spark, data.path, data.format, layout).ratings


def read_manifest(ingest_dir: str | Path, default: TrainingData) -> TrainingData:
    path = Path(ingest_dir) / MANIFEST
    if not path.is_file():
        return default
    return TrainingData(**json.loads(path.read_text()))


def write_manifest(ingest_dir: str | Path, data: TrainingData) -> None:
    """Replaces the manifest atomically (write, fsync, rename, fsync the directory)."""
    directory = Path(ingest_dir)
    directory.mkdir(parents=True, exist_ok=True)  # with JetStream no file log made it
    staging = directory / (MANIFEST + ".tmp")
    with open(staging, "w") as fh:
        json.dump(data.as_dict(), fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    staging.replace(directory / MANIFEST)
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def merge_logged(
    spark: SparkSession, base: DataFrame, logged: Iterable[tuple[str, str, float, int, int, int]]
) -> DataFrame:
    """Base ratings plus logged ones (user, movie, rating, event_us, segment, offset); per
    (user, movie) the last logged rating wins over earlier ones and over the base."""
    rows = [(u, m, r, event_us // 1_000_000, seg, off) for u, m, r, event_us, seg, off in logged]
    # The rows were validated on ingestion; skipping Spark's per-row check saves seconds.
    log_df = spark.createDataFrame(rows, LOG_ROW, verifySchema=False)
    ordered = base.select(
        "user_id",
        "movie_id",
        "rating",
        "timestamp",
        F.lit(0).cast("long").alias("segment"),
        F.lit(0).cast("long").alias("offset"),
    ).unionByName(log_df)
    latest = F.max_by(F.struct("rating", "timestamp"), F.struct("segment", "offset"))
    return (
        ordered.groupBy("user_id", "movie_id")
        .agg(latest.alias("r"))
        .select("user_id", "movie_id", "r.rating", "r.timestamp")
    )


def delete_path(spark: SparkSession, path: str) -> None:
    """Deletes a snapshot directory on whatever file system holds it (local, HDFS, S3)."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    target = jvm.org.apache.hadoop.fs.Path(path)
    target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).delete(target, True)
