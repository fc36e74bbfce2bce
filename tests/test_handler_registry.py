"""The handler registry: every method a generated add_*_to_server function adds reaches the
server wrapped, and a service it cannot wrap stops start-up."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2_grpc

from rec_service.edge.grpc_types import Handler
from rec_service.edge.handler_registry import HandlerRegistry


class _RecordingServer:
    """What the registry hands a server: generic and registered handlers, by method path."""

    def __init__(self) -> None:
        self.generic: dict[str, Handler] = {}
        self.registered: dict[str, Handler] = {}

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        for handler in handlers:
            for name in ("Check", "Watch", "List"):
                found = handler.service(_Details(f"/grpc.health.v1.Health/{name}"))
                if found is not None:
                    self.generic[f"/grpc.health.v1.Health/{name}"] = found

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Handler]) -> None:
        self.registered.update({f"/{service}/{name}": h for name, h in handlers.items()})


class _Details(grpc.HandlerCallDetails):
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata = ()


def test_every_method_reaches_the_server_wrapped() -> None:
    server = _RecordingServer()
    wrapped: dict[str, Handler] = {}

    def wrap(handler: Handler, method: str) -> Handler:
        wrapped[method] = grpc.unary_unary_rpc_method_handler(lambda r, c: None)
        return wrapped[method]

    registry = HandlerRegistry(server, wrap)  # type: ignore[arg-type]
    health_pb2_grpc.add_HealthServicer_to_server(health_pb2_grpc.HealthServicer(), registry)
    registry.check_complete()
    methods = {f"/grpc.health.v1.Health/{name}" for name in ("Check", "Watch", "List")}
    assert set(wrapped) == methods
    assert server.registered == wrapped
    assert server.generic == wrapped


def test_a_service_added_without_its_method_handlers_stops_start_up() -> None:
    registry = HandlerRegistry(_RecordingServer(), lambda h, m: h)  # type: ignore[arg-type]
    handler = grpc.method_handlers_generic_handler("test.Old", {})
    registry.add_generic_rpc_handlers((handler,))
    with pytest.raises(RuntimeError, match="cannot be wrapped"):
        registry.check_complete()
