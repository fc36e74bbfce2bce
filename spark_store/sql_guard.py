"""Runs operators' Spark SQL only when it is a single read-only query.

`spark.sql` runs commands (DROP VIEW, INSERT, CACHE, SET, ...) as soon as it is called, so the
text is parsed first with Spark's own parser, and the plan is refused when any node of it is a
command or a write statement. Functions that call arbitrary Java methods (reflect, java_method)
are refused too: a query must not be able to run code in the server.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from py4j.protocol import Py4JJavaError
from pyspark.errors import ParseException
from pyspark.sql import Row, SparkSession

JAVA_CALLS = re.compile(r"'(reflect|java_method|try_reflect)\(", re.IGNORECASE)


class UnsafeQuery(ValueError):
    """The text is not one read-only query; the message says why."""


def check_read_only(spark: SparkSession, sql: str) -> str:
    """The query without trailing semicolons, or UnsafeQuery with the reason."""
    text = sql.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    if not text:
        raise UnsafeQuery("the query is empty")
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    parser = spark._jsparkSession.sessionState().sqlParser()
    try:
        plan = parser.parsePlan(text)
    except (ParseException, Py4JJavaError) as err:
        if ";" in text:
            raise UnsafeQuery("only a single statement is allowed") from None
        message = [line for line in str(err).splitlines() if line.strip()]
        reason = message[0] if message else "parse error"
        raise UnsafeQuery(f"not valid Spark SQL: {reason}") from None
    command = jvm.java.lang.Class.forName("org.apache.spark.sql.catalyst.plans.logical.Command")
    nodes = [plan]
    while nodes:
        node = nodes.pop()
        name = str(node.nodeName())
        if command.isInstance(node) or name.endswith(("Statement", "Command")):
            raise UnsafeQuery(
                f"{name} is not a read-only query; only SELECT, WITH ... SELECT, VALUES and "
                "TABLE queries are allowed"
            )
        children = node.children()
        nodes.extend(children.apply(i) for i in range(children.size()))
    found = JAVA_CALLS.search(str(plan.toString()))
    if found:
        raise UnsafeQuery(f"{found.group(1)}() calls Java methods and is not allowed")
    return text


def to_json_value(value: Any) -> Any:
    """A collected Spark value as JSON-like Python (for google.protobuf.Value)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Row):
        return {k: to_json_value(v) for k, v in value.asDict().items()}
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return str(value)
