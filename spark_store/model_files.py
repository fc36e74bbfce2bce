"""Saves and loads a model directory: the models of one version, id maps and metadata.

Layout (written to a temporary sibling, then renamed, so a crash never leaves half a model):
  metadata.json   version, trained_at, settings, rating scale, counts, the training data (which
                  ratings set, through which log segment) and the instant its data was cut
  user_ids.json   wire id of each user index
  item_ids.json   wire id of each movie index
  ranking/        implicit ALS for GetTopN (pyspark ALSModel.save: Parquet factors)
  rating/         explicit ALS on the bias residuals, for PredictRating (ALSModel.save)
  biases.npz      global mean, user biases, movie biases of the rating model
  item_cf.npz     (item, neighbour, similarity) arrays: Item-CF cosine neighbours
  ranking_links.npz  the same for the ranker's item-item part, when it is not item_cf
                  (RP3beta or EASE^R, chosen by tuning)
  ranking_links_second.npz  the second item-item model blended into that part, when the
                  settings have one and it is not item_cf (its share is in the settings)
  metadata.json's "tuning": the ranker chosen, every candidate's validation figures, the time
Any Spark job can load the ALS models; the link arrays load with NumPy alone. model_dir is a
local path or any Spark/Hadoop filesystem URL (model_fs).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
from pyspark.ml.recommendation import ALSModel
from pyspark.sql import SparkSession

from rec_service.domain.model_types import (
    Biases,
    FactorModel,
    ModelSettings,
    RatingScale,
    TrainingData,
)
from rec_service.domain.ranking import (
    DenseItemWeights,
    ItemModelBlend,
    ItemNeighbours,
    ItemScorer,
    SingleItemScorer,
)
from spark_store.model_fs import ModelDir, open_model_dir
from spark_store.models import TrainedModels, collect_arrays

# Bumped when the layout changes; a directory of another format is retrained, not misread.
FORMAT = 3

ITEM_CF = "item_cf.npz"
# The ranker's item-item part; absent when it is the Item-CF table. The file keeps the name
# it had before the part was called item_item, so saved models still load.
ITEM_ITEM = "ranking_links.npz"
# The second model of a two-model item-item part (ranking.ItemModelBlend). A server older than it
# reads the first part alone and ignores this file: it serves the model without the second.
SECOND_ITEM_ITEM = "ranking_links_second.npz"


def model_exists(spark: SparkSession | None, model_dir: str) -> bool:
    """A model directory of this format is there (an older format counts as none)."""
    root = open_model_dir(spark, model_dir)
    return root.is_file("metadata.json") and _metadata(root).get("format") == FORMAT


def save_model(
    spark: SparkSession,
    trained: TrainedModels,
    model_dir: str,
    training_data: TrainingData,
    data_cut_us: int,
) -> str:
    """Writes the model directory atomically and returns the new model version."""
    target = open_model_dir(spark, model_dir)
    trained_at = datetime.now(UTC)
    digest = hashlib.sha256(
        json.dumps(
            [
                trained.settings.as_dict(),
                training_data.path,
                trained.num_ratings,
                trained_at.isoformat(),
            ]
        ).encode()
    ).hexdigest()[:8]
    version = f"{trained_at:%Y%m%dT%H%M%SZ}-{digest}"
    staging = target.staging()
    try:
        _write_model(trained, staging, version, trained_at, training_data, data_cut_us)
    except BaseException:
        staging.remove()  # a failed or cancelled save leaves nothing beside the model
        raise
    target.replace_with(staging)
    return version


def _write_model(
    trained: TrainedModels,
    staging: ModelDir,
    version: str,
    trained_at: datetime,
    training_data: TrainingData,
    data_cut_us: int,
) -> None:
    """Every file of the model into `staging`, metadata.json (which makes it a model) last."""
    trained.ranking.write().overwrite().save(staging.child("ranking"))
    trained.rating.write().overwrite().save(staging.child("rating"))
    save_links(trained.neighbours, staging, ITEM_CF)
    first = trained.item_item
    if isinstance(first, ItemModelBlend):
        if first.second is not trained.neighbours:
            save_links(first.second, staging, SECOND_ITEM_ITEM)
        first = first.first
    if first is not None and first is not trained.neighbours:
        save_links(first, staging, ITEM_ITEM)
    biases = trained.biases
    _write_arrays(staging, "biases.npz", mean=biases.mean, user=biases.user, item=biases.item)
    staging.write_text("user_ids.json", json.dumps(trained.user_ids))
    staging.write_text("item_ids.json", json.dumps(trained.item_ids))
    metadata = {
        "format": FORMAT,
        "version": version,
        "trained_at": trained_at.isoformat(),
        "settings": trained.settings.as_dict(),
        "scale": {"low": trained.scale.low, "high": trained.scale.high, "step": trained.scale.step},
        "num_ratings": trained.num_ratings,
        "num_users": len(trained.user_ids),
        "num_items": len(trained.item_ids),
        "fit_seconds": round(trained.fit_seconds, 3),
        "training_data": training_data.as_dict(),
        "data_cut_us": data_cut_us,
        "tuning": trained.tuning,
        "implicit_weight": trained.implicit_weight,
    }
    staging.write_text("metadata.json", json.dumps(metadata, indent=2))


def read_metadata(spark: SparkSession | None, model_dir: str) -> dict[str, Any]:
    return _metadata(open_model_dir(spark, model_dir))


def _metadata(root: ModelDir) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(root.read_text("metadata.json"))
    return data


class ModelDirDamaged(RuntimeError):
    """A file of a saved model is missing or cannot be read; the message names it."""


T = TypeVar("T")


def _part(root: ModelDir, name: str, read: Callable[[], T]) -> T:
    """`read()` of the model's entry `name`, any failure of it as ModelDirDamaged naming it."""
    try:
        return read()
    except Exception as exc:  # a missing file, a cut-off array, bad JSON, Spark's own errors
        detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        raise ModelDirDamaged(
            f"model directory {root.location}: {name} is missing or damaged "
            f"({type(exc).__name__}{': ' + detail if detail else ''}); restore it, or move the "
            "directory away to train a new model"
        ) from None


def load_model(spark: SparkSession, model_dir: str) -> FactorModel:
    """Loads a saved model and collects its factors into NumPy arrays on the driver;
    ModelDirDamaged names the file when one is missing or damaged."""
    root = open_model_dir(spark, model_dir)
    meta = _part(root, "metadata.json", lambda: _metadata(root))
    user_ids = _part(root, "user_ids.json", lambda: json.loads(root.read_text("user_ids.json")))
    item_ids = _part(root, "item_ids.json", lambda: json.loads(root.read_text("item_ids.json")))
    biases = _part(root, "biases.npz", lambda: _biases(root, len(user_ids), len(item_ids)))
    ranking = _part(root, "ranking", lambda: ALSModel.load(root.child("ranking")))
    rating = _part(root, "rating", lambda: ALSModel.load(root.child("rating")))
    neighbours = _part(root, ITEM_CF, lambda: _links_file(root, ITEM_CF, len(item_ids)))
    settings = ModelSettings.from_dict(meta["settings"])
    first = _part(root, ITEM_ITEM, lambda: load_links(root, ITEM_ITEM, len(item_ids)))
    item_item: ItemScorer | None = first
    if settings.has_second_item_model:
        second = (
            neighbours
            if settings.second_is_cf_neighbours
            else _part(
                root,
                SECOND_ITEM_ITEM,
                lambda: _required_links(root, SECOND_ITEM_ITEM, len(item_ids)),
            )
        )
        item_item = ItemModelBlend(
            first if first is not None else neighbours, second, settings.second_item_model_share
        )
    arrays = _part(
        root,
        "ranking or rating",
        lambda: collect_arrays(
            ranking, rating, biases, neighbours, len(user_ids), len(item_ids), item_item
        ),
    )
    return FactorModel(
        version=meta["version"],
        trained_at=meta["trained_at"],
        user_ids=user_ids,
        item_ids=item_ids,
        arrays=arrays,
        scale=RatingScale(**meta["scale"]),
        settings=settings,
        training_data=training_data_of(meta),
        data_cut_us=int(meta["data_cut_us"]),
        metadata=meta,
    )


def _biases(root: ModelDir, users: int, items: int) -> Biases:
    with _read_arrays(root, "biases.npz") as saved:
        biases = Biases(float(saved["mean"]), saved["user"], saved["item"])
    if biases.user.shape != (users,) or biases.item.shape != (items,):
        raise ValueError(
            f"{biases.user.shape[0]} user and {biases.item.shape[0]} movie biases for "
            f"{users} users and {items} movies"
        )
    return biases


def _write_arrays(root: ModelDir, name: str, **arrays: Any) -> None:
    # Through memory: a Hadoop filesystem is written as a stream of bytes, not a local file.
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    root.write_bytes(name, buffer.getvalue())


def _read_arrays(root: ModelDir, name: str) -> Any:
    return np.load(io.BytesIO(root.read_bytes(name)))


def save_links(links: SingleItemScorer, root: ModelDir, name: str) -> None:
    """The ranker's item-item part: (item, neighbour, similarity) link arrays, or a dense
    matrix with the movies of its rows and columns (`kept`, `weights`)."""
    if isinstance(links, DenseItemWeights):
        _write_arrays(root, name, kept=links.kept, weights=links.weights)
        return
    items = np.repeat(np.arange(links.items), np.diff(links.indptr))
    _write_arrays(root, name, item=items, neighbour=links.neighbour, similarity=links.similarity)


def load_links(root: ModelDir, name: str, items: int) -> SingleItemScorer | None:
    if not root.is_file(name):
        return None
    with _read_arrays(root, name) as saved:
        if "weights" in saved.files:
            return DenseItemWeights(items, saved["kept"], saved["weights"])
        return ItemNeighbours.from_pairs(
            saved["item"], saved["neighbour"], saved["similarity"], items
        )


def _required_links(root: ModelDir, name: str, items: int) -> SingleItemScorer:
    links = load_links(root, name, items)
    if links is None:
        raise FileNotFoundError(f"{root.child(name)} is missing: the model directory is incomplete")
    return links


def _links_file(root: ModelDir, name: str, items: int) -> ItemNeighbours:
    links = _required_links(root, name, items)
    if not isinstance(links, ItemNeighbours):
        raise ValueError(f"{root.child(name)} holds dense weights, not the Item-CF links")
    return links


def training_data_of(meta: dict[str, Any]) -> TrainingData:
    return TrainingData(**meta["training_data"])
