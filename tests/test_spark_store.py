"""Spark side on tiny data with known answers: ALS training, model files, the upsert table,
and the bulk precompute agreeing with the per-read recompute."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pyspark.sql import SparkSession

from rec_service.domain.model_types import AlsParams, ModelSettings, TrainingData
from rec_service.domain.ranking import (
    DenseItemWeights,
    ItemModelBlend,
    ItemNeighbours,
    blend,
    top_n,
)
from spark_store import model_files
from spark_store.models import train_models
from spark_store.precompute import precompute_lists
from spark_store.tables import UpsertTable
from spark_store.training import als_blocks, apply_index

# Two taste groups: group A loves movies a0-a5 and hates b0-b5, group B the opposite. Each
# user leaves one movie of their own group unrated: that movie must top their list.
A = [f"a{i}" for i in range(6)]
B = [f"b{i}" for i in range(6)]


def _checkerboard(spark: SparkSession):  # type: ignore[no-untyped-def]
    rows, held_out = [], {}
    for u in range(12):
        user = f"u{u}"
        mine, theirs = (A, B) if u < 6 else (B, A)
        held_out[user] = mine[u % 6]
        rows += [(user, m, 5.0, 1000 + u) for m in mine if m != held_out[user]]
        rows += [(user, m, 1.0, 1000 + u) for m in theirs]
    return spark.createDataFrame(
        rows, "user_id string, movie_id string, rating double, timestamp long"
    ), held_out


CHECKERBOARD = TrainingData("checkerboard", "parquet")


@pytest.fixture(scope="module")
def trained(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    ratings, held_out = _checkerboard(spark)
    params = AlsParams(rank=4, reg_param=0.05, max_iter=15, seed=7)
    settings = ModelSettings(ranking=params, rating=params, cf_neighbours=3, blend_als_weight=0.5)
    result = train_models(spark, ratings, settings)
    model_dir = tmp_path_factory.mktemp("cb") / "model"
    version = model_files.save_model(spark, result, str(model_dir), CHECKERBOARD, 0)
    return ratings, held_out, result, model_dir, version


def test_als_recommends_the_held_out_movie_of_the_users_group(trained) -> None:  # type: ignore[no-untyped-def]
    ratings, held_out, result, model_dir, _ = trained
    model = model_files.load_model(ratings.sparkSession, str(model_dir))
    for user, movie in held_out.items():
        u = model.user_ids.index(user)
        rated = [model.item_ids.index(m) for m in (A + B) if m != movie]
        arrays = model.arrays
        scores = arrays.ranking_items @ arrays.ranking_users[u]
        best, _ = top_n(scores, 1, exclude=np.array(rated))
        assert model.item_ids[best[0]] == movie
    assert result.scale.low == 1.0 and result.scale.high == 5.0 and result.scale.step == 4.0


def test_model_directory_round_trip(trained, spark: SparkSession) -> None:  # type: ignore[no-untyped-def]
    _, _, result, model_dir, version = trained
    loaded = model_files.load_model(spark, str(model_dir))
    assert loaded.version == version
    assert loaded.user_ids == result.user_ids and loaded.item_ids == result.item_ids
    for spark_model, users in (
        (result.ranking, loaded.arrays.ranking_users),
        (result.rating, loaded.arrays.rating_users),
    ):
        for row in spark_model.userFactors.collect():
            np.testing.assert_allclose(users[row.id], row.features, rtol=1e-6)
    np.testing.assert_allclose(loaded.arrays.biases.user, result.biases.user)
    np.testing.assert_allclose(loaded.arrays.biases.item, result.biases.item)
    assert loaded.arrays.biases.mean == pytest.approx(result.biases.mean)
    neighbours = loaded.arrays.neighbours
    np.testing.assert_array_equal(neighbours.neighbour, result.neighbours.neighbour)
    np.testing.assert_array_equal(neighbours.similarity, result.neighbours.similarity)
    assert loaded.arrays.item_item is None  # cosine ranker: the Item-CF table itself
    assert all(len(neighbours.neighbours(j)[0]) <= 3 for j in range(len(loaded.item_ids)))
    assert loaded.settings == result.settings
    # Saving again replaces it atomically with a new version and leaves no staging dirs.
    version2 = model_files.save_model(spark, result, str(model_dir), CHECKERBOARD, 0)
    assert version2 != version
    assert model_files.read_metadata(None, str(model_dir))["version"] == version2
    assert [p.name for p in Path(model_dir).parent.iterdir()] == ["model"]


def test_a_model_directory_can_be_a_hadoop_filesystem_url(  # type: ignore[no-untyped-def]
    trained, spark: SparkSession, tmp_path: Path
) -> None:
    """model_dir as a URL goes through Hadoop's FileSystem API (file:// here; hdfs:// and s3a://
    take the same calls): saved, replaced and loaded back with the same factors and links."""
    _, _, result, _, _ = trained
    url = (tmp_path / "shared" / "model").as_uri()
    assert url.startswith("file:///") and not model_files.model_exists(spark, url)
    with pytest.raises(ValueError, match="reached through Spark"):
        model_files.model_exists(None, url)
    first = model_files.save_model(spark, result, url, CHECKERBOARD, 0)
    second = model_files.save_model(spark, result, url, CHECKERBOARD, 0)
    assert first != second and model_files.read_metadata(spark, url)["version"] == second
    assert model_files.model_exists(spark, url)
    # The replaced version and the staging directory are gone (Hadoop's .crc files aside).
    assert [p.name for p in (tmp_path / "shared").iterdir()] == ["model"]
    loaded = model_files.load_model(spark, url)
    assert loaded.version == second and loaded.item_ids == result.item_ids
    np.testing.assert_array_equal(loaded.arrays.neighbours.neighbour, result.neighbours.neighbour)
    np.testing.assert_allclose(loaded.arrays.biases.item, result.biases.item)
    for row in result.ranking.userFactors.collect():
        np.testing.assert_allclose(loaded.arrays.ranking_users[row.id], row.features, rtol=1e-6)


def _trained_with_item_model(  # type: ignore[no-untyped-def]
    spark: SparkSession,
    tmp_path_factory: pytest.TempPathFactory,
    kind: str,
    param: float,
    **second_model: object,
):
    """The checkerboard with a ranker as tuning may choose it: an item-item model (and a second
    blended into it), ALS and popularity blended."""
    ratings, held_out = _checkerboard(spark)
    params = AlsParams(rank=4, reg_param=0.05, max_iter=15, seed=7)
    settings = ModelSettings(
        ranking=params,
        rating=params,
        cf_neighbours=3,
        blend_als_weight=0.3,
        item_model=kind,
        item_model_param=param,
        item_model_links=4,
        blend_popularity_weight=0.2,
        **second_model,  # type: ignore[arg-type]
    )
    result = train_models(spark, ratings, settings)
    model_dir = tmp_path_factory.mktemp(f"cb-{kind}") / "model"
    version = model_files.save_model(spark, result, str(model_dir), CHECKERBOARD, 0)
    return ratings, held_out, result, model_dir, version


@pytest.fixture(scope="module")
def trained_rp3beta(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return _trained_with_item_model(spark, tmp_path_factory, "rp3beta", 0.5)


@pytest.fixture(scope="module")
def trained_ease(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return _trained_with_item_model(spark, tmp_path_factory, "ease", 2.0)


@pytest.fixture(scope="module")
def trained_two_models(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return _trained_with_item_model(
        spark,
        tmp_path_factory,
        "ease",
        2.0,
        second_item_model="rp3beta",
        second_item_model_param=0.5,
        second_item_model_links=4,
        second_item_model_share=0.35,
    )


def test_a_second_item_model_is_saved_and_blended_as_trained(trained_two_models, spark) -> None:  # type: ignore[no-untyped-def]
    _, _, result, model_dir, _ = trained_two_models
    assert isinstance(result.item_item, ItemModelBlend)
    assert isinstance(result.item_item.first, DenseItemWeights)
    assert isinstance(result.item_item.second, ItemNeighbours)
    assert (model_dir / model_files.SECOND_ITEM_ITEM).is_file()
    loaded = model_files.load_model(spark, str(model_dir))
    blended = loaded.arrays.item_item
    assert isinstance(blended, ItemModelBlend) and blended.second_share == 0.35
    rated = np.array([0, 3, 7])
    items = len(loaded.item_ids)
    np.testing.assert_allclose(
        blended.scores(rated, items), result.item_item.scores(rated, items), rtol=1e-6
    )
    # Both parts count: the blend differs from either model alone.
    assert not np.allclose(blended.scores(rated, items), blended.first.scores(rated, items))
    assert loaded.settings.second_item_model == "rp3beta"


def test_a_second_model_that_is_the_item_cf_table_is_that_table(  # type: ignore[no-untyped-def]
    spark: SparkSession, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _, _, result, model_dir, _ = _trained_with_item_model(
        spark,
        tmp_path_factory,
        "ease",
        2.0,
        second_item_model="cosine",
        second_item_model_share=0.2,
    )
    assert isinstance(result.item_item, ItemModelBlend)
    assert result.item_item.second is result.neighbours  # fitted once, not twice
    assert not (model_dir / model_files.SECOND_ITEM_ITEM).exists()  # nor saved twice
    loaded = model_files.load_model(spark, str(model_dir))
    blended = loaded.arrays.item_item
    assert isinstance(blended, ItemModelBlend) and blended.second is loaded.arrays.neighbours
    rated = np.array([0, 3, 7])
    items = len(loaded.item_ids)
    np.testing.assert_allclose(
        blended.scores(rated, items), result.item_item.scores(rated, items), rtol=1e-6
    )


def test_a_model_whose_second_item_model_file_is_missing_is_damaged(  # type: ignore[no-untyped-def]
    trained_two_models, spark, tmp_path
) -> None:
    import shutil

    _, _, _, model_dir, _ = trained_two_models
    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    (copy / model_files.SECOND_ITEM_ITEM).unlink()
    with pytest.raises(model_files.ModelDirDamaged, match="ranking_links_second"):
        model_files.load_model(spark, str(copy))


def test_a_chosen_item_model_is_saved_beside_the_item_cf_table(trained_rp3beta, spark) -> None:  # type: ignore[no-untyped-def]
    _, _, result, model_dir, _ = trained_rp3beta
    loaded = model_files.load_model(spark, str(model_dir))
    links = loaded.arrays.item_item
    assert result.item_item is not None and links is not None
    np.testing.assert_array_equal(links.neighbour, result.item_item.neighbour)
    assert links.neighbour.size and not np.array_equal(
        loaded.arrays.neighbours.similarity[: links.similarity.size], links.similarity
    )
    assert loaded.settings.item_model == "rp3beta"


def test_ease_weights_are_saved_and_loaded_whole(trained_ease, spark) -> None:  # type: ignore[no-untyped-def]
    _, _, result, model_dir, _ = trained_ease
    loaded = model_files.load_model(spark, str(model_dir))
    weights = loaded.arrays.item_item
    assert isinstance(weights, DenseItemWeights) and isinstance(result.item_item, DenseItemWeights)
    np.testing.assert_array_equal(weights.kept, result.item_item.kept)
    np.testing.assert_array_equal(weights.weights, result.item_item.weights)
    assert weights.weights.shape == (len(loaded.item_ids),) * 2  # every rated movie


@pytest.mark.parametrize(
    "which", ["trained", "trained_rp3beta", "trained_ease", "trained_two_models"]
)
def test_bulk_precompute_matches_the_per_read_ranking(
    which: str, request: pytest.FixtureRequest, spark: SparkSession
) -> None:
    ratings, _, _, model_dir, _ = request.getfixturevalue(which)
    model = model_files.load_model(spark, str(model_dir))
    indexed = apply_index(spark, ratings, model.user_ids, model.item_ids)
    users = spark.createDataFrame([("u1",), ("u7",)], "user_id string")
    counts = np.bincount(
        [r.item_idx for r in indexed.select("item_idx").collect()], minlength=len(model.item_ids)
    )
    rows = {
        r.user_id: r
        for r in precompute_lists(
            spark, model, str(model_dir), indexed, users, 3, 123, counts
        ).collect()
    }
    assert set(rows) == {"u1", "u7"}
    for user, row in rows.items():
        u = model.user_ids.index(user)
        rated = np.array([r.item_idx for r in indexed.filter(f"user_idx = {u}").collect()])
        arrays = model.arrays
        blended = blend(
            arrays.ranking_items @ arrays.ranking_users[u],
            arrays.ranker_item_item.scores(rated, len(model.item_ids)),
            model.settings.blend_als_weight,
            counts,
            model.settings.blend_popularity_weight,
        )
        best, scores = top_n(blended, 3, exclude=rated)
        assert list(row.movie_ids) == [model.item_ids[j] for j in best]
        np.testing.assert_allclose(row.scores, scores, rtol=1e-5)
        assert row.computed_at_us == 123 and row.model_version == model.version
        assert not set(row.movie_ids) & {model.item_ids[j] for j in rated}


def test_upsert_table_replaces_by_key_and_stays_queryable(spark: SparkSession) -> None:
    table = UpsertTable(spark, "upsert_probe", "k string, v long, at_us long", key="k")
    table.upsert([("a", 1, 1_000_000), ("b", 2, 2_000_000)])
    for i in range(20):  # many merges: lineage is cut each time, the answer stays right
        table.upsert([("a", 10 + i, 3_000_000)])
    rows = spark.sql("SELECT k, v, unix_micros(at) FROM upsert_probe ORDER BY k").collect()
    assert [tuple(r) for r in rows] == [("a", 29, 3_000_000), ("b", 2, 2_000_000)]


def test_the_session_has_a_checkpoint_directory(spark: SparkSession) -> None:
    """ALS cuts its lineage only where one is set; without it a first start's training failed
    now and then with a StackOverflowError."""
    directory = spark.sparkContext.getCheckpointDir()
    assert directory is not None and "movierec-checkpoints-" in directory


def test_als_blocks_grow_with_the_ratings_so_no_task_builds_a_huge_block() -> None:
    assert als_blocks(2, 100_836) == 2  # the demo data keeps the configured count
    assert als_blocks(2, 4_000_000) == 2
    assert als_blocks(2, 4_000_001) == 3
    assert als_blocks(2, 25_000_000) == 13
    assert als_blocks(20, 25_000_000) == 20  # a larger configured count stands
