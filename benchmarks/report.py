"""Writes benchmarks/results/REPORT.md and its PNG charts from the suite's measurements."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from common import RESULTS

from rec_service.jobs.evaluate import served_predictor

APPROACHES = (
    ("movierec_read", "movierec whole read, in process (top_n + response)"),
    ("movierec", "movierec list index (a row of arrays, decoded)"),
    ("mysql", "MySQL primary-key query per read"),
    ("spark_sql", "Spark SQL query per read"),
)


def _row(rows: list[dict], rpc: str, inflight: int) -> dict:
    return next(r for r in rows if r["rpc"] == rpc and r["inflight"] == inflight)


def headline(data: dict) -> dict[str, float]:
    spark_rows = data["end_to_end"]["spark"]["rows"]
    mysql_rows = data["end_to_end"]["mysql"]["rows"]
    lookups = {row["users"]: row for row in data["lookup"]}
    smallest, largest = min(lookups), max(lookups)
    fresh = _row(spark_rows, "GetTopN fresh", 32)["rps"]
    return {
        "store_fresh_32": fresh / _row(mysql_rows, "GetTopN fresh", 32)["rps"],
        "store_stale_32": _row(spark_rows, "GetTopN 10% stale", 32)["rps"]
        / _row(mysql_rows, "GetTopN 10% stale", 32)["rps"],
        "vs_spark_sql": fresh / lookups[100_000]["spark_sql"]["per_s"],
        "growth_movierec": lookups[largest]["movierec_read"]["p50_ms"]
        / lookups[smallest]["movierec_read"]["p50_ms"],
        "growth_index": lookups[largest]["movierec"]["p50_ms"]
        / lookups[smallest]["movierec"]["p50_ms"],
        "growth_mysql": lookups[largest]["mysql"]["p50_ms"] / lookups[smallest]["mysql"]["p50_ms"],
        "growth_spark_sql": lookups[largest]["spark_sql"]["p50_ms"]
        / lookups[smallest]["spark_sql"]["p50_ms"],
    }


def charts(data: dict) -> None:
    sizes = [row["users"] for row in data["lookup"]]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for key, label in APPROACHES:
        ax.plot(sizes, [row[key]["p50_ms"] for row in data["lookup"]], marker="o", label=label)
    ax.set(xscale="log", yscale="log", xlabel="users with a list (50 movies each)",
           ylabel="lookup latency p50 (ms)", title="List lookup vs data size")  # fmt: skip
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(RESULTS / "lookup_latency.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    series = [
        ("spark", "empty RPC", "empty RPC"),
        ("spark", "GetTopN fresh", "GetTopN, Spark SQL store"),
        ("mysql", "GetTopN fresh", "GetTopN, MySQL store"),
        ("spark", "GetTopN 10% stale", "GetTopN 10% stale, Spark SQL store"),
        ("mysql", "GetTopN 10% stale", "GetTopN 10% stale, MySQL store"),
    ]
    for store, rpc, label in series:
        rows = data["end_to_end"][store]["rows"]
        levels = sorted({r["inflight"] for r in rows})
        ax.plot(levels, [_row(rows, rpc, n)["rps"] for n in levels], marker="o", label=label)
    ax.set(xscale="log", xlabel="calls in flight", ylabel="requests/s",
           title="GetTopN over gRPC")  # fmt: skip
    ax.set_xticks(levels, [str(n) for n in levels])
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(RESULTS / "gettopn_throughput.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ratings = [r["ratings"] for r in data["training"]]
    ax.plot(ratings, [r["seconds"] for r in data["training"]], marker="o", label="fit seconds")
    ax.set(xscale="log", xlabel="ratings", ylabel="seconds", title="Training (local[2])")
    ax2 = ax.twinx()
    ax2.plot(ratings, [r["python_peak_mb"] + r["jvm_peak_mb"] for r in data["training"]],
             marker="s", color="tab:red", label="peak memory (MB)")  # fmt: skip
    ax2.set_ylabel("peak resident memory, driver + JVM (MB)")
    fig.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / "training.png", dpi=110)
    plt.close(fig)


def write(data: dict) -> None:
    charts(data)
    h = headline(data)
    mode = data["mode"]
    command = "benchmarks/suite.py" + (" --full" if mode == "full" else "")
    lines = [
        "# movierec benchmark report",
        "",
        f"- date: {data['date']}; suite: {mode} ({data['seconds'] / 60:.1f} min)",
        f"- machine: {data['machine']}",
        "- data: MovieLens latest-small (shipped demo set) for serving and quality; synthetic "
        "lists and ratings where the section says so",
        f"- command: `.venv/bin/python {command}`",
        "- servers: `movierec serve` in their own processes; load: Python gRPC clients on the "
        "same machine; MySQL: the local MariaDB/MySQL server (InnoDB)",
        "- every ratio below comes from figures measured in this same run",
        "",
        "## Headline",
        "",
        "| figure | measured | target |",
        "|---|---:|---:|",
        f"| GetTopN req/s, Spark SQL store / MySQL store, fresh lists, 32 in flight "
        f"| **{h['store_fresh_32']:.2f}x** | ≥ 1.5x |",
        f"| the same with 10% of reads stale | {h['store_stale_32']:.2f}x | |",
        f"| GetTopN req/s over gRPC (Spark SQL store, 32 in flight) / Spark SQL queries per "
        f"second (a query per read, 100k users) | **{h['vs_spark_sql']:.0f}x** | ≥ 100x |",
        f"| movierec read latency (whole in-process read), 1M users / 10k users (p50) "
        f"| **{h['growth_movierec']:.2f}x** | ≤ 1.5x |",
        f"| the same for the list index alone (SparkListStore.get) | {h['growth_index']:.2f}x | |",
        f"| the same for a MySQL query per read | {h['growth_mysql']:.2f}x | |",
        f"| the same for a Spark SQL query per read | {h['growth_spark_sql']:.2f}x | |",
        "",
        "## 1. List lookup vs data size",
        "",
        "Lists of 50 movies for every user. One thread looks up random users one after "
        "another; per-lookup latency includes about 0.1 us of timer overhead. The Spark SQL "
        "table is cached in memory (local[2], 4 shuffle partitions); MySQL is queried through "
        "the same `MySqlListStore.get` the server uses. For movierec there are two rows: the "
        "Spark SQL store's in-process index alone (`SparkListStore.get`), and the whole "
        "in-process read (`Recommender.top_n` on a fresh list plus building the "
        "`GetTopNResponse`) over a synthetic model with that many users: everything a GetTopN "
        "does except gRPC.",
        "",
        "![lookup latency](lookup_latency.png)",
        "",
        "| users | approach | lookups | p50 | p99 | lookups/s (1 thread) |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for row in data["lookup"]:
        for key, label in APPROACHES:
            m = row[key]
            lines.append(
                f"| {row['users']:,} | {label} | {int(m['n'])} | {_ms(m['p50_ms'])} "
                f"| {_ms(m['p99_ms'])} | {m['per_s']:,.0f} |"
            )
    loads = ", ".join(f"{r['users']:,}: {r['mysql']['load_s']:.1f} s" for r in data["lookup"])
    lines += [
        "",
        f"Loading the lists into MySQL (batched upserts) took {loads}.",
        "",
        "A Spark SQL query per read costs tens of milliseconds whatever the size: planning and "
        "scheduling a job dominate, not the data. It fell as sizes grew; the sizes run in "
        "order (10k first) in one session, so a JVM still warming up despite 10 warm-up "
        "queries per size is the likely cause (not verified). The list index alone (a dict "
        "lookup, then the user's row of arrays decoded into movie ids and scores, a few "
        "microseconds) grows with size through cache misses; the whole read "
        "around it does not grow with size (the smallest size runs first, so its figure can "
        "include warm-up).",
        "",
        "## 2. GetTopN end to end over gRPC",
        "",
        "The same server, model and users with each list store, against an empty RPC (health "
        "`Check`) on the same server. In the stale mix, every tenth read is by a user who has "
        "just rated a movie (an IngestRatings call first, not counted), so that read recomputes "
        "the list and writes it back to the store.",
        "",
        "![GetTopN throughput](gettopn_throughput.png)",
        "",
        "| store | RPC | in flight | req/s | p50 ms | p99 ms |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for store in ("spark", "mysql"):
        for r in data["end_to_end"][store]["rows"]:
            lines.append(
                f"| {store} | {r['rpc']} | {r['inflight']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} "
                f"| {r['p99_ms']:.2f} |"
            )
    ingest = data["end_to_end"]["spark"]["ingest"]
    lines += [
        "",
        "## 3. PredictRating and ingestion",
        "",
        "PredictRating rows are in the table above (Spark SQL store server; it does not read "
        f"lists). Durable ingestion (IngestRatings, one producer, 500 events per message, "
        f"acknowledged after fsync): **{ingest['rate']:,.0f} ratings/s** over "
        f"{ingest['seconds']:.1f} s. `benchmarks/bench_ingest.py` measures more of it.",
        "",
        "## 4. Training a model version vs ratings",
        "",
        "Synthetic ratings with power-law skew on users and movies, one per (user, movie), "
        "half-star scale; the default settings (ranking ALS, bias-aware rating ALS, Item-CF), "
        "local[2], driver 6g. Time covers id indexing and all three fits; one run per size. "
        "Peak memory is the high-water resident set of the Python driver plus its JVM, each "
        "size in a fresh process (Python workers, which training does not use, are not "
        "counted).",
        "",
        "![training](training.png)",
        "",
        "| ratings | users | movies | seconds | peak MB (Python + JVM) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in data["training"]:
        lines.append(
            f"| {r['ratings']:,} | {r['users']:,} | {r['movies']:,} | {r['seconds']:.1f} "
            f"| {r['python_peak_mb']:.0f} + {r['jvm_peak_mb']:.0f} |"
        )
    lines += quality_section(
        data["quality"],
        "## 5. Quality on the demo data (`movierec evaluate`, default settings, seed 42)",
    )
    second = RESULTS / "quality-ml-100k.json"
    if second.exists():
        lines += quality_section(
            json.loads(second.read_text()),
            "## 6. The same defaults on MovieLens 100K, a data set the project does not ship "
            "(`benchmarks/second_dataset.py`)",
        )
    for number, (name, heading, chart) in enumerate(
        [
            ("quality-datasets.md", "Quality on four data sets, tuned at training", None),
            ("startup.md", "Start-up and retrain times", None),
            ("replicas.md", "Replicas on a shared JetStream log", "replicas.png"),
            ("capacity.md", "Server capacity with h2load, 1 and 2 processes", "capacity.png"),
            ("memory.md", "Memory per user at 1M and 10M users", "memory.png"),
            ("training-growth.md", "Training time and memory at 1M, 5M and 25M ratings", None),
            ("quality-cap.md", "The quality cost of a lower co-rating cap", None),
            ("rmse-folds-ml-100k.md", "PredictRating RMSE, five folds on MovieLens 100K", None),
            ("tuning-determinism.md", "Tuning's choice on a quiet machine and under load", None),
            ("soak.md", "Soak: one process through an hour of steady work", None),
            ("scale.md", "The default path at 1M-25M ratings, tuning on", None),
        ],
        start=7,
    ):
        lines += _embedded(RESULTS / name, f"## {number}. {heading} (`{name}`)")
        if chart is not None and (RESULTS / chart).exists():  # scale_charts.py draws these
            lines += ["", f"![{heading}]({chart})", ""]
    (RESULTS / "REPORT.md").write_text("\n".join(lines))


def _embedded(path: Path, heading: str) -> list[str]:
    """Another benchmark's own report under a heading of this one (its title dropped)."""
    if not path.exists():
        return ["", heading, "", "Not measured (no result file).", ""]
    body = path.read_text().splitlines()
    if body and body[0].startswith("# "):
        body = body[1:]
    return ["", heading, *("#" + line if line.startswith("## ") else line for line in body)]


def _ms(value: float) -> str:
    return f"{value * 1000:.2f} us" if value < 0.1 else f"{value:.2f} ms"


def _served_ranker(ranking: dict) -> str:
    """The row of what GetTopN serves: the tuned ranker where the run tuned, else the fixed
    blend (named "GetTopN (implicit ALS + Item-CF)" in runs before tuning existed)."""
    for prefix in ("GetTopN, tuned", "GetTopN, fixed", "GetTopN ("):
        names = [n for n in ranking if n.startswith(prefix)]
        if names:
            return names[0]
    raise KeyError("no GetTopN row")


def quality_section(q: dict, heading: str) -> list[str]:
    """Ranking and rating-accuracy tables of one `movierec evaluate` run: every row of each
    table from the same split of the same run."""
    ranking, accuracy = q["ranking"], q["accuracy"]
    served = ranking[_served_ranker(ranking)]["ndcg@10"]
    popular = ranking["popularity"]["ndcg@10"]
    plain_implicit = ranking["implicit ALS (plain)"]["ndcg@10"]
    plain = {n: r for n, r in accuracy.items() if n.startswith("plain ALS")}
    best_name = min(plain, key=lambda n: plain[n]["rmse"])
    predict = served_predictor(accuracy)[1]
    lines = [
        "",
        heading,
        "",
        "Top-10 on a per-user 75/25 split, training movies excluded, relevant = held-out movies. "
        "Every model and count is fitted on the training side:",
        "",
        "| ranker | P@10 | recall@10 | NDCG@10 | MAP@10 | coverage |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in ranking.items():
        lines.append(
            f"| {name} | {r['precision@10']:.4f} | {r['recall@10']:.4f} | {r['ndcg@10']:.4f} "
            f"| {r['map@10']:.4f} | {r['coverage']:.4f} |"
        )
    lines += [
        "",
        f"GetTopN's NDCG@10 is **{served / popular:.2f}x popularity's** and "
        f"{served / plain_implicit:.2f}x plain implicit ALS's.",
        "",
        "Rating accuracy on a random 80/20 split, predictions clipped to the scale, on the test "
        f"pairs whose user and movie are in training ({int(predict['test_ratings'])}; "
        f"{int(predict['cold_start_dropped'])} left out):",
        "",
        "| model | RMSE | MAE |",
        "|---|---:|---:|",
    ]
    for name, r in accuracy.items():
        lines.append(f"| {name} | {r['rmse']:.4f} | {r['mae']:.4f} |")
    lines += [
        "",
        f"PredictRating's RMSE is **{predict['rmse'] / plain[best_name]['rmse']:.3f}x** the best "
        f"plain Spark ALS's ({best_name}).",
        "",
    ]
    return lines
