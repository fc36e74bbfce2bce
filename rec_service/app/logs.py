"""Logging set-up: one line per event, as text or as one JSON object per line."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

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


def setup_logging(level: str, fmt: str = "text") -> None:
    """Configures the root logger once for the process (the CLI's commands call it)."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
