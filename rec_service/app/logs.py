"""Logging set-up: one line per event, as text or as one JSON object per line."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from datetime import UTC, datetime
from typing import TextIO

# Fields a log call may add with extra={...}; JSON lines carry them as keys.
EXTRA_FIELDS = ("method", "code", "duration_ms", "request_id", "stage", "seconds")


class JsonFormatter(logging.Formatter):
    """{"ts", "level", "logger", "msg", extras..., "exception"} on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in EXTRA_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


# A level word in a line some library printed (log4j's "WARN", gRPC-core's "E1206 ..." aside).
LEVEL_WORD = re.compile(r"\b(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|SEVERE)\b")
LEVELS = {"TRACE": "DEBUG", "WARN": "WARNING", "FATAL": "CRITICAL", "SEVERE": "ERROR"}


def stderr_as_json() -> TextIO:
    """Makes every line written to this process's standard error JSON, and returns a stream
    to the real standard error for the service's own (already JSON) log lines.

    Spark's JVM (its banner, log4j, netlib's notices), gRPC-core and PySpark's workers write to
    file descriptor 2 directly, not through `logging`, and the JVM inherits it. So descriptor
    2 becomes a pipe, and a thread passes each line on: a JSON object as it is, anything else
    as a record of logger "stderr" with the level word it carries (WARNING if none)."""
    real = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    out = os.fdopen(real, "w", buffering=1, encoding="utf-8", errors="replace")
    lock = threading.Lock()

    def relay() -> None:
        with os.fdopen(read_end, "rb") as lines:
            for raw in lines:
                text = raw.decode("utf-8", errors="replace").rstrip("\n")
                if not text.strip():
                    continue
                with lock:
                    out.write(_as_json_line(text) + "\n")

    threading.Thread(target=relay, name="movierec-stderr", daemon=True).start()
    return out


def _as_json_line(text: str) -> str:
    if text.startswith("{"):
        try:
            if isinstance(json.loads(text), dict):
                return text
        except ValueError:
            pass
    word = LEVEL_WORD.search(text)
    level = LEVELS.get(word.group(1), word.group(1)) if word else "WARNING"
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    return json.dumps({"ts": now, "level": level, "logger": "stderr", "msg": text})


def setup_logging(level: str, fmt: str = "text") -> None:
    """Configures the root logger once for the process (the CLI's commands call it); with
    fmt "json", everything else the process writes to standard error is JSON too."""
    if fmt == "json":
        handler = logging.StreamHandler(stderr_as_json())
        handler.setFormatter(JsonFormatter())
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
