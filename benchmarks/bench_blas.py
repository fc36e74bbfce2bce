"""Training with a native BLAS/LAPACK (Debian's OpenBLAS) against Spark's Java fallback.
Writes benchmarks/results/blas.md and .json.

    .venv/bin/python benchmarks/bench_blas.py [--ratings 1000000] [--rounds 2]

Spark's linear algebra (dev.ludovic.netlib) loads libblas.so.3 / liblapack.so.3 when the
system has them and falls back to Java (with the JDK's vector API) when it does not. Each
round trains every model of a version on the same synthetic ratings (benchmarks/training.py)
twice, in processes of their own, alternating: once with the native libraries allowed and once
with them refused (-Ddev.ludovic.netlib.{blas,lapack}.allowNative=false), so both meet the
same machine. OpenBLAS runs one thread per call (OPENBLAS_NUM_THREADS=1): Spark's tasks are
already one per core, and more would oversubscribe it. Needs libopenblas0-pthread installed
(scripts/install puts it there); which library each run used is read off its log.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from common import machine

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
REFUSE_NATIVE = (
    "-Ddev.ludovic.netlib.blas.allowNative=false -Ddev.ludovic.netlib.lapack.allowNative=false"
)


def one_run(ratings: int, native: bool, driver_memory: str) -> dict:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    if not native:
        env["JAVA_TOOL_OPTIONS"] = REFUSE_NATIVE
    done = subprocess.run(
        [sys.executable, str(HERE / "training.py"), str(ratings), driver_memory],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    row: dict = json.loads(done.stdout.strip().splitlines()[-1])
    if native and "dlopen(libblas.so.3) failed" in done.stderr:
        raise SystemExit("the native BLAS did not load: install libopenblas0-pthread first")
    row["native"] = native
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--driver-memory", default="10g")
    args = parser.parse_args()
    rows = []
    for round_number in range(args.rounds):
        for native in (round_number % 2 == 0, round_number % 2 != 0):  # alternate who goes first
            row = one_run(args.ratings, native, args.driver_memory)
            print(f"round {round_number + 1}: native={native}: {row['seconds']:.1f} s", flush=True)
            rows.append(row)
    seconds = {
        kind: [r["seconds"] for r in rows if r["native"] == (kind == "native")]
        for kind in ("native", "java")
    }
    ratio = statistics.median(seconds["native"]) / statistics.median(seconds["java"])
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": " ".join(["benchmarks/bench_blas.py", *sys.argv[1:]]),
        "ratings": rows[0]["ratings"],
        "rows": rows,
        "native_over_java": ratio,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "blas.json").write_text(json.dumps(result, indent=2))
    lines = [
        "# Training with a native BLAS (OpenBLAS) against Spark's Java fallback",
        "",
        f"- date: {result['date']}; command: `.venv/bin/python {result['command']}`",
        f"- {result['machine']}; {result['ratings']:,} synthetic ratings, every model of a "
        "version, default settings, tuning off (benchmarks/training.py); OPENBLAS_NUM_THREADS=1",
        f"- native / Java time, medians: **{ratio:.2f}x**",
        "",
        "| run | BLAS | seconds | peak MB (Python + JVM) |",
        "|---:|---|---:|---:|",
    ]
    for i, r in enumerate(rows, 1):
        kind = "OpenBLAS (native)" if r["native"] else "Java (vector API)"
        peak = r["python_peak_mb"] + r["jvm_peak_mb"]
        lines.append(f"| {i} | {kind} | {r['seconds']:.1f} | {peak:.0f} |")
    (RESULTS / "blas.md").write_text("\n".join(lines) + "\n")
    print(f"native / Java: {ratio:.2f}x")


if __name__ == "__main__":
    main()
