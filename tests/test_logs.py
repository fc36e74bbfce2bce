"""JSON log lines: one object a line, with the call fields when a record carries them, and
every other line the process writes to standard error made JSON too."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

from rec_service.app.config import PROJECT_ROOT
from rec_service.app.logs import JsonFormatter


def test_a_json_line_carries_the_call_fields() -> None:
    record = logging.LogRecord("rec_service.edge.call_log", logging.WARNING, __file__, 1,
                               "failed call %s", ("/m",), None)  # fmt: skip
    record.method, record.code, record.request_id = "/m", "INTERNAL", "abc"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["msg"] == "failed call /m" and entry["level"] == "WARNING"
    assert (entry["method"], entry["code"], entry["request_id"]) == ("/m", "INTERNAL", "abc")


def test_with_json_every_line_on_stderr_is_json_a_childs_and_cs_too() -> None:
    """What Spark's JVM, gRPC-core and PySpark's workers print goes to file descriptor 2, not
    through logging: with JSON logs those lines are JSON too, with the level they name."""
    program = (
        "import logging, os, subprocess, sys, time\n"
        "from rec_service.app.logs import setup_logging\n"
        "setup_logging('INFO', 'json')\n"
        "logging.getLogger('movierec.test').warning('our own line')\n"
        "os.write(2, b'26/12/06 23:12:58 WARN NativeCodeLoader: a JVM line\\n')\n"
        "child = 'import sys; print(\"a child line\", file=sys.stderr)'\n"
        "subprocess.run([sys.executable, '-c', child])\n"
        "print('Traceback (most recent call last):', file=sys.stderr, flush=True)\n"
        "time.sleep(0.5)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=PROJECT_ROOT, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    entries = [json.loads(line) for line in done.stderr.splitlines()]
    by_message = {entry["msg"]: entry for entry in entries}
    assert by_message["our own line"]["logger"] == "movierec.test"
    jvm = by_message["26/12/06 23:12:58 WARN NativeCodeLoader: a JVM line"]
    assert (jvm["logger"], jvm["level"]) == ("stderr", "WARNING")
    assert by_message["a child line"]["logger"] == "stderr"
    assert "Traceback (most recent call last):" in by_message
