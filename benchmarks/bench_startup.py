"""How long the service takes to become SERVING and to retrain, as ranges over several runs:
a first start (no model: trains three models, then precomputes), a start with a saved model,
and a retrain triggered through the AdminService (with its stage times). Writes
benchmarks/results/startup.md and .json.

    .venv/bin/python benchmarks/bench_startup.py [--runs 3] [--first-starts 1]

Each start is the real `movierec serve` in its own process on a scratch directory; a retrain
runs in the serving process while it keeps serving.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import UTC, datetime

import grpc
from common import RESULTS, ROOT, SCRATCH, ServerProcess, ensure_model, machine, scratch_copy
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc

TOKEN = "bench-startup-token"
AUTH = (("authorization", f"Bearer {TOKEN}"),)
QUIET = ("--retrain-interval-s", "0", "--retrain-after-ratings", "0", "--admin-token", TOKEN)


def first_start() -> float:
    work = SCRATCH / "startup-first"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    server = ServerProcess(work, "startup-first-server.log", *QUIET)
    try:
        return server.wait(timeout=1800)
    finally:
        server.stop()


def retrain(target: str) -> dict[str, object]:
    """Triggers a retrain and waits for it; returns its total and stage seconds."""
    with grpc.insecure_channel(target) as channel:
        admin = apb_grpc.AdminServiceStub(channel)
        started = time.perf_counter()
        job = admin.TriggerRetrain(apb.TriggerRetrainRequest(), metadata=AUTH).job
        while job.state == apb.RETRAIN_STATE_RUNNING:
            time.sleep(0.5)
            job = admin.GetRetrainStatus(apb.GetRetrainStatusRequest(), metadata=AUTH).job
        if job.state != apb.RETRAIN_STATE_SUCCEEDED:
            raise RuntimeError(f"retrain failed: {job.error}")
        return {"seconds": time.perf_counter() - started, "stages": dict(job.stage_seconds)}


def span(values: list[float]) -> str:
    return f"{min(values):.1f}-{max(values):.1f}" if len(values) > 1 else f"{values[0]:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="saved-model starts and retrains")
    parser.add_argument("--first-starts", type=int, default=1)
    parser.add_argument("--model-dir", default=str(ROOT / "var" / "model"))
    args = parser.parse_args()
    firsts = [first_start() for _ in range(args.first_starts)]
    for seconds in firsts:
        print(f"first start: {seconds:.1f} s")
    ensure_model(args.model_dir)
    saved: list[float] = []
    retrains: list[dict[str, object]] = []
    for run in range(args.runs):
        work = scratch_copy(args.model_dir, "startup-saved")
        server = ServerProcess(work, "startup-saved-server.log", *QUIET)
        try:
            saved.append(server.wait(timeout=900))
            retrains.append(retrain(server.target))
        finally:
            server.stop()
        print(f"run {run + 1}: saved-model start {saved[-1]:.1f} s, retrain "
              f"{retrains[-1]['seconds']:.1f} s")  # fmt: skip
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "first_start_s": firsts,
        "saved_model_start_s": saved,
        "retrains": retrains,
    }
    (RESULTS / "startup.json").write_text(json.dumps(result, indent=2) + "\n")
    retrain_s = [float(r["seconds"]) for r in retrains]  # type: ignore[arg-type]
    stages = sorted({s for r in retrains for s in r["stages"]})  # type: ignore[attr-defined]
    lines = [
        "# Start-up and retrain times",
        "",
        f"Machine: {machine()}. Command: `.venv/bin/python benchmarks/bench_startup.py --runs "
        f"{args.runs} --first-starts {args.first_starts}` ({result['when']}).",
        "",
        "Seconds from launching `movierec serve` on the demo data to health SERVING, and from "
        "TriggerRetrain to the retrain's end (while serving), as min-max over the runs.",
        "",
        "| what | runs | seconds |",
        "|---|---:|---:|",
    ]
    if firsts:
        lines.append(f"| first start (trains the models) | {len(firsts)} | {span(firsts)} |")
    lines += [
        f"| start with a saved model | {len(saved)} | {span(saved)} |",
        f"| retrain | {len(retrain_s)} | {span(retrain_s)} |",
    ]
    for stage in stages:
        values = [float(r["stages"][stage]) for r in retrains if stage in r["stages"]]  # type: ignore[index, operator]
        lines.append(f"| retrain stage: {stage} | {len(values)} | {span(values)} |")
    (RESULTS / "startup.md").write_text("\n".join(lines) + "\n")
    print((RESULTS / "startup.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
