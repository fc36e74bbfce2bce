"""Typed names for grpc's generic handler and context classes, and the wrapping of a handler's
behaviour that every per-call wrapper of ours shares (edge.handler_registry).

grpc's runtime classes are not subscriptable, while its typing stubs (grpc-stubs) make them
generic over request and response types.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc

if TYPE_CHECKING:
    Handler: TypeAlias = grpc.RpcMethodHandler[Any, Any]
    Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]
else:
    Handler = grpc.RpcMethodHandler
    Context = grpc.aio.ServicerContext


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
