"""Where a model directory lives: a local path, or any Spark/Hadoop filesystem URL.

A plain path (`var/model`, `/srv/movierec/model`) is read and written with Python's own file
calls, as before. A URL (`hdfs://namenode/movierec/model`, `s3a://bucket/model`,
`file:///mnt/shared/model`) goes through Hadoop's FileSystem API in the Spark driver's JVM, so
every filesystem Spark is configured for works, with the same settings (core-site.xml,
`spark.hadoop.*`). Spark's own model writers take either form unchanged.

A new model is written into a fresh sibling and then renamed over the old one. On local disks
and HDFS a rename is atomic; on object stores (s3a, gs) it is a copy, so a reader could meet a
half-renamed directory. Replicas load only an announced version (docs/scaling.md), which is
named after the rename has finished.
"""

from __future__ import annotations

import re
import shutil
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(location: str) -> bool:
    return bool(URL.match(location))


class ModelDir(ABC):
    """One model directory: small files by name, and the location Spark's writers take."""

    location: str

    def child(self, name: str) -> str:
        """Where Spark writes or reads the entry `name` (an ALS model's directory)."""
        return f"{self.location.rstrip('/')}/{name}"

    @abstractmethod
    def is_file(self, name: str) -> bool: ...

    @abstractmethod
    def read_bytes(self, name: str) -> bytes: ...

    @abstractmethod
    def write_bytes(self, name: str, data: bytes) -> None: ...

    @abstractmethod
    def staging(self) -> ModelDir:
        """A new, empty sibling directory to write the next model into."""

    @abstractmethod
    def replace_with(self, staging: ModelDir) -> None:
        """Puts `staging` at this directory's place, then removes what was there."""

    @abstractmethod
    def remove(self) -> None:
        """Deletes this directory and all in it (a staging one a cancelled save leaves)."""

    def read_text(self, name: str) -> str:
        return self.read_bytes(name).decode("utf-8")

    def write_text(self, name: str, text: str) -> None:
        self.write_bytes(name, text.encode("utf-8"))


def _stamp() -> int:
    return int(time.time() * 1e6)


class LocalDir(ModelDir):
    def __init__(self, location: str | Path) -> None:
        self.path = Path(location)
        self.location = str(self.path)

    def is_file(self, name: str) -> bool:
        return (self.path / name).is_file()

    def read_bytes(self, name: str) -> bytes:
        return (self.path / name).read_bytes()

    def write_bytes(self, name: str, data: bytes) -> None:
        (self.path / name).write_bytes(data)

    def staging(self) -> LocalDir:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staging = self.path.with_name(f".{self.path.name}.tmp-{_stamp()}")
        staging.mkdir()
        return LocalDir(staging)

    def replace_with(self, staging: ModelDir) -> None:
        assert isinstance(staging, LocalDir)
        if not self.path.exists():
            staging.path.rename(self.path)
            return
        retired = self.path.with_name(f".{self.path.name}.old-{_stamp()}")
        self.path.rename(retired)
        staging.path.rename(self.path)
        shutil.rmtree(retired, ignore_errors=True)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class HadoopDir(ModelDir):
    """A directory on a Hadoop filesystem, through the driver JVM (py4j)."""

    def __init__(self, spark: SparkSession, location: str) -> None:
        context: Any = spark.sparkContext
        self._jvm: Any = context._jvm
        self.location = location.rstrip("/")
        self._root = self._jvm.org.apache.hadoop.fs.Path(self.location)
        self._fs = self._root.getFileSystem(context._jsc.hadoopConfiguration())
        self._spark = spark

    def _path(self, name: str) -> Any:
        return self._jvm.org.apache.hadoop.fs.Path(self._root, name)

    def is_file(self, name: str) -> bool:
        path = self._path(name)
        return bool(self._fs.exists(path) and self._fs.getFileStatus(path).isFile())

    def read_bytes(self, name: str) -> bytes:
        stream = self._fs.open(self._path(name))
        try:
            return bytes(self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
        finally:
            stream.close()

    def write_bytes(self, name: str, data: bytes) -> None:
        stream = self._fs.create(self._path(name), True)
        try:
            stream.write(bytearray(data))
        finally:
            stream.close()

    def _sibling(self, prefix: str) -> Any:
        return self._jvm.org.apache.hadoop.fs.Path(
            self._root.getParent(), f".{self._root.getName()}.{prefix}-{_stamp()}"
        )

    def staging(self) -> HadoopDir:
        path = self._sibling("tmp")
        if not self._fs.mkdirs(path):
            raise OSError(f"cannot create {path.toString()}")
        return HadoopDir(self._spark, path.toString())

    def replace_with(self, staging: ModelDir) -> None:
        assert isinstance(staging, HadoopDir)
        retired = None
        if self._fs.exists(self._root):
            retired = self._sibling("old")
            self._rename(self._root, retired)
        self._rename(staging._root, self._root)
        if retired is not None:
            self._fs.delete(retired, True)

    def remove(self) -> None:
        self._fs.delete(self._root, True)

    def _rename(self, source: Any, target: Any) -> None:
        if not self._fs.rename(source, target):
            raise OSError(f"cannot rename {source.toString()} to {target.toString()}")


def open_model_dir(spark: SparkSession | None, location: str) -> ModelDir:
    """The model directory at `location`; a URL needs the Spark session whose Hadoop
    configuration reaches its filesystem."""
    if not is_url(location):
        return LocalDir(location)
    if spark is None:
        raise ValueError(f"model_dir {location!r} is a URL: it is reached through Spark")
    return HadoopDir(spark, location)
