"""Saves and loads a model directory: Spark ALS factors, id maps and metadata with a version.

Layout (written to a temporary sibling, then renamed, so a crash never leaves half a model):
  metadata.json   version, trained_at, params, rating scale, counts, the training data (which
                  ratings set, through which log segment) and the instant its data was cut
  user_ids.json   wire id of each user index
  item_ids.json   wire id of each movie index
  als/            pyspark ALSModel.save (Parquet factors), loadable by any Spark job
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pyspark.ml.recommendation import ALSModel
from pyspark.sql import SparkSession

from spark_store.training import AlsParams, RatingScale, TrainedAls
from spark_store.training_data import TrainingData


@dataclass(frozen=True)
class FactorModel:
    """A loaded model in driver memory: NumPy factors row-aligned with the id lists."""

    version: str
    trained_at: str
    user_ids: list[str]
    item_ids: list[str]
    user_factors: np.ndarray  # float32 (users, rank); row i is user_ids[i]
    item_factors: np.ndarray  # float32 (items, rank); row j is item_ids[j]
    scale: RatingScale
    params: dict[str, Any]
    implicit: bool
    training_data: TrainingData
    data_cut_us: int  # ratings accepted after this instant are not in the training data
    metadata: dict[str, Any]  # metadata.json as saved (counts, fit time)


def model_exists(model_dir: str | Path) -> bool:
    return (Path(model_dir) / "metadata.json").is_file()


def save_model(
    trained: TrainedAls,
    model_dir: str | Path,
    params: AlsParams,
    training_data: TrainingData,
    data_cut_us: int,
) -> str:
    """Writes the model directory atomically and returns the new model version."""
    target = Path(model_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    trained_at = datetime.now(UTC)
    digest = hashlib.sha256(
        json.dumps(
            [params.as_dict(), training_data.path, trained.num_ratings, trained_at.isoformat()]
        ).encode()
    ).hexdigest()[:8]
    version = f"{trained_at:%Y%m%dT%H%M%SZ}-{digest}"
    staging = target.with_name(f".{target.name}.tmp-{int(time.time() * 1e6)}")
    staging.mkdir()
    trained.model.write().overwrite().save(str(staging / "als"))
    (staging / "user_ids.json").write_text(json.dumps(trained.user_ids))
    (staging / "item_ids.json").write_text(json.dumps(trained.item_ids))
    metadata = {
        "version": version,
        "trained_at": trained_at.isoformat(),
        "params": params.as_dict(),
        "scale": {"low": trained.scale.low, "high": trained.scale.high, "step": trained.scale.step},
        "num_ratings": trained.num_ratings,
        "num_users": len(trained.user_ids),
        "num_items": len(trained.item_ids),
        "fit_seconds": round(trained.fit_seconds, 3),
        "training_data": training_data.as_dict(),
        "data_cut_us": data_cut_us,
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
    als = ALSModel.load(str(root / "als"))
    rank = als.rank
    return FactorModel(
        version=meta["version"],
        trained_at=meta["trained_at"],
        user_ids=user_ids,
        item_ids=item_ids,
        user_factors=collect_factors(als.userFactors, len(user_ids), rank),
        item_factors=collect_factors(als.itemFactors, len(item_ids), rank),
        scale=RatingScale(**meta["scale"]),
        params=meta["params"],
        implicit=bool(meta["params"].get("implicit_prefs", False)),
        training_data=training_data_of(meta),
        data_cut_us=int(meta["data_cut_us"]),
        metadata=meta,
    )


def training_data_of(meta: dict[str, Any]) -> TrainingData:
    return TrainingData(**meta["training_data"])


def collect_factors(factors_df: Any, count: int, rank: int) -> np.ndarray:
    """Rows of (id, features) into a dense matrix; ids ALS never saw (none, normally) stay zero."""
    out = np.zeros((count, rank), dtype=np.float32)
    for row in factors_df.toLocalIterator():
        out[row[0]] = row[1]
    return out
