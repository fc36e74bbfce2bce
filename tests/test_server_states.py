"""Server behaviour before loading and on unexpected errors, with a state that is not loaded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

from rec_service.app.service import ServiceState
from rec_service.edge.server import create_server

from .conftest import service_config


class ExplodingState(ServiceState):
    """A state whose recommender raises an unexpected error, as a bug would."""

    explode = False

    def recommender(self):  # type: ignore[no-untyped-def]
        if self.explode:
            raise RuntimeError("secret internal detail")
        return super().recommender()


@pytest.fixture()
def unloaded(tmp_path: Path) -> Iterator[tuple[ExplodingState, grpc.Channel]]:
    state = ExplodingState(service_config(tmp_path))
    server, port = create_server(state.config, state)
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield state, channel
    server.stop(0)


def test_not_serving_and_unavailable_until_loaded(
    unloaded: tuple[ExplodingState, grpc.Channel],
) -> None:
    _, channel = unloaded
    health = health_pb2_grpc.HealthStub(channel)
    assert (
        health.Check(health_pb2.HealthCheckRequest()).status
        == health_pb2.HealthCheckResponse.NOT_SERVING
    )
    stub = pb_grpc.RecommendationServiceStub(channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.GetTopN(pb.GetTopNRequest(user_id="1"))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


def test_unexpected_error_is_internal_without_details(
    unloaded: tuple[ExplodingState, grpc.Channel],
) -> None:
    state, channel = unloaded
    state.explode = True
    stub = pb_grpc.RecommendationServiceStub(channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.PredictRating(pb.PredictRatingRequest(user_id="1", movie_id="1"))
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert "secret" not in (err.value.details() or "")
