"""Builds the Spark session; the master URL is configuration: one code path, local or cluster."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

# A failing query is reported where it ran (an exception to the caller's code: an operator's
# INVALID_ARGUMENT, a retrain's logged failure). These loggers repeat it at ERROR with a JVM
# stack trace: PySpark's query-context loggers for every captured exception, and in local mode
# the executor and task scheduler for every failed task, so `raise_error('x')` in operator SQL
# would put a stack trace in the server log.
QUIET_PYTHON_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")
QUIET_JVM_LOGGERS = (
    "org.apache.spark.executor.Executor",
    "org.apache.spark.scheduler.TaskSetManager",
)


@dataclass(frozen=True)
class SparkSettings:
    """[spark] The Spark session every bulk job runs in."""

    flag_prefix: ClassVar[str] = "spark_"

    master: str = "local[2]"
    """Spark master URL: local[N] on one machine, spark://host:7077 or yarn for a cluster."""
    driver_memory: str = "auto"
    """Driver heap (e.g. 14g); auto: with a local master, where the driver runs every task too,
    half the machine's memory (its cgroup limit where lower), at least 4g; with a cluster 4g."""
    shuffle_partitions: int = 4
    """spark.sql.shuffle.partitions; the default 200 makes small jobs 2-5x slower."""
    conf: Mapping[str, str] = field(default_factory=dict)
    """Extra Spark settings (TOML table [spark.conf] or repeated --spark-conf k=v)."""
    checkpoint_dir: str = ""
    """Where Spark checkpoints cut long lineages (ALS's iterations); empty: a temporary
    directory for a local master. On a cluster, storage every executor reaches (hdfs://...)."""


# A local driver runs every task in its own heap, beside the cached tables the service serves.
# At 25M ratings a 4g heap trained and served but could not retrain beside the serving model
# (benchmarks/results/scale.md); half the memory leaves the other half to the Python process,
# which holds the served model and lists as NumPy.
AUTO_HEAP = "auto"
LOCAL_HEAP_SHARE = 0.5
MIN_HEAP_GIB = 4
CLUSTER_DRIVER_HEAP = "4g"


def driver_heap(setting: str, master: str) -> str:
    """The driver heap to start the JVM with: the setting, or what `auto` means here."""
    if setting != AUTO_HEAP:
        return setting
    if not master.startswith("local"):
        return CLUSTER_DRIVER_HEAP
    return f"{max(MIN_HEAP_GIB, int(machine_memory_bytes() * LOCAL_HEAP_SHARE / 2**30))}g"


def machine_memory_bytes() -> int:
    """Physical memory, or the container's cgroup limit where one is set and lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def build_session(
    master: str = "local[2]",
    driver_memory: str = AUTO_HEAP,
    shuffle_partitions: int = 4,
    extra_conf: Mapping[str, str] | None = None,
    app_name: str = "movierec",
    checkpoint_dir: str = "",
) -> SparkSession:
    """Returns the process's Spark session, creating it with these settings if none runs.

    Small shuffle partition counts matter here: with Spark's default of 200, fitting and bulk
    scoring on demo-sized data are several times slower
    (benchmarks/results/design-measurements.md).
    """
    if master.startswith("local"):
        # Local Python workers must be this interpreter (with NumPy), not whatever python3 is first
        # on PATH. On a cluster, set spark.pyspark.python for the executors instead.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # Spark's linear algebra uses the system's OpenBLAS when it is there (scripts/install and
    # the image put it there; ALS trains in 0.67x the time, benchmarks/results/blas.md). Spark
    # runs one task per core already: one OpenBLAS thread per call, or they oversubscribe.
    # The JVM (and the Python workers it starts) read this when they start, NumPy here not.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.driver.memory", driver_heap(driver_memory, master))
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
    )
    for key, value in (extra_conf or {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    if not master.startswith("local"):
        _ship_packages(spark)
    _set_checkpoint_dir(spark, master, checkpoint_dir)
    _quiet_query_errors(spark)
    log.info(
        "spark session up: master=%s driver heap=%s version=%s",
        master,
        spark.conf.get("spark.driver.memory"),
        spark.version,
    )
    return spark


def _ship_packages(spark: SparkSession) -> None:
    """Executors unpickle what the driver broadcasts (the bulk precompute's scoring model holds
    rec_service values), so on a cluster they need this project's packages: they are zipped
    from the driver's copy and shipped with the job, and need not be installed there. A 5M
    first start through a standalone cluster failed without this (ModuleNotFoundError:
    rec_service, in the precompute)."""
    import zipfile

    target = Path(tempfile.mkdtemp(prefix="movierec-py-")) / "movierec_packages.zip"
    atexit.register(shutil.rmtree, target.parent, ignore_errors=True)
    here = Path(__file__).parent  # spark_store, beside rec_service in the project
    roots = [here.parent / "rec_service", here]
    with zipfile.ZipFile(target, "w") as archive:
        for root in roots:
            for source in root.rglob("*.py"):
                archive.write(source, source.relative_to(root.parent))
    spark.sparkContext.addPyFile(str(target))


def _set_checkpoint_dir(spark: SparkSession, master: str, directory: str) -> None:
    """ALS cuts its lineage every checkpointInterval (10) iterations only where a checkpoint
    directory is set. Without one, a first start's 15-iteration rating model failed now and then
    with a StackOverflowError while a task deserialized the long lineage (seen once in four
    first starts here). Locally a temporary directory serves; a cluster needs shared storage."""
    if spark.sparkContext.getCheckpointDir() is not None:
        return
    if not directory and master.startswith("local"):
        directory = tempfile.mkdtemp(prefix="movierec-checkpoints-")
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
    if directory:
        spark.sparkContext.setCheckpointDir(directory)
    else:
        log.warning(
            "no spark_checkpoint_dir on a cluster: ALS lineage is not cut; set it to storage "
            "every executor reaches (hdfs://...)"
        )


def _quiet_query_errors(spark: SparkSession) -> None:
    for name in QUIET_PYTHON_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    fatal = jvm.org.apache.logging.log4j.Level.FATAL
    for name in QUIET_JVM_LOGGERS:
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(name, fatal)
