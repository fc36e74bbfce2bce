"""Checks the shipped defaults on a second MovieLens data set the project does not ship:
MovieLens 100K (943 users, 1,682 movies, 1998), as RecBole's PyPI wheel carries it.

    .venv/bin/python benchmarks/second_dataset.py

Downloads the recbole 1.2.1 wheel from PyPI with pip (no other network), converts its atomic
files into MovieLens latest-format CSVs under var/data/ml-100k, and runs `movierec evaluate`
there with the default settings, which `movierec tune` chose on the demo data only. Writes
benchmarks/results/quality-ml-100k.json. The data are GroupLens's MovieLens 100K (research
use; see https://grouplens.org/datasets/movielens/), not redistributed by this project.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "data"
TARGET = WORK / "ml-100k"
WHEEL = "recbole==1.2.1"
INNER = "recbole/dataset_example/ml-100k/ml-100k"
RESULT = ROOT / "benchmarks" / "results" / "quality-ml-100k.json"


def fetch_wheel() -> Path:
    download = WORK / "wheels"
    found = sorted(download.glob("recbole-1.2.1-*.whl"))
    if not found:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "-q",
                "-d",
                str(download),
                WHEEL,
            ],
            check=True,
        )
        found = sorted(download.glob("recbole-1.2.1-*.whl"))
    return found[0]


def convert(wheel: Path, target: Path) -> None:
    """RecBole's tab-separated .inter/.item files into ratings.csv and movies.csv."""
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        inter = archive.read(f"{INNER}.inter").decode().splitlines()[1:]
        items = archive.read(f"{INNER}.item").decode("latin-1").splitlines()[1:]
    with open(target / "ratings.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["userId", "movieId", "rating", "timestamp"])
        for line in inter:
            user, movie, rating, stamp = line.split("\t")
            out.writerow([user, movie, rating, int(float(stamp))])
    with open(target / "movies.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["movieId", "title", "genres"])
        for line in items:
            movie, title, year, genres = [*line.split("\t"), "", "", ""][:4]
            shown = f"{title} ({year})" if year else title
            out.writerow([movie, shown, "|".join(genres.split()) or "(no genres listed)"])


def main() -> None:
    convert(fetch_wheel(), TARGET)
    subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "movierec"),
            "evaluate",
            "--json",
            str(RESULT),
            "--data-dir",
            str(TARGET),
            "--data-format",
            "latest",
        ],
        check=True,
    )


if __name__ == "__main__":
    main()
