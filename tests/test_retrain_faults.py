"""A retrain's faults inside a running service: a model another replica announced that cannot
be loaded, and a shutdown that cuts a retrain after its swap. Each on a service of its own
over a copy of the demo model (the second one is stopped by its test)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

import rec_service.app.retrain as retrain
from rec_service.app.retrain import RetrainJob
from rec_service.app.service import Service
from rec_service.core.serving_model import MovieFilter
from spark_store.cancellation import Cancelled

from .conftest import second_server


def finished(service: Service, job_id: str, deadline_s: float = 300) -> RetrainJob:
    retrainer = service.retrainer()
    deadline = time.monotonic() + deadline_s
    while True:
        job = retrainer.job
        if job is not None and job.job_id == job_id and job.state != "running":
            return job
        assert time.monotonic() < deadline, "the job did not end"
        time.sleep(0.2)


def test_a_damaged_announced_model_is_named_and_the_old_one_keeps_serving(
    demo_state: Service, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with second_server(demo_state, tmp_path, retrain_interval_s=0) as (service, _):
        serving = service.recommender().model.version
        before = service.recommender().top_n("1", 10, MovieFilter())
        (tmp_path / "model" / "biases.npz").write_bytes(b"cut off mid-write")
        with caplog.at_level(logging.INFO, logger="rec_service.app.retrain"):
            service.retrainer().adopt("v-damaged")
            job = finished(service, service.retrainer().job.job_id)
        assert job.state == "failed"
        assert "biases.npz is missing or damaged" in job.error
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and "biases.npz" in errors[0].getMessage()
        assert "Traceback" not in caplog.text
        assert service.recommender().model.version == serving
        after = service.recommender().top_n("1", 10, MovieFilter())
        assert [m.movie_id for m, _ in after.items] == [m.movie_id for m, _ in before.items]
        service.retrainer().adopt("v-damaged")  # tried once: not again
        assert service.retrainer().job.job_id == job.job_id


def test_a_shutdown_after_the_swap_says_the_new_model_serves(
    demo_state: Service,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with second_server(demo_state, tmp_path, retrain_interval_s=0) as (service, _):
        retrainer = service.retrainer()

        def shutdown_mid_compaction(*_: object) -> None:
            retrainer.cancel("cancelled by shutdown")
            raise Cancelled("cancelled by shutdown")

        monkeypatch.setattr(retrain, "compact", shutdown_mid_compaction)
        with caplog.at_level(logging.INFO, logger="rec_service.app.retrain"):
            retrainer.adopt("v-announced")  # the copied model, loaded again as announced
            job = finished(service, retrainer.job.job_id)
        assert job.state == "cancelled"
        assert job.error == "cancelled by shutdown after the swap"
        assert service.recommender().model.version == job.model_version
        warning = next(r for r in caplog.records if r.levelno == logging.WARNING)
        assert f"model {job.model_version} serves" in warning.getMessage()
        assert "old model keeps serving" not in caplog.text
