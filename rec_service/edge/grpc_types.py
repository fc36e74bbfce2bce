"""Typed names for grpc's generic interceptor and handler classes, and the wrapping of a
handler's behaviour that every interceptor of ours shares.

grpc's runtime classes are not subscriptable, while its typing stubs (grpc-stubs) make them
generic over request and response types; a base class must be the runtime one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc

if TYPE_CHECKING:
    Handler: TypeAlias = grpc.RpcMethodHandler[Any, Any]
    Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]
    ServerInterceptor: TypeAlias = grpc.aio.ServerInterceptor[Any, Any]
else:
    Handler = grpc.RpcMethodHandler
    Context = grpc.aio.ServicerContext
    ServerInterceptor = grpc.aio.ServerInterceptor


Wrapper: TypeAlias = Callable[[Callable[..., Any], bool], Callable[..., Any]]
"""wrap(behavior, streams_out) -> the behaviour to serve instead: a coroutine function where
streams_out is False, an async generator function where it is True (grpc.aio tells the two
kinds apart by that, and would run anything else on a thread)."""

_KINDS = (
    ("unary_unary", grpc.unary_unary_rpc_method_handler, False),
    ("unary_stream", grpc.unary_stream_rpc_method_handler, True),
    ("stream_unary", grpc.stream_unary_rpc_method_handler, False),
    ("stream_stream", grpc.stream_stream_rpc_method_handler, True),
)


def rewrap(handler: Handler, wrap: Wrapper) -> Handler:
    """A handler of the same kind and (de)serializers as `handler`, serving wrap(behavior,
    streams_out) in place of its behaviour."""
    for attr, factory, streams_out in _KINDS:
        behavior = getattr(handler, attr)
        if behavior is not None:
            return factory(
                wrap(behavior, streams_out),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
    return handler


class WrappingInterceptor(ServerInterceptor):
    """Serves every registered handler through a wrapper built once per handler: grpc calls
    intercept_service for every RPC, and rebuilding wrappers there would cost on the hot path.
    Handlers are long-lived (registered ones, and cached admin refusals), so their ids are
    stable keys."""

    def __init__(self) -> None:
        self._wrapped: dict[int, Handler] = {}

    def wrap(self, handler: Handler, method: str) -> Handler:
        raise NotImplementedError

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler:
        handler: Handler | None = await continuation(handler_call_details)
        if handler is None:  # no such method (the stubs say it cannot be): UNIMPLEMENTED
            return None  # type: ignore[return-value]
        cached = self._wrapped.get(id(handler))
        if cached is None:
            method = str(handler_call_details.method)
            cached = self._wrapped[id(handler)] = self.wrap(handler, method)
        return cached
