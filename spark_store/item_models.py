"""Item-item models in Spark: what reaches the driver, and the co-ratings in Spark when it
cannot (the models and their arithmetic: rec_service.domain.item_item).

Cosine and RP3beta start from the co-rating counts of one pass over the ratings
(`co_ratings`), made once per training: on the driver as sparse NumPy arrays of co-rated pairs
where there are few enough (DRIVER_MAX_PAIRS; each variant is then one sort, seconds),
otherwise as a Spark self-join that scales out with the cluster (each variant one window over
it). EASE^R's X'X is a dense product over user blocks (EaseInput) from every rating of the
movies it covers: its cost grows with users x movies^2, not with the pairs a heavy rater adds,
so the per-user cap that bounds the pairs is not applied to it.
"""

from __future__ import annotations

import logging

import numpy as np
from pyspark.sql import DataFrame, SparkSession

from rec_service.domain.item_item import (
    DriverCoRatings,
    ItemModel,
    capped_pairs,
    ease_gram,
    ease_weights,
    ratings_cap,
)
from rec_service.domain.model_types import ModelSettings
from rec_service.domain.ranking import (
    DenseItemWeights,
    ItemModelBlend,
    ItemNeighbours,
    ItemScorer,
    SingleItemScorer,
)
from spark_store.columns import numeric_columns

log = logging.getLogger(__name__)

# Co-rated (user, pair) rows up to which co-ratings are counted on the driver: about 40 bytes of
# working arrays per row, 1.6 GB at the limit (computed, not measured). The demo data has 6.9M
# once each user's ratings are capped at 300.
DRIVER_MAX_PAIRS = 40_000_000

# Pairs a training may count per rating once they pass what the driver holds: the work of
# the co-ratings stays linear in the ratings (co_ratings).
PAIRS_PER_RATING = 10.0

DEGREES_SQL = """
SELECT degree, COUNT(*) AS users FROM (
  SELECT COUNT(*) AS degree FROM {ratings} GROUP BY user_idx
) GROUP BY degree
"""

CAPPED_SQL = """
SELECT user_idx, item_idx FROM (
  SELECT user_idx, item_idx, ROW_NUMBER() OVER (
    PARTITION BY user_idx ORDER BY timestamp DESC, item_idx) AS position
  FROM {ratings}
) WHERE position <= {per_user}
"""

CO_RATINGS_SQL = """
WITH rated AS (
  SELECT user_idx, item_idx FROM {capped}
),
degree AS (
  SELECT user_idx, 1.0 / COUNT(*) AS inverse_degree FROM rated GROUP BY user_idx
),
raters AS (
  SELECT item_idx, COUNT(*) AS n FROM rated GROUP BY item_idx
),
pairs AS (
  SELECT a.item_idx AS i, b.item_idx AS j, COUNT(*) AS both_rated,
         SUM(d.inverse_degree) AS walk
  FROM rated a
  JOIN rated b ON a.user_idx = b.user_idx AND a.item_idx < b.item_idx
  JOIN degree d ON d.user_idx = a.user_idx
  GROUP BY a.item_idx, b.item_idx
),
both_ways AS (
  SELECT i AS item_idx, j AS other_idx, both_rated, walk FROM pairs
  UNION ALL
  SELECT j AS item_idx, i AS other_idx, both_rated, walk FROM pairs
)
SELECT c.item_idx, c.other_idx, c.both_rated, c.walk,
       CAST(ri.n AS DOUBLE) AS item_raters, CAST(ro.n AS DOUBLE) AS other_raters
FROM both_ways c
JOIN raters ri ON ri.item_idx = c.item_idx
JOIN raters ro ON ro.item_idx = c.other_idx
"""

# item_idx is the target movie (the one scored), neighbour_idx the rated one; `keep_per` names
# the column whose k strongest links are kept.
TOP_K_SQL = """
SELECT item_idx, neighbour_idx, CAST(similarity AS FLOAT) AS similarity FROM (
  SELECT item_idx, neighbour_idx, similarity, ROW_NUMBER() OVER (
    PARTITION BY {keep_per} ORDER BY similarity DESC, item_idx, neighbour_idx) AS position
  FROM (SELECT item_idx, other_idx AS neighbour_idx, {similarity} AS similarity FROM {co})
) WHERE position <= {k}
"""
COSINE = "both_rated / SQRT(item_raters * other_raters)"
# The walk from rated movie `other` to target `item`: sum over co-raters of 1/degree, divided
# by the source's raters (the walk's middle step) and the target's raters^beta (popularity).
RP3BETA = "walk / (other_raters * POW(item_raters, {beta}))"


class SparkCoRatings:
    """Every co-rated movie pair with its counts, cached in Spark: cosine and RP3beta for a
    catalogue too large for the driver."""

    def __init__(self, spark: SparkSession, capped: DataFrame, items: int, ease: EaseInput) -> None:
        self.spark, self.capped, self.items, self.ease = spark, capped, items, ease
        view = f"co_ratings_input_{id(self)}"
        capped.createOrReplaceTempView(view)
        try:
            self.df = spark.sql(CO_RATINGS_SQL.format(capped=view)).cache()
        finally:
            spark.catalog.dropTempView(view)
        self._view = f"co_ratings_{id(self)}"
        self.df.createOrReplaceTempView(self._view)

    def table(self, model: ItemModel) -> DataFrame:
        """(item_idx, neighbour_idx, similarity) of a cosine or RP3beta model, cached."""
        if model.kind == "cosine":
            similarity, keep_per = COSINE, "item_idx"
        elif model.kind == "rp3beta":
            similarity, keep_per = RP3BETA.format(beta=float(model.param)), "neighbour_idx"
        else:
            raise ValueError(f"{model.kind} is not a co-rating model")
        sql = TOP_K_SQL.format(
            keep_per=keep_per, similarity=similarity, co=self._view, k=int(model.neighbours)
        )
        return self.spark.sql(sql).cache()

    def links(self, model: ItemModel, ease_max_items: int) -> SingleItemScorer:
        if model.kind == "ease":
            return self.ease.weights(model, ease_max_items)
        table = self.table(model)
        try:
            return collect_links(table, self.items)
        finally:
            table.unpersist()

    def release(self) -> None:
        self.spark.catalog.dropTempView(self._view)
        self.df.unpersist()
        self.capped.unpersist()
        self.ease.release()


CoRatings = SparkCoRatings | DriverCoRatings


def co_ratings(
    spark: SparkSession,
    indexed: DataFrame,
    per_user: int,
    item_count: int,
    pairs_per_rating: float = PAIRS_PER_RATING,
    driver_max_pairs: int = DRIVER_MAX_PAIRS,
) -> CoRatings:
    """The co-ratings of each user's most recent ratings, at most `per_user` of them and fewer
    where the pairs would pass the budget: on the driver when they fit DRIVER_MAX_PAIRS, a Spark
    table otherwise.

    The cap is Mahout's maxPrefsPerUser: the pairs a user contributes grow with the square of
    their ratings, so a few heavy raters dominate the work; capping them cut the time several
    times over at no measurable cost in NDCG (benchmarks/results/design-measurements.md).
    Scoring still uses all of a user's ratings.

    A fixed cap keeps the work linear in the users, but at up to per_user / 2 pairs per rating:
    60 on synthetic data, 1.5 billion rows at 25M ratings. So the cap is lowered until the pairs
    fit max(DRIVER_MAX_PAIRS, pairs_per_rating x ratings): a data set whose pairs fit the
    driver keeps per_user (the demo data, MovieLens 100K), a larger one does work linear in its
    ratings.

    EASE^R is not capped (EaseInput, from all of `indexed`): it ranks better from every rating
    than from each user's latest (design-measurements.md), and its cost does not grow with
    the pairs a heavy rater adds."""
    view = f"capped_input_{id(indexed)}"
    indexed.select("user_idx", "item_idx", "timestamp").createOrReplaceTempView(view)
    try:
        degrees = spark.sql(DEGREES_SQL.format(ratings=view)).collect()
        histogram = (
            np.asarray([r[0] for r in degrees], dtype=np.int64),
            np.asarray([r[1] for r in degrees], dtype=np.int64),
        )
        ratings = int((histogram[0] * histogram[1]).sum())
        budget = max(driver_max_pairs, int(pairs_per_rating * ratings))
        cap = ratings_cap(histogram, per_user, budget)
        pairs = capped_pairs(histogram, cap)
        if cap < per_user:
            log.info(
                "co-ratings: each user's %d most recent ratings count (not %d): %d pairs fit "
                "the budget of %d (%.0f per rating)",
                cap,
                per_user,
                pairs,
                budget,
                pairs_per_rating,
            )
        capped = spark.sql(CAPPED_SQL.format(ratings=view, per_user=cap)).cache()
    finally:
        spark.catalog.dropTempView(view)
    ease = EaseInput(indexed.select("user_idx", "item_idx"), item_count)
    if pairs <= driver_max_pairs:
        users, items = _pairs(capped)
        capped.unpersist()
        return DriverCoRatings(users, items, item_count, ease)
    log.info(
        "co-ratings in Spark: %d co-rated (user, pair) rows, above the driver's %d",
        pairs,
        driver_max_pairs,
    )
    return SparkCoRatings(spark, capped, item_count, ease)


def cosine_links(co: CoRatings, k: int) -> ItemNeighbours:
    """Item-CF: each movie's k most similar movies by cosine (always sparse links)."""
    links = co.links(ItemModel("cosine", 0.0, k), ease_max_items=0)
    assert isinstance(links, ItemNeighbours)  # only EASE^R is dense
    return links


def ranker_item_item(
    co: CoRatings,
    settings: ModelSettings,
    ease_max_items: int,
    neighbours: ItemNeighbours | None = None,
) -> ItemScorer:
    """GetTopN's item-item part with these settings: its model, blended with the second where
    there is one. A model that is the Item-CF table is `neighbours` itself (built here when not
    given), not fitted twice: at 25M ratings each pass over the co-ratings takes minutes."""
    uses_table = settings.ranking_uses_cf_neighbours or settings.second_is_cf_neighbours
    if neighbours is None and uses_table:
        neighbours = cosine_links(co, settings.cf_neighbours)
    first = (
        neighbours
        if settings.ranking_uses_cf_neighbours and neighbours is not None
        else co.links(settings.first_item_model(), ease_max_items)
    )
    second_model = settings.second_item_model_of()
    if second_model is None:
        return first
    second = (
        neighbours
        if settings.second_is_cf_neighbours and neighbours is not None
        else co.links(second_model, ease_max_items)
    )
    return ItemModelBlend(first, second, settings.second_item_model_share)


def collect_links(table: DataFrame, items: int) -> ItemNeighbours:
    """A link table as NumPy arrays on the driver, packed per partition (numeric_columns): a
    Row per link held the whole table as JVM rows first, and at 25M ratings (59,524 movies'
    links) that ran a retrain's driver out of heap in collectToPython."""
    targets, neighbours, similarities = numeric_columns(
        table.select("item_idx", "neighbour_idx", "similarity"), (np.int64, np.int64, np.float32)
    )
    return ItemNeighbours.from_pairs(targets, neighbours, similarities, items)


class EaseInput:
    """EASE^R's input: every (user, movie) training row, collected when an EASE^R model is first
    asked for; X'X over the most-rated movies is then kept for the other lambdas tuning tries
    (float32: 100 MB at 5000 movies; exact counts up to 2^24 co-raters)."""

    def __init__(self, ratings: DataFrame, item_count: int) -> None:
        self.ratings, self.items = ratings, item_count
        self._gram: tuple[int, np.ndarray, np.ndarray] | None = None  # (max_items, kept, X'X)

    def weights(self, model: ItemModel, max_items: int) -> DenseItemWeights:
        if self._gram is None or self._gram[0] != max_items:
            self._gram = None  # the old one freed before the new one is built
            users, items = _pairs(self.ratings)
            self._gram = (max_items, *ease_gram(users, items, self.items, max_items))
        _, kept, gram = self._gram
        return ease_weights(gram, kept, model, self.items)

    def release(self) -> None:
        self._gram = None


def _pairs(ratings: DataFrame) -> tuple[np.ndarray, np.ndarray]:
    users, items = numeric_columns(ratings, (np.int64, np.int64))
    return users, items
