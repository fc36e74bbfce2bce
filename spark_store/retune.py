"""Whether a retrain tunes again or keeps the serving model's tuning.

Tuning is most of a retrain's cost at scale, and a retrain a few hours after the last one sees
nearly the same data: its choice would be the same. So a retrain reuses the serving model's
tuning until the data grew by a set share since that tuning, a set number of retrains in a row
reused it, the configured or tuning settings changed, or an operator asks.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from rec_service.domain.model_types import ModelSettings, ServingChoice, TuningSettings

# How a model's ranker came to be, as a metric label: not tuned, a first tuning, a re-tune
# that chose the serving settings again, changed them, or kept them (not beaten or not
# measured), or the serving model's tuning reused.
TUNING_RESULTS = ("off", "first", "unchanged", "changed", "kept", "reused")

# Tuning settings that decide nothing about the choice itself, only when to re-tune.
_SCHEDULE_FIELDS = ("retune_growth", "retune_every", "limit_s")


@dataclass(frozen=True)
class RetuneDecision:
    """Whether to tune, and why, as GetRetrainStatus and the log say it."""

    retune: bool
    reason: str


def tuning_key(tuning: TuningSettings) -> dict[str, Any]:
    """The tuning settings that decide a choice: a change re-tunes."""
    key = dataclasses.asdict(tuning)
    for name in _SCHEDULE_FIELDS:
        key.pop(name)
    return key


def decide(
    serving: ServingChoice | None,
    ratings: int,
    configured: ModelSettings,
    tuning: TuningSettings,
    asked: bool,
) -> RetuneDecision:
    """Re-tune, or reuse the serving model's tuning record, for a training on `ratings`."""
    record = serving.tuning if serving is not None else None
    if serving is None or record is None:
        return RetuneDecision(True, "tuned: no tuned model serves yet")
    if asked:
        return RetuneDecision(True, "re-tuned: the operator asked for it")
    tuned_on = int(record.get("tuned_on_ratings", 0))
    if tuned_on <= 0:
        return RetuneDecision(True, "re-tuned: the serving model's tuning predates reuse")
    if record.get("configured") != configured.as_dict():
        return RetuneDecision(True, "re-tuned: the configured model settings changed")
    if record.get("tuning_settings") != tuning_key(tuning):
        return RetuneDecision(True, "re-tuned: the tuning settings changed")
    growth = abs(ratings - tuned_on) / tuned_on
    if growth >= tuning.retune_growth:
        return RetuneDecision(
            True,
            f"re-tuned: the data changed by {growth:.1%} since the last tuning "
            f"(tuning_retune_growth {tuning.retune_growth:.0%})",
        )
    reused = int(record.get("retrains_reused", 0))
    if reused >= tuning.retune_every:
        return RetuneDecision(
            True,
            f"re-tuned: {reused} retrains in a row reused the last tuning "
            f"(tuning_retune_every {tuning.retune_every})",
        )
    return RetuneDecision(
        False,
        f"reused the tuning of model {serving.version}: the data changed by {growth:.1%} "
        f"(< {tuning.retune_growth:.0%}), reuse {reused + 1} of {tuning.retune_every}",
    )


def tuned_record(
    selection: dict[str, Any],
    decision: RetuneDecision,
    ratings: int,
    configured: ModelSettings,
    tuning: TuningSettings,
) -> dict[str, Any]:
    """A fresh tuning's record, with what a later retrain needs to decide on reuse."""
    return {
        **selection,
        "decision": decision.reason,
        "tuned_on_ratings": ratings,
        "retrains_reused": 0,
        "configured": configured.as_dict(),
        "tuning_settings": tuning_key(tuning),
    }


def reused_record(serving: ServingChoice, decision: RetuneDecision) -> dict[str, Any]:
    """The serving model's record, carried to the new model that reuses it."""
    record = dict(serving.tuning or {})
    record.update(
        decision=decision.reason,
        retrains_reused=int(record.get("retrains_reused", 0)) + 1,
        reused_from=serving.version,
        result="reused",
        seconds=0.0,  # no tuning ran for this model
        skipped=[],
        limit_hit=False,
    )
    return record
