"""Progress of long jobs: drawn in place on a terminal (a pseudo-terminal here), one plain line
per stage anywhere else; `movierec train` on a terminal; `admin status --follow`'s loop; and
the retrain's progress weights."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from movierec.v1 import admin_pb2 as apb

from rec_service.app.config import PROJECT_ROOT
from rec_service.app.retrain import STAGES, Retrainer, stage_weights
from rec_service.app.service import START_STAGES, Service
from rec_service.edge.cli import follow_retrain
from rec_service.edge.progress import StageProgress

CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")  # anything but printable text and newlines


def read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the terminal's other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


def test_on_a_terminal_one_line_is_redrawn_with_bar_and_times() -> None:
    controller, terminal = pty.openpty()
    with os.fdopen(terminal, "w") as out:
        progress = StageProgress(["load", "crunch"], out, "job")
        progress.stage("load")
        time.sleep(0.7)  # one redraw by the ticker
        progress.stage("crunch")
        progress.finish()
    shown = read_all(controller)
    os.close(controller)
    assert shown.count("\r\x1b[2K") >= 4  # each draw clears the line it redraws
    assert "job: [1/2] load " in shown and "job: [2/2] crunch " in shown
    assert " 50% " in shown and "elapsed, ~" in shown and " left" in shown
    assert re.search(r"job: done in \d+\.\d s, crunch took", shown)


def test_elsewhere_one_plain_line_per_stage() -> None:
    out = io.StringIO()
    progress = StageProgress(["load", "crunch"], out, "job")
    progress.stage("load")
    progress.stage("crunch")
    progress.finish()
    lines = out.getvalue().splitlines()
    assert [re.sub(r"\d+\.\d", "T", line) for line in lines] == [
        "job: stage 1/2: load",
        "job: stage 2/2: crunch (load took T s)",
        "job: done in T s, crunch took T s",
    ]
    assert not CONTROL.search(out.getvalue())


def small_data_set(tmp_path: Path) -> list[str]:
    """A small ratings CSV and the settings that read it."""
    data = tmp_path / "data"
    data.mkdir()
    rows = [f"u{u},m{(u * 7 + i) % 40},{1 + (u + i) % 5}" for u in range(60) for i in range(12)]
    (data / "r.csv").write_text("user,item,rating\n" + "\n".join(rows) + "\n")
    return [
        "--data-dir", str(data), "--data-format", "csv", "--ratings-file", "r.csv",
        "--user-column", "user", "--item-column", "item", "--rating-column", "rating",
        "--spark-driver-memory", "1g",
    ]  # fmt: skip


@pytest.mark.spark
def test_movierec_evaluate_shows_its_stages_on_a_terminal_and_keeps_stdout_the_report(
    tmp_path: Path,
) -> None:
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [
            sys.executable, "-m", "rec_service.edge.cli", "evaluate", *small_data_set(tmp_path),
            "--tuning-enabled", "false", "--als-rank", "4", "--rating-rank", "4",
        ],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=terminal, text=True,
    )  # fmt: skip
    os.close(terminal)
    shown = read_all(controller)
    os.close(controller)
    report, _ = child.communicate(timeout=300)
    assert child.returncode == 0, shown
    stages = [
        "start Spark and load data",
        "rating accuracy: plain ALS and PredictRating",
        "ranking: baselines, candidates and GetTopN",
    ]
    for number, stage in enumerate(stages, start=1):
        assert f"evaluate: [{number}/3] {stage} " in shown
    assert "\r\x1b[2K" in shown and "evaluate: done in " in shown
    assert "evaluate:" not in report and "NDCG@10" in report and not CONTROL.search(report)


@pytest.mark.spark
def test_movierec_tune_writes_one_plain_line_per_stage_when_not_on_a_terminal(
    tmp_path: Path,
) -> None:
    tuned = subprocess.run(
        [
            sys.executable, "-m", "rec_service.edge.cli", "tune", "--quick",
            *small_data_set(tmp_path), "--report", str(tmp_path / "tuning.md"),
        ],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert tuned.returncode == 0, tuned.stderr
    lines = [line for line in tuned.stderr.splitlines() if line.startswith("tune: ")]
    # Quick grid: one ranking ALS fit, then one rating model, after loading the data.
    assert [re.sub(r" \(.*\)$", "", line) for line in lines[:-1]] == [
        "tune: stage 1/3: start Spark and load data",
        "tune: stage 2/3: ranking ALS rank 16 reg 0.1 alpha 10 iter 10",
        "tune: stage 3/3: rating biases 10/15 ALS rank 10 reg 0.15",
    ]
    assert lines[-1].startswith("tune: done in ")
    assert not CONTROL.search(tuned.stderr) and "chosen:" in tuned.stdout


@pytest.mark.spark
def test_movierec_train_shows_its_stages_on_a_terminal(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [
            sys.executable, "-m", "rec_service.edge.cli", "train", *small_data_set(tmp_path),
            "--model-dir", str(tmp_path / "model"), "--ingest-dir", str(tmp_path / "ingest"),
            "--tuning-enabled", "false", "--als-rank", "4", "--rating-rank", "4",
        ],
        cwd=PROJECT_ROOT, stdout=terminal, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(terminal)
    shown = read_all(controller)
    os.close(controller)
    assert child.wait(timeout=300) == 0, shown
    for number, stage in enumerate(
        ["start Spark", "cut the log", "merge ratings", "train models", "save model"], start=1
    ):
        assert f"train: [{number}/6] {stage} " in shown
    assert "\r\x1b[2K" in shown and "train: done in " in shown and "saved to" in shown


class Jobs:
    """GetRetrainStatus answering a scripted sequence of jobs."""

    def __init__(self, *jobs: apb.RetrainJob) -> None:
        self.jobs = list(jobs)

    def GetRetrainStatus(self, _request: object, **_kwargs: object) -> apb.GetRetrainStatusResponse:
        job = self.jobs.pop(0) if len(self.jobs) > 1 else self.jobs[0]
        return apb.GetRetrainStatusResponse(job=job)


def job(stage: str, state: int, progress: float, **more: str) -> apb.RetrainJob:
    return apb.RetrainJob(job_id="retrain-3", stage=stage, state=state, progress=progress, **more)


def test_admin_status_follow_shows_each_stage_until_the_end() -> None:
    running = apb.RETRAIN_STATE_RUNNING
    stub = Jobs(
        job("train models", running, 0.1),
        job("train models", running, 0.1),
        job("precompute lists", running, 0.7),
        job("compact log", apb.RETRAIN_STATE_SUCCEEDED, 1.0, model_version="v2"),
    )
    out = io.StringIO()
    assert follow_retrain(stub, (), 5.0, out, poll_s=0.01) == 0  # type: ignore[arg-type]
    lines = out.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines[:3]] == [
        "retrain-3: stage 3/8: train models",
        "retrain-3: stage 6/8: precompute lists",
        "retrain-3: stage 8/8: compact log",
    ]
    assert lines[3].startswith("retrain-3: succeeded: model v2 in ") and len(lines) == 4
    failed = Jobs(job("train models", apb.RETRAIN_STATE_FAILED, 0.1, error="boom"))
    out = io.StringIO()
    assert follow_retrain(failed, (), 5.0, out) == 1  # type: ignore[arg-type]
    assert "failed: boom" in out.getvalue()


def test_stage_weights_follow_the_last_run_and_sum_to_one() -> None:
    stages = ["a", "b", "c"]
    assert stage_weights(stages, {}) == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
    weights = stage_weights(stages, {"a": 1.0, "b": 3.0})  # c never ran: the mean, 2
    assert weights == pytest.approx({"a": 1 / 6, "b": 3 / 6, "c": 2 / 6})
    assert sum(stage_weights(stages[1:], {"a": 5.0, "b": 1.0, "c": 1.0}).values()) == 1.0


def test_serve_progress_names_every_start_up_stage_in_order(demo_state: Service) -> None:
    ran = [name for name in demo_state.timings.stages if name != "total"]
    # The suite's services share one Spark session: theirs started none.
    assert ran == list(START_STAGES[1:]) and START_STAGES[0] == "spark session"


def test_the_first_retrains_progress_follows_what_this_start_measured() -> None:
    """Before any retrain the weights come from the serving model's fit and this start-up's
    load and precompute, not equal steps: training is most of the bar."""
    retrainer = Retrainer.__new__(Retrainer)  # only the progress weights are exercised
    retrainer._last_stage_seconds = {}
    retrainer.expect_stage_seconds(
        {"train models": 60.0, "load model": 14.0, "precompute lists": 4.0, "swap model": 0.0}
    )
    weights = stage_weights(STAGES, retrainer._last_stage_seconds)
    assert sum(weights.values()) == pytest.approx(1.0)
    assert weights["train models"] > 0.5
    assert weights["cut the log"] + weights["merge ratings"] < 0.1
