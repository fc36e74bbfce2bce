"""Loads a ratings data set of any layout: a delimited text file (any separator, quoting, header
or not, encoding) or a Parquet file, with its columns named by settings, and an optional items
file. Returns the same shapes as the MovieLens loaders (spark_store/loaders.py).

Every id is read as a string (leading zeros stay). Each ratings row is checked: both ids
well formed, the rating a finite number (on the scale, where one is set) or the layout's
`implicit_value` ("interacted, no rating": kept with rating NULL), the timestamp readable.
Bad rows are counted and dropped, with their line numbers; when more than `max_bad_fraction`
of the rows are bad, the load fails with the first few reasons.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

log = logging.getLogger(__name__)

# The service's id rule (rec_service.core.validation.ID_PATTERN), as Spark SQL sees it.
ID_RULE = r"^[A-Za-z0-9_.:@-]{1,64}$"
# Bad rows named in an error or a log line.
SHOWN_BAD_ROWS = 5
# monotonically_increasing_id() keeps the partition in the bits above these.
ROW_BITS = 33


# Python's names for an encoding (codecs.lookup) -> the names Spark's readers accept.
SPARK_CHARSETS = {
    "utf-8": "utf-8",
    "iso8859-1": "iso-8859-1",
    "ascii": "us-ascii",
    "utf-16": "utf-16",
    "utf-16-be": "utf-16be",
    "utf-16-le": "utf-16le",
    "utf-32": "utf-32",
}


class LayoutError(ValueError):
    """The file cannot be read with the layout given, or too many of its rows are bad."""


@dataclass(frozen=True)
class TableLayout:
    """How a ratings file (and an items file) map onto user, item, rating and timestamp."""

    ratings_file: str
    items_file: str = ""
    separator: str = ","
    header: bool = True
    encoding: str = "utf-8"
    quote: str = '"'
    columns: str = ""  # names of a header-less ratings file's columns, comma-separated
    items_columns: str = ""  # the same for the items file
    user_column: str = "user_id"
    item_column: str = "item_id"
    rating_column: str = "rating"
    timestamp_column: str = ""  # "" = no timestamps (every rating gets 0)
    timestamp_format: str = ""  # "" = Unix seconds; else a Spark datetime pattern
    item_id_column: str = ""  # the items file's id column; "" = item_column
    title_column: str = ""  # "" = the id is the title
    genres_column: str = ""
    genres_separator: str = "|"
    rating_scale: str = ""  # "low,high,step" (step 0: continuous); "" = read from the data
    implicit_value: str = ""  # rating text meaning "interacted, no rating": rating NULL
    max_bad_fraction: float = 0.01

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableLayout:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class BadRows:
    """Rows left out of a load: how many, and the first few with their reasons."""

    count: int
    total: int
    examples: tuple[str, ...]


def parse_scale(text: str) -> tuple[float, float, float] | None:
    """ "low,high,step" -> numbers; "" -> None (read the scale from the data)."""
    if not text.strip():
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        low, high, step = (float(p) for p in parts)
    except ValueError:
        raise LayoutError(f"scale must be 'low,high,step', not {text!r}") from None
    if not low < high or step < 0 or step > high - low:
        raise LayoutError(f"scale {text!r}: need low < high and 0 <= step <= high - low")
    return low, high, step


def spark_charset(name: str) -> str:
    """The encoding's name as Spark's readers want it (latin-1 -> iso-8859-1)."""
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        canonical = name.lower()
    if canonical not in SPARK_CHARSETS:
        raise LayoutError(
            f"encoding {name!r} is not one Spark reads; use one of "
            "utf-8, latin-1 (iso-8859-1), us-ascii, utf-16, utf-16be, utf-16le, utf-32"
        )
    return SPARK_CHARSETS[canonical]


def load_table(
    spark: SparkSession, root: str, fmt: str, layout: TableLayout
) -> tuple[DataFrame, DataFrame, BadRows]:
    """(ratings, items, bad rows) from files under root read through the layout."""
    ratings_path = _under(root, layout.ratings_file)
    raw = _read(spark, ratings_path, fmt, layout, layout.columns)
    _require(raw, ratings_path, layout.user_column, layout.item_column, layout.rating_column)
    if layout.timestamp_column:
        _require(raw, ratings_path, layout.timestamp_column)
    checked = _checked(raw, layout).cache()
    bad = _bad_rows(checked, layout, ratings_path)
    ratings = checked.where(F.col("problem") == "").select(
        "user_id", "movie_id", "rating", "timestamp"
    )
    items = (
        _items(spark, root, fmt, layout)
        if layout.items_file
        else ratings.select("movie_id")
        .distinct()
        .select(
            "movie_id",
            F.col("movie_id").alias("title"),
            F.array().cast("array<string>").alias("genres"),
        )
    )
    return ratings, items, bad


def _under(root: str, name: str) -> str:
    if not name:
        raise LayoutError("ratings_file is not set: name the ratings file (under data_dir)")
    return name if name.startswith("/") or "://" in name else f"{root.rstrip('/')}/{name}"


def _read(spark: SparkSession, path: str, fmt: str, layout: TableLayout, names: str) -> DataFrame:
    if fmt == "parquet":
        df = spark.read.parquet(path)
        return df.select([F.col(c).cast("string").alias(c) for c in df.columns])
    if not layout.header and not names:
        raise LayoutError(
            f"{path} has no header (header = false): name its columns in order with "
            "`columns` (or `items_columns` for the items file)"
        )
    reader = spark.read.options(
        sep=layout.separator,
        header=layout.header,
        encoding=spark_charset(layout.encoding),
        quote=layout.quote or "\u0000",
        escape=layout.quote or "\\",
        mode="PERMISSIVE",
        inferSchema=False,  # every column a string: ids keep their leading zeros
    )
    try:
        df = reader.csv(path)
    except Exception as exc:  # a missing file, an unknown encoding
        raise LayoutError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    wanted = [n.strip() for n in names.split(",")] if names else []
    if wanted:
        if len(wanted) > len(df.columns):
            raise LayoutError(
                f"{path}: {len(wanted)} column names given but rows have {len(df.columns)} fields"
            )
        df = df.toDF(*wanted, *df.columns[len(wanted) :])
    return df


def _require(df: DataFrame, path: str, *names: str) -> None:
    missing = [n for n in names if n not in df.columns]
    if missing:
        raise LayoutError(
            f"{path} has no column {', '.join(repr(m) for m in missing)}; its columns are "
            f"{', '.join(df.columns)} (set user_column, item_column, rating_column, ...)"
        )


def _checked(raw: DataFrame, layout: TableLayout) -> DataFrame:
    """Every row with its values parsed and a `problem` text ("" when the row is good)."""
    row_id = F.monotonically_increasing_id()
    user = F.trim(F.col(layout.user_column))
    item = F.trim(F.col(layout.item_column))
    rating_text = F.trim(F.col(layout.rating_column))
    implicit = (
        rating_text.eqNullSafe(layout.implicit_value.strip())
        if layout.implicit_value.strip()
        else F.lit(False)
    )
    parsed = F.expr(f"try_cast(trim({_quoted(layout.rating_column)}) AS double)")
    # An interaction without a rating is kept with rating NULL: training ranks with it and
    # leaves it out of everything that averages or predicts ratings.
    rating = F.when(~implicit, parsed)
    timestamp = _timestamp(layout)
    scale = parse_scale(layout.rating_scale)
    off_scale = (rating < F.lit(scale[0])) | (rating > F.lit(scale[1])) if scale else F.lit(False)
    problems = [
        F.when(user.isNull() | ~user.rlike(ID_RULE), F.lit("user id missing or not an id")),
        F.when(item.isNull() | ~item.rlike(ID_RULE), F.lit("item id missing or not an id")),
        F.when(
            ~implicit
            & (parsed.isNull() | F.isnan(parsed) | F.abs(parsed).eqNullSafe(float("inf"))),
            F.lit("rating is not a number"),
        ),
        F.when(off_scale, F.lit("rating is outside the scale")),
        F.when(timestamp.isNull(), F.lit("timestamp unreadable")),
    ]
    return raw.select(
        row_id.alias("row_id"),
        user.alias("user_id"),
        item.alias("movie_id"),
        rating.alias("rating"),
        timestamp.alias("timestamp"),
        F.concat_ws("; ", *problems).alias("problem"),
    )


def _timestamp(layout: TableLayout) -> Column:
    if not layout.timestamp_column:
        return F.lit(0).cast("long")
    column = _quoted(layout.timestamp_column)
    if layout.timestamp_format:
        pattern = layout.timestamp_format.replace("'", "")
        return F.unix_seconds(F.expr(f"try_to_timestamp(trim({column}), '{pattern}')"))
    return F.expr(f"try_cast(try_cast(trim({column}) AS double) AS long)")


def _quoted(name: str) -> str:
    """A column name as a Spark SQL identifier, whatever characters it holds."""
    return "`" + name.replace("`", "``") + "`"


def _bad_rows(checked: DataFrame, layout: TableLayout, path: str) -> BadRows:
    counts = checked.groupBy(F.shiftright("row_id", ROW_BITS).alias("part")).agg(
        F.count("*").alias("rows"), F.sum((F.col("problem") != "").cast("long")).alias("bad")
    )
    per_part = sorted((int(r["part"]), int(r["rows"]), int(r["bad"])) for r in counts.collect())
    total = sum(rows for _, rows, _ in per_part)
    bad = sum(b for _, _, b in per_part)
    if total == 0:
        raise LayoutError(f"{path} holds no ratings rows")
    examples: tuple[str, ...] = ()
    if bad:
        first_line: dict[int, int] = {}
        line = 2 if layout.header else 1
        for part, rows, _ in per_part:
            first_line[part] = line
            line += rows
        shown = (
            checked.where(F.col("problem") != "").orderBy("row_id").limit(SHOWN_BAD_ROWS).collect()
        )
        examples = tuple(
            f"line {first_line[r['row_id'] >> ROW_BITS] + (r['row_id'] & ((1 << ROW_BITS) - 1))}: "
            f"{r['problem']}"
            for r in shown
        )
    result = BadRows(bad, total, examples)
    if bad > layout.max_bad_fraction * total:
        raise LayoutError(
            f"{path}: {bad} of {total} rows are bad, more than max_bad_fraction "
            f"({layout.max_bad_fraction:g}); first: {'; '.join(examples)}"
        )
    if bad:
        log.warning("%s: left out %d of %d rows; first: %s", path, bad, total, "; ".join(examples))
    return result


def _items(spark: SparkSession, root: str, fmt: str, layout: TableLayout) -> DataFrame:
    path = _under(root, layout.items_file)
    raw = _read(spark, path, fmt, layout, layout.items_columns)
    id_column = layout.item_id_column or layout.item_column
    wanted = [id_column, layout.title_column, layout.genres_column]
    _require(raw, path, *[c for c in wanted if c])
    item = F.trim(F.col(id_column))
    title = F.col(layout.title_column) if layout.title_column else item
    if layout.genres_column:
        genres = F.filter(
            F.split(
                F.coalesce(F.col(layout.genres_column), F.lit("")),
                re.escape(layout.genres_separator),
            ),
            lambda g: F.length(F.trim(g)) > 0,
        )
    else:
        genres = F.array().cast("array<string>")
    return (
        raw.where(item.isNotNull() & item.rlike(ID_RULE))
        .select(item.alias("movie_id"), title.alias("title"), genres.alias("genres"))
        .dropDuplicates(["movie_id"])
    )
