"""MovieLens loaders on small local files in each layout, including the tutorial's CSV trap."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from spark_store.loaders import DataFormatError, detect_format, load_dataset

from .conftest import DEMO_DATA


def _rows(df) -> list[tuple]:  # type: ignore[no-untyped-def]
    return sorted(tuple(r) for r in df.collect())


def test_latest_csv_keeps_quoted_titles_and_crlf(spark: SparkSession, tmp_path: Path) -> None:
    (tmp_path / "movies.csv").write_bytes(
        b'movieId,title,genres\r\n1221,"Godfather: Part II, The (1974)",Crime|Drama\r\n'
        b'5,"Say ""Hi"", Again (2001)",(no genres listed)\r\n'
    )
    (tmp_path / "ratings.csv").write_bytes(
        b"userId,movieId,rating,timestamp\r\n1,1221,4.5,964982703\r\n2,5,3.0,964982224\r\n"
    )
    ds = load_dataset(spark, tmp_path)
    assert ds.format == "latest"
    movies = {r.movie_id: (r.title, list(r.genres)) for r in ds.movies.collect()}
    assert movies["1221"] == ("Godfather: Part II, The (1974)", ["Crime", "Drama"])
    assert movies["5"] == ('Say "Hi", Again (2001)', [])
    assert _rows(ds.ratings) == [("1", "1221", 4.5, 964982703), ("2", "5", 3.0, 964982224)]


def test_ml100k_layout(spark: SparkSession, tmp_path: Path) -> None:
    (tmp_path / "u.data").write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n")
    flags = ["0"] * 19
    flags[5] = flags[8] = "1"  # Comedy, Drama
    (tmp_path / "u.item").write_bytes(
        ("242|Kolya (1996)|24-Jan-1997||http://x|" + "|".join(flags) + "\n").encode("latin-1")
        + (
            "302|L.A. Confidential (1997)|01-Jan-1997||http://y|" + "|".join(["0"] * 19) + "\n"
        ).encode("latin-1")
    )
    ds = load_dataset(spark, tmp_path)
    assert ds.format == "100k"
    movies = {r.movie_id: (r.title, list(r.genres)) for r in ds.movies.collect()}
    assert movies["242"] == ("Kolya (1996)", ["Comedy", "Drama"])
    assert movies["302"] == ("L.A. Confidential (1997)", [])
    assert _rows(ds.ratings) == [("186", "302", 3.0, 891717742), ("196", "242", 3.0, 881250949)]


def test_ml1m_layout(spark: SparkSession, tmp_path: Path) -> None:
    (tmp_path / "ratings.dat").write_text("1::1193::5::978300760\n2::661::3::978302109\n")
    (tmp_path / "movies.dat").write_bytes(
        "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
        '661::"Café" (1999)::Animation|Children\'s\n'.encode("latin-1")
    )
    ds = load_dataset(spark, tmp_path)
    assert ds.format == "1m"
    movies = {r.movie_id: (r.title, list(r.genres)) for r in ds.movies.collect()}
    assert movies["1193"] == ("One Flew Over the Cuckoo's Nest (1975)", ["Drama"])
    assert movies["661"] == ('"Café" (1999)', ["Animation", "Children's"])
    assert _rows(ds.ratings) == [("1", "1193", 5.0, 978300760), ("2", "661", 3.0, 978302109)]


def test_unknown_layout_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("nothing")
    with pytest.raises(DataFormatError, match="no MovieLens data set"):
        detect_format(tmp_path)


def test_shipped_demo_data(spark: SparkSession) -> None:
    ds = load_dataset(spark, DEMO_DATA)
    assert ds.ratings.count() == 100_836
    assert ds.movies.count() == 9_742
    assert ds.ratings.select("user_id").distinct().count() == 610
    assert (DEMO_DATA / "README.txt").is_file()  # the licence travels with the data
