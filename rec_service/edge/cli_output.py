"""How the `movierec` client commands print answers: readable tables by default, JSON on
request, with counts as integers (protobuf's JSON mapping writes int64 as strings)."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format, struct_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp


def as_plain(message: Message) -> dict[str, Any]:
    """The set fields of a message as plain Python: ints stay ints, enums are names,
    timestamps ISO 8601 strings, maps dicts."""
    out: dict[str, Any] = {}
    for field, value in message.ListFields():
        out[field.name] = _value(field, value)
    return out


def _value(field: FieldDescriptor, value: Any) -> Any:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        value_field = field.message_type.fields_by_name["value"]
        return {k: _scalar(value_field, v) for k, v in value.items()}
    if field.is_repeated:
        return [_scalar(field, v) for v in value]
    return _scalar(field, value)


def _scalar(field: FieldDescriptor, value: Any) -> Any:
    if isinstance(value, Timestamp):
        return value.ToJsonString()
    if isinstance(value, struct_pb2.ListValue):
        return list_values(value)
    if isinstance(value, Message):
        return as_plain(value)
    if field.enum_type is not None:
        return field.enum_type.values_by_number[value].name
    return value


def list_values(values: struct_pb2.ListValue) -> list[Any]:
    """A row of QuerySql values as plain Python, whole numbers as ints."""
    return [plain_number(v) for v in json.loads(json_format.MessageToJson(values, indent=None))]


def plain_number(value: Any) -> Any:
    """A float that holds a whole number as an int (struct values carry every number as a
    double, so a count comes back as 3.0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def key_values(plain: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested fields flattened to (dotted name, text) rows."""
    rows: list[tuple[str, str]] = []
    for key, value in plain.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += key_values(value, f"{name}.")
        else:
            rows.append((name, json.dumps(value) if isinstance(value, list) else str(value)))
    return rows


def table(columns: list[str], rows: list[list[Any]]) -> str:
    """Columns aligned under their headers."""
    cells = [[str(c) for c in columns]] + [
        ["NULL" if v is None else str(v) for v in row] for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def key_value_table(rows: list[tuple[str, str]]) -> str:
    width = max((len(k) for k, _ in rows), default=0)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
