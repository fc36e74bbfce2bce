"""Server behaviour before loading and on unexpected errors, with a service that is not loaded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

from rec_service.app.parts import ReadWrite
from rec_service.app.service import Service
from rec_service.core.loaded import Loaded
from rec_service.edge.server import create_server

from .conftest import service_config


class Exploding(Loaded[ReadWrite]):
    """The servicer's components, raising an unexpected error when asked, as a bug would."""

    explode = False

    def get(self) -> ReadWrite:
        if self.explode:
            raise RuntimeError("secret internal detail")
        return super().get()


@pytest.fixture()
def unloaded(tmp_path: Path) -> Iterator[tuple[Exploding, grpc.Channel]]:
    service = Service(service_config(tmp_path))
    parts = service.read_write = Exploding("model")
    server, port = create_server(service.config, service)
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield parts, channel
    server.stop(0)


def test_not_serving_and_unavailable_until_loaded(
    unloaded: tuple[Exploding, grpc.Channel],
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
    unloaded: tuple[Exploding, grpc.Channel],
) -> None:
    parts, channel = unloaded
    parts.explode = True
    stub = pb_grpc.RecommendationServiceStub(channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.PredictRating(pb.PredictRatingRequest(user_id="1", movie_id="1"))
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert "secret" not in (err.value.details() or "")
