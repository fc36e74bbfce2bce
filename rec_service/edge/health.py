"""grpc.health.v1.Health on the event loop, over the service's HealthStates.

Check is the cheapest call the server answers (load balancers and the capacity benchmark's
empty call use it): a dictionary read and a prebuilt response, no lock, no thread hop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from rec_service.app.health_states import HealthStates
from rec_service.edge.grpc_types import Context

Response = health_pb2.HealthCheckResponse
RESPONSES: dict[int, Any] = {s: Response(status=s) for s in Response.ServingStatus.values()}


class HealthServicer(health_pb2_grpc.HealthServicer):
    """Check and Watch as grpcio-health-checking's servicer answers them (NOT_FOUND, and
    SERVICE_UNKNOWN while watching, for a name never set); List is not offered."""

    def __init__(self, states: HealthStates) -> None:
        self._states = states

    async def Check(self, request: Any, context: Context) -> Any:
        status = self._states.get(request.service)
        if status is None:  # a status, not an abort: sent once the call log has counted it
            context.set_code(grpc.StatusCode.NOT_FOUND)
            context.set_details("unknown service")
            return None
        return RESPONSES[status]

    async def Watch(self, request: Any, context: Context) -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        changed = asyncio.Event()

        def wake() -> None:  # called from whichever thread changed a status
            if not loop.is_closed():
                loop.call_soon_threadsafe(changed.set)

        stop = self._states.listen(wake)
        try:
            last: int | None = None
            while True:
                changed.clear()
                status = self._states.get(request.service)
                if status is None:
                    status = Response.SERVICE_UNKNOWN
                if status != last:
                    yield RESPONSES[status]
                    last = status
                await changed.wait()
        finally:
            stop()

    async def List(self, request: Any, context: Context) -> Any:
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details("Health/List is not offered")
        return None
