"""How the `movierec` client commands print answers: readable tables by default, JSON on
request, with counts as integers (protobuf's JSON mapping writes int64 as strings)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from google.protobuf import json_format, struct_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from rich import box
from rich.console import Console
from rich.table import Table

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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
    """Columns aligned under their headers, as a Markdown table (plain ASCII, so it pipes and
    pastes anywhere)."""
    drawn = Table(*map(_printable, columns), box=box.MARKDOWN, highlight=False)
    for row in rows:
        drawn.add_row(*("NULL" if v is None else _printable(str(v)) for v in row))
    return _render(drawn)


def key_value_table(rows: list[tuple[str, str]]) -> str:
    """Names in one column, values in the next."""
    drawn = Table.grid(padding=(0, 2))
    drawn.add_column()
    drawn.add_column()
    for key, value in rows:
        drawn.add_row(_printable(key), _printable(value))
    return _render(drawn)


def _printable(text: str) -> str:
    """Control characters shown as escapes: a value (a movie title, a query's result) never
    drives the operator's terminal."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _render(drawn: Table) -> str:
    out = io.StringIO()
    Console(file=out, width=10_000, color_system=None, markup=False, emoji=False).print(drawn)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()).strip("\n")
