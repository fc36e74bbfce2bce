"""Any ratings data set in, by settings only: delimited text in any layout, Parquet, an items
file or none, text or Unix timestamps, bad rows counted with line numbers up to a threshold,
and the two non-MovieLens data sets shipped in ../shared/data read as published."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from rec_service.app import config
from spark_store.loaders import detect_format, load_dataset
from spark_store.table_loader import LayoutError, TableLayout
from spark_store.training import rating_scale

from .conftest import DEMO_DATA

SHARED = DEMO_DATA.parent.parent.parent / "shared" / "data"
DATA_SETS = DEMO_DATA.parent.parent / "deploy" / "data-sets"


def shipped(name: str) -> config.Config:
    """The documented settings file of a shipped data set, its data_dir found from here."""
    return config.load(
        ["--data-dir", str(SHARED / name)], {}, config_file=str(DATA_SETS / f"{name}.toml")
    )


def _rows(df) -> list[tuple]:  # type: ignore[no-untyped-def]
    return sorted(tuple(r) for r in df.collect())


def test_header_csv_with_named_columns_and_an_items_file(
    spark: SparkSession, tmp_path: Path
) -> None:
    (tmp_path / "r.csv").write_text(
        "id,who,what,stars,extra\n1,u1,007,4.5,x\n2,u2,0042,3,y\n3,u1,0042,5,z\n"
    )
    (tmp_path / "items.csv").write_bytes(
        'what,name,kinds\r\n007,Caf\u00e9 (1999),Drama/Comedy\r\n0042,"A, B",\r\n'.encode("latin-1")
    )
    layout = TableLayout(
        ratings_file="r.csv", user_column="who", item_column="what", rating_column="stars",
        items_file="items.csv", title_column="name", genres_column="kinds",
        genres_separator="/", encoding="latin-1",
    )  # fmt: skip
    ds = load_dataset(spark, tmp_path, "csv", layout)
    assert _rows(ds.ratings) == [
        ("u1", "0042", 5.0, 0), ("u1", "007", 4.5, 0), ("u2", "0042", 3.0, 0),
    ]  # fmt: skip
    assert ds.bad_rows is not None and ds.bad_rows.count == 0
    items = {r.movie_id: (r.title, list(r.genres)) for r in ds.movies.collect()}
    assert items == {"007": ("Caf\u00e9 (1999)", ["Drama", "Comedy"]), "0042": ("A, B", [])}


def test_tab_separated_with_unix_times(spark: SparkSession, tmp_path: Path) -> None:
    (tmp_path / "r.tsv").write_text("user\titem\tr\tts\n1\t007\t4\t100\n2\t0042\t2\t200\n")
    (tmp_path / "i.tsv").write_bytes(
        "item\ttitle\tg\n007\tCaf\u00e9 (1999)\tDrama|Comedy\n0042\tPlain\t\n".encode("latin-1")
    )
    layout = TableLayout(
        ratings_file="r.tsv", separator="\t", user_column="user", item_column="item",
        rating_column="r", timestamp_column="ts", items_file="i.tsv", title_column="title",
        genres_column="g", encoding="latin-1",
    )  # fmt: skip
    ds = load_dataset(spark, tmp_path, "csv", layout)
    assert _rows(ds.ratings) == [("1", "007", 4.0, 100), ("2", "0042", 2.0, 200)]
    items = {r.movie_id: (r.title, list(r.genres)) for r in ds.movies.collect()}
    assert items == {"007": ("Caf\u00e9 (1999)", ["Drama", "Comedy"]), "0042": ("Plain", [])}


def test_no_header_multi_character_separator_and_no_items_file(
    spark: SparkSession, tmp_path: Path
) -> None:
    (tmp_path / "r.dat").write_text("1::0001::-7.5::5\n2::0002::9.25::6\n")
    layout = TableLayout(
        ratings_file="r.dat", separator="::", header=False,
        columns="u,i,score,t", user_column="u", item_column="i", rating_column="score",
        timestamp_column="t",
    )  # fmt: skip
    ds = load_dataset(spark, tmp_path, "csv", layout)
    assert _rows(ds.ratings) == [("1", "0001", -7.5, 5), ("2", "0002", 9.25, 6)]
    assert _rows(ds.movies) == [("0001", "0001", []), ("0002", "0002", [])]
    with pytest.raises(LayoutError, match="no header"):
        load_dataset(spark, tmp_path, "csv", TableLayout(ratings_file="r.dat", header=False))


def test_parquet_with_named_columns(spark: SparkSession, tmp_path: Path) -> None:
    spark.createDataFrame(
        [(10, 7, 1.0, "2020-01-02 03:04:05"), (11, 8, 0.5, "2021-01-01 00:00:00")],
        "member long, product long, liked double, at string",
    ).write.parquet(str(tmp_path / "events.parquet"))
    layout = TableLayout(
        ratings_file="events.parquet", user_column="member", item_column="product",
        rating_column="liked", timestamp_column="at", timestamp_format="yyyy-MM-dd HH:mm:ss",
    )  # fmt: skip
    assert detect_format(tmp_path, layout) == "parquet"
    ds = load_dataset(spark, tmp_path, "auto", layout)
    assert _rows(ds.ratings) == [("10", "7", 1.0, 1577934245), ("11", "8", 0.5, 1609459200)]


def _with_bad_rows(tmp_path: Path) -> Path:
    lines = ["user,item,rating,when"]
    lines += [f"u{i},m{i % 7},{1 + i % 5},{1000 + i}" for i in range(96)]
    lines.insert(10, "u x,m1,4,1")  # line 11: a space in the user id
    lines.insert(20, "u1,m1,lots,2")  # line 21: not a number
    lines.insert(30, "u1,m1,3,yesterday")  # line 31: an unreadable time
    lines.insert(40, "u1,,3,5")  # line 41: no item
    (tmp_path / "r.csv").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_bad_rows_are_counted_with_their_line_numbers(spark: SparkSession, tmp_path: Path) -> None:
    layout = TableLayout(
        ratings_file="r.csv", item_column="item", user_column="user", timestamp_column="when",
        max_bad_fraction=0.05,
    )  # fmt: skip
    ds = load_dataset(spark, _with_bad_rows(tmp_path), "csv", layout)
    assert ds.ratings.count() == 96
    bad = ds.bad_rows
    assert bad is not None and (bad.count, bad.total) == (4, 100)
    assert [e.split(":")[0] for e in bad.examples] == ["line 11", "line 21", "line 31", "line 41"]
    assert "user id" in bad.examples[0] and "not a number" in bad.examples[1]
    assert "timestamp" in bad.examples[2] and "item id" in bad.examples[3]


def test_too_many_bad_rows_fail_the_load_with_the_first_reasons(
    spark: SparkSession, tmp_path: Path
) -> None:
    layout = TableLayout(
        ratings_file="r.csv", item_column="item", user_column="user", timestamp_column="when",
        max_bad_fraction=0.03,
    )  # fmt: skip
    with pytest.raises(LayoutError, match=r"4 of 100 rows are bad.*line 11: user id"):
        load_dataset(spark, _with_bad_rows(tmp_path), "csv", layout).ratings.count()


def test_a_set_scale_leaves_out_ratings_outside_it(spark: SparkSession, tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("user_id,item_id,rating\na,x,-10\nb,x,3.3\nc,y,11\n")
    layout = TableLayout(ratings_file="r.csv", rating_scale="-10,10,0", max_bad_fraction=0.5)
    ds = load_dataset(spark, tmp_path, "csv", layout)
    assert _rows(ds.ratings) == [("a", "x", -10.0, 0), ("b", "x", 3.3, 0)]
    assert ds.bad_rows is not None and "outside the scale" in ds.bad_rows.examples[0]


def test_the_scale_is_read_off_the_data(spark: SparkSession) -> None:
    def scale_of(values: list[float]) -> tuple[float, float, float]:
        df = spark.createDataFrame([(v,) for v in values], "rating double")
        s = rating_scale(df)
        return s.low, s.high, s.step

    assert scale_of([0.5, 1.5, 5.0]) == (0.5, 5.0, 0.5)
    assert scale_of([0.0, 3.0, 10.0]) == (0, 10, 1)
    assert scale_of([-10.0, 0.3, 7.77]) == (-10.0, 7.77, 0.0)  # off any one step: continuous


def test_layout_settings_are_checked_at_start() -> None:
    with pytest.raises(ValueError, match="needs ratings_file"):
        config.load(["--data-format", "csv"], environ={})
    with pytest.raises(ValueError, match="rating_scale"):
        config.load(["--ratings-file", "r.csv", "--rating-scale", "5,1,1"], environ={})
    cfg = config.load(["--ratings-file", "r.csv", "--separator", ";"], environ={})
    layout = cfg.data.layout()
    assert layout is not None and (layout.ratings_file, layout.separator) == ("r.csv", ";")


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not beside the checkout")
def test_movietweetings_reads_as_published_by_settings_only(spark: SparkSession) -> None:
    cfg = shipped("movietweetings-100k")
    ds = load_dataset(spark, cfg.data.data_dir, cfg.data.data_format, cfg.data.layout())
    ratings = ds.ratings.cache()
    assert ratings.count() == 100_000
    assert ratings.select("user_id").distinct().count() == 16_554
    assert ds.bad_rows is not None and ds.bad_rows.count == 0
    scale = rating_scale(ratings)
    assert (scale.low, scale.high, scale.step) == (0, 10, 1)
    titles = {r.movie_id: r.title for r in ds.movies.collect()}
    assert len(titles) == 10_506
    assert titles["0002844"].startswith("Fant\u00f4mas - \u00c0 l'ombre")  # UTF-8, not garbled
    assert ratings.where("movie_id = '0104257'").count() > 0  # leading zeros kept
    ratings.unpersist()


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not beside the checkout")
def test_x_wines_reads_as_published_by_settings_only(spark: SparkSession) -> None:
    cfg = shipped("x-wines-slim")
    ds = load_dataset(spark, cfg.data.data_dir, cfg.data.data_format, cfg.data.layout())
    ratings = ds.ratings.cache()
    assert ratings.count() == 150_000
    scale = rating_scale(ratings)
    assert (scale.low, scale.high, scale.step) == (1.0, 5.0, 0.5)
    first, last = ratings.selectExpr("min(timestamp)", "max(timestamp)").first()  # type: ignore[misc]
    assert (first, last) == (1334868360, 1640995132)  # 2012-04-19 20:46:00 .. 2021-12-31 23:58:52
    wines = {r.movie_id: (r.title, list(r.genres)) for r in ds.movies.collect()}
    assert len(wines) == 1007 and wines["100001"] == ("Espumante Moscatel", ["Sparkling"])
    ratings.unpersist()


def test_an_interaction_without_a_rating_is_kept_with_no_rating(
    spark: SparkSession, tmp_path: Path
) -> None:
    """implicit_value rows stay (rating NULL) and count for nothing that reads ratings: not the
    scale, not the bad rows; any other text in the rating column is still a bad row."""
    (tmp_path / "r.csv").write_text(
        "u,i,r\nu1,a,4\nu1,b, view \nu2,a,view\nu2,b,2\nu3,c,views\nu3,a,9\n"
    )
    layout = TableLayout(
        ratings_file="r.csv", user_column="u", item_column="i", rating_column="r",
        implicit_value="view", rating_scale="1,5,1", max_bad_fraction=0.5,
    )  # fmt: skip
    ds = load_dataset(spark, tmp_path, "csv", layout)
    assert _rows(ds.ratings.fillna(-1.0, ["rating"])) == [
        ("u1", "a", 4.0, 0), ("u1", "b", -1.0, 0), ("u2", "a", -1.0, 0), ("u2", "b", 2.0, 0),
    ]  # fmt: skip
    assert ds.bad_rows is not None and ds.bad_rows.count == 2
    assert ds.bad_rows.examples == (
        "line 6: rating is not a number", "line 7: rating is outside the scale",
    )  # fmt: skip
    scale = rating_scale(ds.ratings)
    assert (scale.low, scale.high) == (2.0, 4.0)
    without = TableLayout(
        ratings_file="r.csv", user_column="u", item_column="i", rating_column="r",
        max_bad_fraction=0.9,
    )  # fmt: skip
    bad = load_dataset(spark, tmp_path, "csv", without).bad_rows
    assert bad is not None and bad.count == 3  # the three texts, now that none is implicit_value
