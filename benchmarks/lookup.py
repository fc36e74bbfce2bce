"""Suite section 1: list lookup latency vs data size for three ways of keeping lists.

- a Spark SQL query per read against a cached in-memory table (the original system's read),
- a MySQL primary-key query per read (the baseline, through MySqlListStore.get),
- movierec's list index: the Spark SQL store's in-process index (SparkListStore.get), and
  movierec's whole in-process read: Recommender.top_n on a fresh list plus building the
  GetTopNResponse, over a synthetic model with that many users (everything but gRPC).
Every size holds `users` lists of 50 movies; each approach is timed on the same random users.
"""

from __future__ import annotations

import random
import time

import numpy as np
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from rec_service.app.list_stores.mysql import MySqlListStore, MySqlSettings
from rec_service.core.live_model import LiveModel
from rec_service.core.recommender import Recommender
from rec_service.core.serving_model import (
    ModelFacts,
    Movie,
    MovieFilter,
    RatingModel,
    ServingModel,
)
from rec_service.domain.model_types import BiasParams, RatingScale, RecList
from rec_service.domain.ranking import ItemNeighbours
from rec_service.edge.servicer import top_n_response
from spark_store.list_store import SparkListStore

LIST_LENGTH = 50
MOVIES = [str(m) for m in range(1, 20_001)]


def _lists(users: int) -> list[tuple[str, RecList]]:
    rng = random.Random(users)
    scores = tuple(float(LIST_LENGTH - i) for i in range(LIST_LENGTH))
    return [
        (f"u{u}", RecList(tuple(rng.sample(MOVIES, LIST_LENGTH)), scores, 1_000_000 + u, "bench"))
        for u in range(users)
    ]


def _keys(users: int, n: int) -> list[str]:
    """n random users (with repeats when n exceeds the users), the same for every approach."""
    return [f"u{k}" for k in random.Random(2).choices(range(users), k=n)]


def _summary(latencies_s: list[float], wall_s: float) -> dict[str, float]:
    ms = np.asarray(latencies_s) * 1000
    return {
        "n": float(len(ms)),
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "per_s": len(ms) / wall_s,
    }


def _timed(lookup: object, keys: list[str]) -> dict[str, float]:
    latencies = []
    started = time.perf_counter()
    for key in keys:
        t = time.perf_counter()
        lookup(key)  # type: ignore[operator]
        latencies.append(time.perf_counter() - t)
    return _summary(latencies, time.perf_counter() - started)


def spark_sql_per_read(spark: SparkSession, users: int, lookups: int) -> dict[str, float]:
    table = (
        spark.range(users)
        .select(
            F.concat(F.lit("u"), F.col("id").cast("string")).alias("user_id"),
            F.transform(
                F.sequence(F.lit(0), F.lit(LIST_LENGTH - 1)),
                lambda i: ((F.col("id") * 7919 + i * 104729) % 20000 + 1).cast("string"),
            ).alias("movie_ids"),
            F.lit(1_000_000).alias("computed_at_us"),
        )
        .cache()
    )
    table.count()
    table.createOrReplaceTempView("bench_lists")
    keys = _keys(users, lookups)

    def lookup(key: str) -> object:
        return spark.sql(f"SELECT movie_ids FROM bench_lists WHERE user_id = '{key}'").collect()

    for key in keys[:10]:  # warm-up: the JVM's JIT and Spark's planning caches
        lookup(key)
    result = _timed(lookup, keys)
    table.unpersist()
    return result


def mysql_per_read(users: int, lookups: int, lists: list[tuple[str, RecList]]) -> dict[str, float]:
    store = MySqlListStore(MySqlSettings(database=f"movierec_bench_{users}"), reset=True)
    started = time.perf_counter()
    store.put_many(lists)
    load_s = time.perf_counter() - started
    keys = _keys(users, lookups)
    for key in keys[:100]:  # warm the buffer pool a little, as a running server would be
        store.get(key)
    result = _timed(store.get, keys)
    result["load_s"] = load_s
    return result


def movierec_read_path(
    spark: SparkSession, users: int, lookups: int, lists: list[tuple[str, RecList]]
) -> dict[str, float]:
    store = SparkListStore(spark)
    store.put_many(lists)  # the index only; the Spark table's write-back is not on the read path
    keys = _keys(users, lookups)
    return _timed(store.get, keys)


class _NoActivity:
    """Nobody has acted since their list was computed: every list is fresh."""

    def last_active_us(self, user_id: str) -> int:
        return 0

    def record_access(self, user_id: str) -> None:
        pass

    def record_activity(self, user_id: str, at_us: int) -> None:
        pass

    def flush(self, counts: bool = True) -> int:
        return 0


def synthetic_model(users: int, rank: int = 10) -> ServingModel:
    """A model with `users` users and the 20,000 movies the lists name; nobody rated anything."""
    rng = np.random.default_rng(users)
    items = len(MOVIES)
    movies = {m: Movie(m, f"Movie {m}", ("Drama",), 10, 35.0, 10) for m in MOVIES}
    no_links = ItemNeighbours.empty(items)
    return ServingModel(
        version="bench",
        trained_at_us=0,
        scale=RatingScale(0.5, 5.0, 0.5),
        implicit=False,
        movies=movies,
        genre_bits={"Drama": 1},
        global_mean=3.5,
        user_index={f"u{u}": u for u in range(users)},
        item_ids=list(MOVIES),
        item_index={m: j for j, m in enumerate(MOVIES)},
        user_factors=rng.standard_normal((users, rank), dtype=np.float32),
        item_factors=rng.standard_normal((items, rank), dtype=np.float32),
        rating=RatingModel(
            mean=3.5,
            user_bias=np.zeros(users),
            item_bias=np.zeros(items),
            user_factors=np.zeros((users, rank), dtype=np.float32),
            item_factors=np.zeros((items, rank), dtype=np.float32),
            reg_param=0.1,
            bias=BiasParams(),
        ),
        neighbours=no_links,
        item_item=no_links,
        blend_als_weight=1.0,
        blend_popularity_weight=0.0,
        item_genre_bits=np.ones(items, dtype=np.int64),
        item_rating_count=np.full(items, 10, dtype=np.int64),
        rated_indptr=np.zeros(users + 1, dtype=np.int64),
        rated_items=np.zeros(0, dtype=np.int64),
        rated_values=np.zeros(0, dtype=np.float32),
        popularity=np.arange(items),
        facts=ModelFacts({}, users, items, 0, 0.0),
    )


def movierec_full_read(
    spark: SparkSession, users: int, lookups: int, lists: list[tuple[str, RecList]]
) -> dict[str, float]:
    store = SparkListStore(spark)
    store.put_many(lists)
    recommender = Recommender(LiveModel(synthetic_model(users)), store, _NoActivity(), 50)
    everything = MovieFilter()
    keys = _keys(users, lookups)

    def read(user: str) -> object:
        result = recommender.top_n(user, 10, everything)
        assert result.source.name == "PRECOMPUTED"
        return top_n_response(result)

    return _timed(read, keys)


def run(spark: SparkSession, sizes: list[int], spark_lookups: int, lookups: int) -> list[dict]:
    rows = []
    for users in sizes:
        lists = _lists(users)
        row = {"users": users}
        row["spark_sql"] = spark_sql_per_read(spark, users, spark_lookups)
        row["mysql"] = mysql_per_read(users, lookups, lists)
        row["movierec"] = movierec_read_path(spark, users, lookups * 10, lists)
        row["movierec_read"] = movierec_full_read(spark, users, lookups * 5, lists)
        del lists
        print(
            f"lookup {users:>8} users: spark sql p50 {row['spark_sql']['p50_ms']:.2f} ms, "
            f"mysql p50 {row['mysql']['p50_ms']:.3f} ms, movierec index p50 "
            f"{row['movierec']['p50_ms'] * 1000:.2f} us, whole read p50 "
            f"{row['movierec_read']['p50_ms'] * 1000:.1f} us"
        )
        rows.append(row)
    return rows
