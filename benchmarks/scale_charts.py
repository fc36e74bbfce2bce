"""Charts of the scale-out benchmarks, drawn from their saved JSON results (nothing is measured
here): capacity.png (bench_capacity.py), replicas.png (bench_replicas.py) and memory.png
(bench_memory.py), beside the files in benchmarks/results/ that REPORT.md shows.

    .venv/bin/python benchmarks/scale_charts.py
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

RESULTS = Path(__file__).resolve().parent / "results"


def capacity() -> None:
    """req/s per call and process count: each run's figure, so the spread shows."""
    runs = json.loads((RESULTS / "capacity.json").read_text())["runs"]
    calls = list(dict.fromkeys(row["call"] for row in runs[0]["rows"]))
    fig, (rps_ax, p99_ax) = plt.subplots(1, 2, figsize=(11, 4))
    for offset, processes in ((-0.15, 1), (0.15, 2)):
        for run_number, run in enumerate(runs):
            rows = {r["call"]: r for r in run["rows"] if r["processes"] == processes}
            xs = [i + offset for i in range(len(calls))]
            label = (
                f"{processes} process{'es' if processes > 1 else ''}" if run_number == 0 else None
            )
            colour = "tab:blue" if processes == 1 else "tab:orange"
            rps_ax.scatter(xs, [rows[c]["rps"] for c in calls], color=colour, label=label)
            p99_ax.scatter(xs, [rows[c]["p99_ms"] for c in calls], color=colour, label=label)
    for ax, title in ((rps_ax, "requests per second (h2load, 64 in flight)"), (p99_ax, "p99 ms")):
        ax.set_xticks(range(len(calls)))
        ax.set_xticklabels([c.split(" (")[0] for c in calls])
        ax.set_title(title)
        ax.set_ylim(bottom=0)
        ax.legend()
    fig.suptitle(f"Server capacity, {len(runs)} runs each, 2-core machine")
    fig.tight_layout()
    fig.savefig(RESULTS / "capacity.png", dpi=100)


def replicas() -> None:
    """Durable append rate per batch size, file log against JetStream."""
    data = json.loads((RESULTS / "replicas.json").read_text())
    rates = data["append_ratings_per_s"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for log_name, by_batch in rates.items():
        batches = sorted(by_batch, key=int)
        ax.loglog([int(b) for b in batches], [by_batch[b] for b in batches], "o-", label=log_name)
    delay = data["cross_replica_ms"]
    ax.set_xlabel("ratings per batch")
    ax.set_ylabel("ratings per second, durable")
    ax.set_title(
        f"Durable appends; rating visible at another replica "
        f"p50 {delay['p50']:.1f} ms, p99 {delay['p99']:.1f} ms",
        fontsize=9,
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "replicas.png", dpi=100)


def memory() -> None:
    """Bytes per user of each layout and size against the raw data."""
    rows = json.loads((RESULTS / "memory.json").read_text())
    labels = [f"{r['layout']}\n{r['users'] / 1e6:g}M users" for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar(labels, [r["bytes_per_user"] for r in rows], color="tab:blue", label="resident")
    ax.bar(labels, [r["raw_bytes_per_user"] for r in rows], color="tab:gray", width=0.4,
           label="raw ids, scores, times")  # fmt: skip
    ax.set_ylabel("bytes per user (50-item lists)")
    ax.set_title("Serving index memory per user")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "memory.png", dpi=100)


def main() -> None:
    capacity()
    replicas()
    memory()
    print(f"wrote capacity.png, replicas.png, memory.png in {RESULTS}")


if __name__ == "__main__":
    main()
