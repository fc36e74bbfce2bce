"""JSON log lines: one object a line, with the call fields when a record carries them."""

from __future__ import annotations

import json
import logging

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
