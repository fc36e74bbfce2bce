"""Decides whether operator SQL may run: only a query that reads the service's own views.

Allow-lists all the way down, never a list of things to refuse:

1. The text is bounded (length, bracket nesting) before Spark's parser sees it, so the parser
   cannot be made to spin.
2. The *parsed* plan may hold only query node kinds, relation names of one part, and functions
   named in the allowed built-ins. This runs before analysis because the analyzer evaluates
   some expressions itself (LIMIT, TABLESAMPLE and table-function arguments, IDENTIFIER(...))
   and substitutes EXECUTE IMMEDIATE; none of those may reach it unchecked.
3. The *analyzed* plan may hold only allowed node classes, its leaves must be the service's
   views (opaque: what is below them is ours), inline rows or ranges, and every expression's
   class must be an allowed built-in or a structural expression. Qualified names,
   IDENTIFIER(...) and aliases all resolve to a class here, so none can hide a function.

Functions are allowed by the built-in registry's own groups (math, string, aggregate, ...);
the groups that read files or schemas from paths (avro, protobuf), XML (XPath), and the
"misc" group (reflection, the environment, encryption keys, input file names) are left out,
with a few pure misc functions named back in.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

MAX_SQL_CHARS = 10_000
"""Longest query text accepted; an operator's query is a few hundred characters."""
MAX_NESTING = 64
"""Deepest bracket nesting accepted; Spark's parser slows sharply with nesting depth."""

LOGICAL = "org.apache.spark.sql.catalyst.plans.logical."
ANALYSIS = "org.apache.spark.sql.catalyst.analysis."
EXPRESSIONS = "org.apache.spark.sql.catalyst.expressions."

# Query node kinds a parsed SELECT / WITH / VALUES / TABLE query is built from.
PARSED_NODES = frozenset(
    [LOGICAL + name for name in (
        "Project", "Filter", "Aggregate", "Join", "Sort", "GlobalLimit", "LocalLimit",
        "Offset", "Union", "Intersect", "Except", "Distinct", "Deduplicate", "SubqueryAlias",
        "LocalRelation", "OneRowRelation", "Generate", "Sample", "UnresolvedWith",
        "WithWindowDefinition", "Window", "Pivot", "Unpivot", "Expand", "Tail",
        "RepartitionByExpression", "Repartition", "UnresolvedHint", "LateralJoin",
    )]
    + [ANALYSIS + name for name in (
        "UnresolvedRelation", "UnresolvedInlineTable", "UnresolvedSubqueryColumnAliases",
        "UnresolvedTableValuedFunction", "UnresolvedHaving",
    )]
)  # fmt: skip

# Node classes of an analyzed query. View is checked by name and not descended into.
ANALYZED_NODES = frozenset(
    LOGICAL + name
    for name in (
        "Project", "Filter", "Aggregate", "Join", "Sort", "GlobalLimit", "LocalLimit", "Offset",
        "Union", "Intersect", "Except", "Distinct", "Deduplicate", "SubqueryAlias",
        "LocalRelation", "OneRowRelation", "Range", "Generate", "Sample", "Window", "Expand",
        "Tail", "WithCTE", "CTERelationDef", "CTERelationRef", "RepartitionByExpression",
        "Repartition", "ResolvedHint", "LateralJoin", "View",
    )
)  # fmt: skip
LEAVES = frozenset(
    LOGICAL + name for name in ("LocalRelation", "OneRowRelation", "Range", "CTERelationRef")
)
TABLE_FUNCTIONS = frozenset({"range"})

# Built-in function groups whose functions compute on their arguments only.
SAFE_GROUPS = frozenset(
    {
        "agg_funcs", "array_funcs", "bitwise_funcs", "collection_funcs", "conditional_funcs",
        "conversion_funcs", "csv_funcs", "datetime_funcs", "generator_funcs", "hash_funcs",
        "json_funcs", "lambda_funcs", "map_funcs", "math_funcs", "predicate_funcs",
        "sketch_funcs", "string_funcs", "struct_funcs", "url_funcs", "variant_funcs",
        "vector_funcs", "window_funcs",
    }
)  # fmt: skip
SAFE_MISC_FUNCTIONS = frozenset(
    {
        "assert_true", "raise_error", "typeof", "uuid", "monotonically_increasing_id",
        "spark_partition_id", "current_database", "current_schema", "current_catalog",
        "bitmap_bit_position", "bitmap_bucket_number", "bitmap_count",
    }
)  # fmt: skip
# Expressions the analyzer builds around resolved functions, columns and subqueries; and the
# classes some built-ins' builders produce (explode -> Explode, raise_error -> RaiseError).
STRUCTURAL_EXPRESSIONS = frozenset(
    EXPRESSIONS + name
    for name in (
        "Alias", "AttributeReference", "Literal", "SortOrder", "OuterReference",
        "ScalarSubquery", "Exists", "ListQuery", "InSubquery", "LateralSubquery", "InSet",
        "WindowExpression", "WindowSpecDefinition", "SpecifiedWindowFrame", "UnspecifiedFrame$",
        "RowFrame$", "RangeFrame$", "CurrentRow$", "UnboundedPreceding$", "UnboundedFollowing$",
        "aggregate.AggregateExpression", "aggregate.PivotFirst", "LambdaFunction",
        "NamedLambdaVariable", "GetStructField", "GetArrayItem", "GetMapValue",
        "GetArrayStructFields", "Explode", "PosExplode", "Inline", "RaiseError", "With",
        "CommonExpressionDef", "CommonExpressionRef", "KnownNotNull",
        "KnownFloatingPointNormalized", "NamedArgumentExpression", "ToPrettyString",
    )
)  # fmt: skip


class UnsafeQuery(ValueError):
    """The text is not one read-only query over the allowed views; the message says what was
    refused (a node kind, a relation or a function)."""


@dataclass(frozen=True)
class FunctionAllowList:
    """The built-in functions operator SQL may call: by name (checked on the parsed plan) and
    by expression class (checked on the analyzed plan)."""

    names: frozenset[str]
    classes: frozenset[str]

    @classmethod
    def from_registry(cls, spark: SparkSession) -> FunctionAllowList:
        registry = spark._jsparkSession.sessionState().functionRegistry()
        ids = registry.listFunction()
        names: set[str] = set()
        classes: set[str] = set(STRUCTURAL_EXPRESSIONS)
        for i in range(ids.size()):
            info = registry.lookupFunction(ids.apply(i))
            if not info.isDefined():
                continue
            info = info.get()
            name = str(info.getName()).lower()
            if str(info.getGroup()) in SAFE_GROUPS or name in SAFE_MISC_FUNCTIONS:
                names.add(name)
                classes.add(str(info.getClassName()))
        return cls(frozenset(names), frozenset(classes))


def bounded_text(sql: str) -> str:
    """The query without surrounding blanks and trailing semicolons, if its size and bracket
    nesting are within bounds; UnsafeQuery otherwise. Runs before the parser sees it."""
    text = sql.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    if not text:
        raise UnsafeQuery("the query is empty")
    if len(text) > MAX_SQL_CHARS:
        raise UnsafeQuery(f"the query is {len(text)} characters; at most {MAX_SQL_CHARS}")
    depth = deepest = 0
    for char in re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`", "''", text):
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    if deepest > MAX_NESTING:
        raise UnsafeQuery(f"brackets nest {deepest} deep; at most {MAX_NESTING}")
    return text


def _seq(scala_seq: Any) -> Iterator[Any]:
    for i in range(scala_seq.size()):
        yield scala_seq.apply(i)


def _class_name(node: Any) -> str:
    return str(node.getClass().getName())


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1].rstrip("$")


def _plans(plan: Any, stop_at_views: Collection[str] = ()) -> Iterator[Any]:
    """Every plan node: children, inner children (CTE definitions) and the plans of subquery
    expressions. Views named in stop_at_views are yielded but not descended into."""
    todo = [plan]
    while todo:
        node = todo.pop()
        yield node
        if _class_name(node) == LOGICAL + "View" and _view_name(node) in stop_at_views:
            continue
        todo.extend(_seq(node.children()))
        todo.extend(_seq(node.innerChildren()))
        todo.extend(_seq(node.subqueries()))


def _expressions(node: Any) -> Iterator[Any]:
    todo = list(_seq(node.expressions()))
    while todo:
        expr = todo.pop()
        yield expr
        todo.extend(_seq(expr.children()))


def _view_name(view: Any) -> str:
    return str(view.desc().identifier().table()).lower()


def check_parsed(plan: Any, functions: FunctionAllowList) -> None:
    """Refuses a parsed plan that is not a plain query before the analyzer touches it."""
    for node in _plans(plan):
        kind = _class_name(node)
        if kind not in PARSED_NODES:
            raise UnsafeQuery(f"{_short(kind)} is not allowed: only read-only queries run")
        if kind == ANALYSIS + "UnresolvedRelation":
            parts = [str(p) for p in _seq(node.multipartIdentifier())]
            if len(parts) != 1:
                raise UnsafeQuery(f"relation {'.'.join(parts)!r} is not allowed: name a view")
        if kind == ANALYSIS + "UnresolvedTableValuedFunction":
            name = ".".join(str(p) for p in _seq(node.name())).lower()
            if name not in TABLE_FUNCTIONS:
                raise UnsafeQuery(f"table function {name!r} is not allowed")
        for expr in _expressions(node):
            _check_parsed_expression(expr, functions)


def _check_parsed_expression(expr: Any, functions: FunctionAllowList) -> None:
    kind = _class_name(expr)
    if kind == ANALYSIS + "UnresolvedFunction":
        parts = [str(p) for p in _seq(expr.nameParts())]
        name = ".".join(parts).lower()
        if len(parts) != 1 or name not in functions.names:
            raise UnsafeQuery(f"function {name!r} is not allowed")
    elif kind == ANALYSIS + "UnresolvedGenerator":  # LATERAL VIEW name(...)
        identifier = expr.name()
        name = str(identifier.funcName()).lower()
        if identifier.database().isDefined() or name not in functions.names:
            raise UnsafeQuery(f"function {str(identifier.unquotedString())!r} is not allowed")
    elif kind.startswith(ANALYSIS) and "Identifier" in kind:
        raise UnsafeQuery("IDENTIFIER(...) over an expression is not allowed")


def check_analyzed(plan: Any, views: Collection[str], functions: FunctionAllowList) -> None:
    """Refuses an analyzed plan that reads anything but `views` (and inline rows), or holds a
    node or expression class that is not allowed."""
    for node in _plans(plan, stop_at_views=views):
        kind = _class_name(node)
        if kind not in ANALYZED_NODES:
            raise UnsafeQuery(f"{_short(kind)} is not allowed in a read-only query")
        if kind == LOGICAL + "View":
            name = _view_name(node)
            if name not in views:
                raise UnsafeQuery(f"view {name!r} is not one of {', '.join(sorted(views))}")
            continue
        if node.children().isEmpty() and kind not in LEAVES:
            raise UnsafeQuery(f"relation {_short(kind)} is not allowed")
        for expr in _expressions(node):
            expr_kind = _class_name(expr)
            if expr_kind not in functions.classes:
                raise UnsafeQuery(f"expression {_short(expr_kind)} is not allowed")
