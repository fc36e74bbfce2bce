"""Tuning's choice at any load: the service's own tuning (spark_store/selection.py, default
settings) run on a quiet machine and beside `stress-ng --cpu 2`, several times each, on the demo
data and MovieLens 100K. The same candidates, figures and choice must come out every time:
what tuning measures is bounded by counts, not by the clock. Writes
benchmarks/results/tuning-determinism.md and .json.

    .venv/bin/python benchmarks/bench_tuning_determinism.py [--runs 3] [--sets demo,ml-100k]

MovieLens 100K comes from benchmarks/second_dataset.py (var/data/ml-100k); a set whose
directory is missing is left out and said so.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from common import RESULTS, ROOT, machine

from rec_service.app.config import Config
from rec_service.app.retrain import model_settings
from rec_service.app.wiring import start_engine
from rec_service.domain.model_types import TrainingData
from spark_store.selection import select
from spark_store.training_data import read_ratings

SETS = {
    "demo": ROOT / "data" / "ml-latest-small",
    "ml-100k": ROOT / "var" / "data" / "ml-100k",
}
CONDITIONS = ("quiet", "stress-ng --cpu 2")


@contextmanager
def load(condition: str):  # type: ignore[no-untyped-def]
    """Both cores kept busy by stress-ng for the length of the block, or nothing."""
    if condition == "quiet":
        yield
        return
    stress = subprocess.Popen(
        ["stress-ng", "--cpu", "2", "--timeout", "3600s", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(2)  # its workers running before tuning starts
        yield
    finally:
        stress.terminate()
        stress.wait()


def run(sets: list[str], runs: int) -> dict[str, Any]:
    config = Config()
    engine = start_engine(config)
    settings, tuning = model_settings(config), config.tuning
    out: dict[str, Any] = {"sets": {}, "missing": []}
    for name in sets:
        path = SETS[name]
        if not path.is_dir():
            out["missing"].append(f"{name}: {path} not found")
            continue
        ratings = read_ratings(engine.session, TrainingData(str(path), "auto")).cache()
        records = []
        for index in range(runs):
            for condition in CONDITIONS:
                with load(condition):
                    chosen = select(engine.session, ratings, settings, tuning)
                record = {
                    "run": index + 1,
                    "condition": condition,
                    "candidates": [(r["ranker"], r["ndcg@10"]) for r in chosen.candidates],
                    "chosen": chosen.chosen,
                    "predictor": chosen.rating.chosen if chosen.rating else "",
                    "one_se_pick": chosen.one_se_pick[0] if chosen.one_se_pick else "",
                    "skipped": chosen.skipped,
                    "seconds": round(chosen.seconds, 1),
                }
                records.append(record)
                print(name, condition, index + 1, chosen.chosen, record["seconds"], flush=True)
        ratings.unpersist()
        first = records[0]
        same = all(
            (r["candidates"], r["chosen"], r["predictor"])
            == (first["candidates"], first["chosen"], first["predictor"])
            for r in records
        )
        out["sets"][name] = {"records": records, "identical": same}
    engine.session.stop()
    return out


def report(result: dict[str, Any]) -> str:
    lines = [
        "# Tuning's choice on a quiet machine and under load",
        "",
        f"Written by `benchmarks/bench_tuning_determinism.py --runs {result['runs']}` on "
        f"{result['date']} ({result['machine']}). Default settings; each run is the service's",
        "own tuning (`spark_store/selection.py`) on the whole data set, alternately on a quiet",
        "machine and beside `stress-ng --cpu 2` (both cores busy).",
        "",
        "| data set | run | load | candidates measured | chosen ranker | PredictRating | "
        "one-SE rule would pick | seconds |",
        "|---|---:|---|---:|---|---|---|---:|",
    ]
    for name, data in result["sets"].items():
        for r in data["records"]:
            lines.append(
                f"| {name} | {r['run']} | {r['condition']} | {len(r['candidates'])} | "
                f"{r['chosen']} | {r['predictor']} | {r['one_se_pick']} | {r['seconds']} |"
            )
    lines.append("")
    for name, data in result["sets"].items():
        verdict = "identical" if data["identical"] else "NOT identical"
        lines.append(
            f"- {name}: candidates (names and validation NDCG@10 to 5 places), the chosen "
            f"ranker and PredictRating's choice are **{verdict}** across all "
            f"{len(data['records'])} runs."
        )
    for missing in result["missing"]:
        lines.append(f"- left out: {missing}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sets", default="demo,ml-100k")
    args = parser.parse_args()
    if shutil.which("stress-ng") is None:
        raise SystemExit("stress-ng is needed (apt-get install stress-ng)")
    # A SIGTERM (pkill) must run load()'s cleanup: a stress-ng left behind loaded this machine
    # for an hour after an interrupted run.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result = run(args.sets.split(","), args.runs)
    result.update(runs=args.runs, date=datetime.now(UTC).strftime("%Y-%m-%d"), machine=machine())
    (RESULTS / "tuning-determinism.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "tuning-determinism.md").write_text(report(result))
    print(report(result))


if __name__ == "__main__":
    main()
