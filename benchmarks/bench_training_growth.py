"""Training time and peak memory at 1M, 5M and 25M synthetic ratings, and the growth exponent.
Writes benchmarks/results/training-growth.md, .json and training-growth.png.

    .venv/bin/python benchmarks/bench_training_growth.py [--sizes 1000000 5000000 25000000]
        [--driver-memory 10g] [--add]

Each size trains every model of a version (ranking ALS, bias-aware rating ALS, Item-CF) with
the default settings and tuning off, in a process of its own (benchmarks/training.py: the
synthetic data, the timing and the peak resident set of the Python driver plus its JVM). The
exponent b is the least-squares slope of log(seconds) on log(ratings): time ~ ratings^b, so 1
is linear. The co-ratings line says which cap on each user's ratings the pair budget chose.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import training
from common import exponent

RESULTS = Path(__file__).resolve().parent / "results"


def chart(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    ratings = [r["ratings"] / 1e6 for r in rows]
    left.loglog(ratings, [r["seconds"] for r in rows], "o-", label="measured")
    first = rows[0]
    left.loglog(
        ratings,
        [first["seconds"] * r["ratings"] / first["ratings"] for r in rows],
        "--",
        label="linear from the first size",
    )
    left.set_xlabel("ratings (millions)")
    left.set_ylabel("seconds")
    left.set_title("training time")
    left.legend()
    right.plot(ratings, [(r["python_peak_mb"] + r["jvm_peak_mb"]) / 1024 for r in rows], "o-")
    right.set_xlabel("ratings (millions)")
    right.set_ylabel("GiB")
    right.set_title("peak resident memory (Python + JVM)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def memories(rows: list[dict]) -> str:
    """The driver memory of each size, or the one they shared."""
    each = {r["driver_memory"] for r in rows}
    if len(each) == 1:
        return each.pop()
    return ", ".join(f"{r['driver_memory']} at {r['ratings'] / 1e6:g}M" for r in rows)


def report(rows: list[dict]) -> str:
    lines = [
        "# Training time and memory vs ratings (1M / 5M / 25M synthetic)",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; command: "
        "`.venv/bin/python benchmarks/bench_training_growth.py`; one run per size",
        f"- 2 cores, local[2], driver memory {memories(rows)}; default settings, tuning off; "
        "ratings with power-law users and movies (benchmarks/training.py)",
        f"- growth exponent of time (seconds ~ ratings^b): **b = {exponent(rows, 'seconds'):.2f}**",
        "",
        "![training growth](training-growth.png)",
        "",
        "| ratings | users | movies | seconds | peak MB (Python + JVM) | co-ratings |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        note = "; ".join(r.get("co_ratings", [])) or "all within the cap of 300, on the driver"
        lines.append(
            f"| {r['ratings']:,} | {r['users']:,} | {r['movies']:,} | {r['seconds']:.0f} | "
            f"{r['python_peak_mb']:.0f} + {r['jvm_peak_mb']:.0f} | {note} |"
        )
    lines += [""] + [f"- {r['ratings'] / 1e6:g}M: {r['note']}" for r in rows if r.get("note")]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000, 25_000_000])
    parser.add_argument("--driver-memory", default="10g")
    parser.add_argument(
        "--add", action="store_true", help="keep the saved rows of other sizes (one size a run)"
    )
    parser.add_argument("--report", action="store_true", help="only rewrite the report")
    args = parser.parse_args()
    saved = RESULTS / "training-growth.json"
    if args.report:  # from the saved rows, with any notes added to them by hand
        rows = json.loads(saved.read_text())
        (RESULTS / "training-growth.md").write_text(report(rows))
        chart(rows, RESULTS / "training-growth.png")
        return
    rows = training.run(args.sizes, args.driver_memory)
    if args.add and saved.exists():
        kept = [r for r in json.loads(saved.read_text()) if r["requested"] not in args.sizes]
        rows = sorted(kept + rows, key=lambda r: r["requested"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "training-growth.json").write_text(json.dumps(rows, indent=2) + "\n")
    chart(rows, RESULTS / "training-growth.png")
    (RESULTS / "training-growth.md").write_text(report(rows))
    print(f"wrote {RESULTS / 'training-growth.md'}")


if __name__ == "__main__":
    main()
