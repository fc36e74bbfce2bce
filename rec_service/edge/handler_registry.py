"""Where servicers are added in place of the grpc.aio server itself: each method's handler is
wrapped once, at registration, in the edge's per-call behaviour (the call log, the admin
token, errors to statuses), and only the wrapped handler reaches the server.

Not grpc.aio interceptors: grpc runs the interceptor chain on every call (a coroutine and a
partial per interceptor before the handler is even found), a measurable share of a cheap
call's time (benchmarks/results/capacity.md). Every handler is known before the server
starts, so the wrappers are built once, here. A method never registered is answered
UNIMPLEMENTED by grpc itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import grpc

from rec_service.edge.grpc_types import Handler

Wrap = Callable[[Handler, str], Handler]
"""wrap(handler, "/package.Service/Method") -> the handler to serve instead."""


class HandlerRegistry:
    """Stands in for the server in generated add_*Servicer_to_server functions, which hand it
    each service twice: as a generic handler (ignored here: it holds the unwrapped handlers)
    and as the method-handler dictionary, whose handlers are wrapped and registered both ways
    on the real server. `check_complete` fails start-up if a service came only the first way
    (older generated code), rather than serving it unwrapped or not at all."""

    def __init__(self, server: grpc.aio.Server, wrap: Wrap) -> None:
        self._server = server
        self._wrap = wrap
        self._generic = 0
        self._registered: list[str] = []

    def add_generic_rpc_handlers(self, handlers: Iterable[Any]) -> None:
        self._generic += len(tuple(handlers))

    def add_registered_method_handlers(
        self, service_name: str, method_handlers: dict[str, Handler]
    ) -> None:
        self._registered.append(service_name)
        wrapped = {
            name: self._wrap(handler, f"/{service_name}/{name}")
            for name, handler in method_handlers.items()
        }
        self._server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(service_name, wrapped),)
        )
        # grpcio's typing stubs predate registered method handlers (grpcio 1.62)
        self._server.add_registered_method_handlers(service_name, wrapped)  # type: ignore[attr-defined]

    def check_complete(self) -> None:
        if self._generic > len(self._registered):
            raise RuntimeError(
                f"{self._generic} services added, {len(self._registered)} with their method"
                f" handlers ({', '.join(self._registered)}): the rest cannot be wrapped"
            )
