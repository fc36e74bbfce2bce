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
    """req/s of every server and call, one point per run, a colour per phase (before and
    after a change), so both the change and the spread show."""
    phases = json.loads((RESULTS / "capacity.json").read_text())["phases"]
    first = next(iter(phases.values()))["runs"][0]["rows"]
    labels = [(r["server"], r["call"]) for r in first]
    fig, ax = plt.subplots(figsize=(11, 0.45 * len(labels) + 1.5))
    colours = ["tab:grey", "tab:blue", "tab:orange", "tab:green"]
    for (phase, data), colour, offset in zip(
        phases.items(), colours, (-0.15, 0.15, 0.0, 0.3), strict=False
    ):
        for run_number, run in enumerate(data["runs"]):
            rows = {(r["server"], r["call"]): r["rps"] for r in run["rows"]}
            ys = [i + offset for i, key in enumerate(labels) if key in rows]
            xs = [rows[key] for key in labels if key in rows]
            ax.scatter(xs, ys, color=colour, label=phase if run_number == 0 else None)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels([f"{server}: {call.split(' (')[0]}" for server, call in labels])
    ax.invert_yaxis()
    ax.set_xlabel("requests per second (h2load, 4 connections x 32 streams)")
    ax.set_xlim(left=0)
    ax.legend()
    ax.set_title("Server capacity, 2-core machine, each run a point")
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
