"""What the servicers get from the composition root once the model is loaded: the
RecommendationService its read/write parts, the AdminService its operations. The edge imports
these, never the composition root itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rec_service.app.operator_queries import OperatorQueries
from rec_service.app.rating_logs.follower import LocalLog, LogFollower
from rec_service.app.retrain import Retrainer
from rec_service.core.ingest import Ingestor
from rec_service.core.recommender import Recommender

# This process's place in its rating log: alone (file) or one replica of a shared stream.
Replica = LocalLog | LogFollower


@dataclass(frozen=True)
class ReadWrite:
    """What the RecommendationService's calls use once the model is loaded."""

    recommender: Recommender
    ingestor: Ingestor
    ingest_batch: int
    replica: Replica  # how far this process applied the rating log (read-your-writes)


@dataclass(frozen=True)
class Operations:
    """What the AdminService's calls use once the model is loaded."""

    recommender: Recommender
    retrainer: Retrainer
    operator_sql: OperatorQueries
    flush_tables: Callable[[], None]  # so a query sees every change made so far
