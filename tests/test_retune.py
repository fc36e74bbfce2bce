"""A retrain re-tunes or reuses the serving model's tuning, by rules fixed in the settings."""

from __future__ import annotations

import dataclasses

from rec_service.domain.model_types import ModelSettings, ServingChoice, TuningSettings
from spark_store import retune

TUNING = TuningSettings(retune_growth=0.2, retune_every=3)
CONFIGURED = ModelSettings()
CHOSEN = ModelSettings(item_model="ease", item_model_param=300.0, blend_als_weight=0.0)


def _serving(tuned_on: int = 1000, reused: int = 0, **changes: object) -> ServingChoice:
    first = retune.RetuneDecision(True, "tuned: no tuned model serves yet")
    record = retune.tuned_record({"chosen": "EASE^R"}, first, tuned_on, CONFIGURED, TUNING)
    record.update(retrains_reused=reused, **changes)
    return ServingChoice("v1", CHOSEN, record)


def test_a_retrain_on_a_little_more_data_reuses_the_tuning() -> None:
    decision = retune.decide(_serving(), 1100, CONFIGURED, TUNING, asked=False)
    assert not decision.retune
    assert decision.reason.startswith("reused the tuning of model v1")
    record = retune.reused_record(_serving(), decision)
    assert record["retrains_reused"] == 1 and record["reused_from"] == "v1"
    assert record["result"] == "reused" and record["seconds"] == 0.0
    assert record["tuned_on_ratings"] == 1000  # growth counts from the tuning, not the reuse


def test_growth_past_the_share_re_tunes() -> None:
    decision = retune.decide(_serving(), 1200, CONFIGURED, TUNING, asked=False)
    assert decision.retune and "changed by 20.0%" in decision.reason
    shrunk = retune.decide(_serving(), 700, CONFIGURED, TUNING, asked=False)
    assert shrunk.retune


def test_a_run_of_reuses_re_tunes() -> None:
    assert not retune.decide(_serving(reused=2), 1000, CONFIGURED, TUNING, False).retune
    decision = retune.decide(_serving(reused=3), 1000, CONFIGURED, TUNING, asked=False)
    assert decision.retune and "3 retrains in a row" in decision.reason


def test_the_operator_or_changed_settings_re_tune() -> None:
    assert "operator" in retune.decide(_serving(), 1000, CONFIGURED, TUNING, True).reason
    other = dataclasses.replace(CONFIGURED, cf_neighbours=20)
    assert "model settings changed" in retune.decide(_serving(), 1000, other, TUNING, False).reason
    wider = dataclasses.replace(TUNING, item_models=3)
    assert (
        "tuning settings changed"
        in retune.decide(_serving(), 1000, CONFIGURED, wider, False).reason
    )
    # when to re-tune is not what to choose: changing it keeps the reuse
    sooner = dataclasses.replace(TUNING, retune_every=4, limit_s=10.0)
    assert not retune.decide(_serving(), 1000, CONFIGURED, sooner, False).retune


def test_a_first_model_or_an_untuned_one_tunes() -> None:
    assert retune.decide(None, 1000, CONFIGURED, TUNING, False).retune
    untuned = ServingChoice("v0", CONFIGURED, None)
    assert retune.decide(untuned, 1000, CONFIGURED, TUNING, False).retune
    old = _serving()
    assert old.tuning is not None
    del old.tuning["tuned_on_ratings"]  # saved before reuse existed
    assert "predates" in retune.decide(old, 1000, CONFIGURED, TUNING, False).reason
