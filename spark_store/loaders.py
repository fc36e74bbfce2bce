"""Loads a data set into Spark DataFrames with string ids: the MovieLens layouts (latest CSV,
ml-100k, ml-1m) here, any other ratings file through a column layout (table_loader.py).

Every loader returns the same two shapes:
  ratings: user_id string, movie_id string, rating double, timestamp long (Unix seconds)
  movies:  movie_id string, title string, genres array<string>
Spark's CSV reader handles quoted titles with commas ("Godfather: Part II, The (1974)") and CRLF
line endings, which the original tutorial's split(",") got wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_store.table_loader import BadRows, TableLayout, load_table

RATINGS_SCHEMA = "user_id string, movie_id string, rating double, timestamp long"
NO_GENRES = "(no genres listed)"
# ml-100k's genre flag columns, in file order (u.genre, when present, says the same).
ML100K_GENRES = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
]


class DataFormatError(ValueError):
    """The directory does not hold a data set in a format we read."""


MOVIELENS_FORMATS = ("latest", "100k", "1m")
LAYOUT_FORMATS = ("csv", "parquet")


@dataclass(frozen=True)
class Dataset:
    """A loaded data set: its ratings and movies DataFrames and where they came from."""

    ratings: DataFrame
    movies: DataFrame
    path: str
    format: str
    bad_rows: BadRows | None = None  # rows left out (csv/parquet layouts only)


def detect_format(path: str | Path, layout: TableLayout | None = None) -> str:
    """Names the layout: latest, 100k or 1m for a MovieLens directory; csv or parquet when a
    ratings file is named."""
    if layout is not None and layout.ratings_file:
        return "parquet" if layout.ratings_file.endswith(".parquet") else "csv"
    root = Path(path)
    if (root / "ratings.csv").is_file() and (root / "movies.csv").is_file():
        return "latest"
    if (root / "u.data").is_file() and (root / "u.item").is_file():
        return "100k"
    if (root / "ratings.dat").is_file() and (root / "movies.dat").is_file():
        return "1m"
    raise DataFormatError(
        f"{root} holds no MovieLens data set: expected ratings.csv+movies.csv (latest), "
        "u.data+u.item (ml-100k) or ratings.dat+movies.dat (ml-1m); for another layout set "
        "ratings_file and its columns"
    )


def load_dataset(
    spark: SparkSession, path: str | Path, fmt: str = "auto", layout: TableLayout | None = None
) -> Dataset:
    """Loads ratings and movies from a MovieLens directory, or through the layout."""
    fmt = detect_format(path, layout) if fmt == "auto" else fmt
    if fmt in LAYOUT_FORMATS:
        if layout is None:
            raise DataFormatError(f"data format {fmt} needs ratings_file and its columns")
        ratings, movies, bad = load_table(spark, str(path), fmt, layout)
        return Dataset(ratings, movies, str(path), fmt, bad)
    loaders = {"latest": _load_latest, "100k": _load_100k, "1m": _load_1m}
    if fmt not in loaders:
        raise DataFormatError(f"unknown data format {fmt!r}")
    ratings, movies = loaders[fmt](spark, str(path))
    return Dataset(ratings=ratings, movies=movies, path=str(path), format=fmt)


def _split_genres(column: str) -> Column:
    """'A|B' -> ['A', 'B']; the '(no genres listed)' marker becomes an empty list."""
    return F.when(F.col(column) == NO_GENRES, F.array().cast("array<string>")).otherwise(
        F.split(F.col(column), r"\|")
    )


def _load_latest(spark: SparkSession, path: str) -> tuple[DataFrame, DataFrame]:
    reader = spark.read.option("header", True).option("quote", '"').option("escape", '"')
    ratings = reader.csv(
        f"{path}/ratings.csv", schema="userId string, movieId string, rating double, timestamp long"
    ).select(
        F.col("userId").alias("user_id"),
        F.col("movieId").alias("movie_id"),
        "rating",
        "timestamp",
    )
    movies = reader.csv(
        f"{path}/movies.csv", schema="movieId string, title string, genres string"
    ).select(F.col("movieId").alias("movie_id"), "title", _split_genres("genres").alias("genres"))
    return ratings, movies


def _load_100k(spark: SparkSession, path: str) -> tuple[DataFrame, DataFrame]:
    ratings = spark.read.csv(f"{path}/u.data", sep="\t", schema=RATINGS_SCHEMA)
    genre_names = _read_100k_genres(Path(path))
    flag_cols = [f"g{i}" for i in range(len(genre_names))]
    schema = ", ".join(
        ["movie_id string", "title string", "released string", "video string", "url string"]
        + [f"{c} int" for c in flag_cols]
    )
    raw = spark.read.csv(f"{path}/u.item", sep="|", schema=schema, encoding="ISO-8859-1")
    genres = F.filter(
        F.array(
            *[F.when(F.col(c) == 1, F.lit(g)) for c, g in zip(flag_cols, genre_names, strict=True)]
        ),
        lambda g: g.isNotNull(),
    )
    return ratings, raw.select("movie_id", "title", genres.alias("genres"))


def _read_100k_genres(root: Path) -> list[str]:
    genre_file = root / "u.genre"
    if not genre_file.is_file():
        return ML100K_GENRES
    pairs = []
    for line in genre_file.read_text(encoding="ISO-8859-1").splitlines():
        name, sep, index = line.strip().rpartition("|")
        if sep:
            pairs.append((int(index), name))
    return [name for _, name in sorted(pairs)]


def _load_1m(spark: SparkSession, path: str) -> tuple[DataFrame, DataFrame]:
    ratings = spark.read.csv(
        f"{path}/ratings.dat", sep="::", schema=RATINGS_SCHEMA, encoding="ISO-8859-1"
    )
    # Titles may contain quotes; '::' never appears inside a field, so quoting is turned off.
    movies = spark.read.csv(
        f"{path}/movies.dat",
        sep="::",
        schema="movie_id string, title string, genres string",
        encoding="ISO-8859-1",
        quote="\u0000",
    ).select("movie_id", "title", _split_genres("genres").alias("genres"))
    return ratings, movies
