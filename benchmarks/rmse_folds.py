"""PredictRating's RMSE by k-fold cross-validation: five random 80/20 folds, seed 42 (the
protocol of the published MovieLens 100K figures the project is compared with), beside plain
Spark ALS on the same folds.

    .venv/bin/python benchmarks/rmse_folds.py --data-dir var/data/ml-100k   # any evaluate flags

Each fold's test share is 1/5 of the ratings by a hash of (user, movie, seed), so the folds are
disjoint and cover every rating; fold 0 is `movierec evaluate`'s 80/20 split. For each fold the
service's own PredictRating is trained on the other four (tuned on a validation split of them
alone, as a training does), and plain ALS at each (rank, regParam) of evaluate's grid.
Writes benchmarks/results/rmse-folds-<data>.md and .json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from rec_service.app import config as config_mod
from rec_service.app.retrain import model_settings
from rec_service.app.wiring import start_engine
from rec_service.jobs.evaluate import accuracy, best_plain, served_predictor

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> int:
    own = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    own.add_argument("--folds", type=int, default=5)
    own.add_argument("--seed", type=int, default=42)
    own.add_argument("--name", help="report name (default: the data directory's name)")
    args, rest = own.parse_known_args()
    cfg = config_mod.load(rest)
    settings, tuning = model_settings(cfg), cfg.tuning
    data = cfg.data
    ratings = start_engine(cfg).load_ratings(data.data_dir, data.data_format, data.layout())
    name = args.name or Path(data.data_dir).name
    folds = []
    for fold in range(args.folds):
        started = time.perf_counter()
        train, test = ratings.fold_split(args.folds, fold, args.seed)
        rows = accuracy(train, test, settings, tuning)
        train.release()
        test.release()
        served_name, served = served_predictor(rows)
        plain_name, plain = best_plain(rows)
        folds.append(
            {
                "fold": fold,
                "served": served_name,
                "rmse": served["rmse"],
                "mae": served["mae"],
                "best_plain": plain_name,
                "plain_rmse": plain["rmse"],
                "test_ratings": int(served["test_ratings"]),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        print(json.dumps(folds[-1]), flush=True)
    rmse = np.array([f["rmse"] for f in folds])
    plain = np.array([f["plain_rmse"] for f in folds])
    lines = [
        f"# PredictRating RMSE, {args.folds}-fold cross-validation: {name}",
        "",
        f"Written by `benchmarks/rmse_folds.py` (protocol in its docstring), seed {args.seed}.",
        "",
        "| fold | PredictRating (as served, tuned per fold) | RMSE | MAE | best plain ALS | RMSE |",
        "|---:|---|---:|---:|---|---:|",
        *(
            f"| {f['fold']} | {f['served']} | {f['rmse']:.4f} | {f['mae']:.4f} | "
            f"{f['best_plain']} | {f['plain_rmse']:.4f} |"
            for f in folds
        ),
        "",
        f"Mean RMSE: PredictRating **{rmse.mean():.4f}** (folds {rmse.min():.4f}-{rmse.max():.4f}),"
        f" best plain ALS per fold {plain.mean():.4f} ({plain.min():.4f}-{plain.max():.4f}).",
        "",
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"rmse-folds-{name}.md").write_text("\n".join(lines))
    (RESULTS / f"rmse-folds-{name}.json").write_text(json.dumps(folds, indent=2))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
