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
  ranking_links.npz  the same for the ranker's item-item model, when it is not item_cf
                  (RP3beta or EASE^R, chosen by tuning)
  metadata.json's "tuning": the ranker chosen, every candidate's validation figures, the time
Any Spark job can load the ALS models; the link arrays load with NumPy alone.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pyspark.ml.recommendation import ALSModel
from pyspark.sql import SparkSession

from spark_store.model_types import Biases, FactorModel, ModelSettings, RatingScale, TrainingData
from spark_store.models import TrainedModels, collect_arrays
from spark_store.ranking import ItemNeighbours

# Bumped when the layout changes; a directory of another format is retrained, not misread.
FORMAT = 3

ITEM_CF = "item_cf.npz"
RANKING_LINKS = "ranking_links.npz"  # absent when the ranker uses the Item-CF table


def model_exists(model_dir: str | Path) -> bool:
    """A model directory of this format is there (an older format counts as none)."""
    path = Path(model_dir) / "metadata.json"
    return path.is_file() and read_metadata(model_dir).get("format") == FORMAT


def save_model(
    trained: TrainedModels,
    model_dir: str | Path,
    training_data: TrainingData,
    data_cut_us: int,
) -> str:
    """Writes the model directory atomically and returns the new model version."""
    target = Path(model_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
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
    staging = target.with_name(f".{target.name}.tmp-{int(time.time() * 1e6)}")
    staging.mkdir()
    trained.ranking.write().overwrite().save(str(staging / "ranking"))
    trained.rating.write().overwrite().save(str(staging / "rating"))
    save_links(trained.neighbours, staging / ITEM_CF)
    if trained.ranking_links is not None:
        save_links(trained.ranking_links, staging / RANKING_LINKS)
    biases = trained.biases
    np.savez(staging / "biases.npz", mean=biases.mean, user=biases.user, item=biases.item)
    (staging / "user_ids.json").write_text(json.dumps(trained.user_ids))
    (staging / "item_ids.json").write_text(json.dumps(trained.item_ids))
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
    (staging / "metadata.json").write_text(json.dumps(metadata, indent=2))
    if target.exists():
        retired = target.with_name(f".{target.name}.old-{int(time.time() * 1e6)}")
        target.rename(retired)
        staging.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        staging.rename(target)
    return version


def read_metadata(model_dir: str | Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((Path(model_dir) / "metadata.json").read_text())
    return data


def load_model(spark: SparkSession, model_dir: str | Path) -> FactorModel:
    """Loads a saved model and collects its factors into NumPy arrays on the driver."""
    root = Path(model_dir)
    meta = read_metadata(root)
    user_ids = json.loads((root / "user_ids.json").read_text())
    item_ids = json.loads((root / "item_ids.json").read_text())
    with np.load(root / "biases.npz") as saved:
        biases = Biases(float(saved["mean"]), saved["user"], saved["item"])
    arrays = collect_arrays(
        ALSModel.load(str(root / "ranking")),
        ALSModel.load(str(root / "rating")),
        biases,
        _links_file(root / ITEM_CF, len(item_ids)),
        len(user_ids),
        len(item_ids),
        load_links(root / RANKING_LINKS, len(item_ids)),
    )
    return FactorModel(
        version=meta["version"],
        trained_at=meta["trained_at"],
        user_ids=user_ids,
        item_ids=item_ids,
        arrays=arrays,
        scale=RatingScale(**meta["scale"]),
        settings=ModelSettings.from_dict(meta["settings"]),
        training_data=training_data_of(meta),
        data_cut_us=int(meta["data_cut_us"]),
        metadata=meta,
    )


def save_links(links: ItemNeighbours, path: Path) -> None:
    """The ranker's item-item links as (item, neighbour, similarity) arrays."""
    items = np.repeat(np.arange(links.items), np.diff(links.indptr))
    with path.open("wb") as fh:
        np.savez(fh, item=items, neighbour=links.neighbour, similarity=links.similarity)


def load_links(path: Path, items: int) -> ItemNeighbours | None:
    if not path.is_file():
        return None
    with np.load(path) as saved:
        return ItemNeighbours.from_pairs(
            saved["item"], saved["neighbour"], saved["similarity"], items
        )


def _links_file(path: Path, items: int) -> ItemNeighbours:
    links = load_links(path, items)
    if links is None:
        raise FileNotFoundError(f"{path} is missing: the model directory is incomplete")
    return links


def training_data_of(meta: dict[str, Any]) -> TrainingData:
    return TrainingData(**meta["training_data"])
