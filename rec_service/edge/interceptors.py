"""One server interceptor that maps exceptions to gRPC statuses (never UNKNOWN, never a trace)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from rec_service.core.errors import MAX_MESSAGE_CHARS, InvalidArgument, ServiceError, clip
from rec_service.edge.grpc_types import Handler, WrappingInterceptor, rewrap

log = logging.getLogger(__name__)


def to_status(error: ServiceError) -> grpc.Status:
    """The rich status for a domain error: code, message and BadRequest details."""
    details = []
    if isinstance(error, InvalidArgument):
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=f, description=d)
                for f, d in error.violations
            ]
        )
        packed = any_pb2.Any()
        packed.Pack(bad)
        details.append(packed)
    proto = status_pb2.Status(
        code=error.code.value[0], message=clip(str(error), MAX_MESSAGE_CHARS), details=details
    )
    return rpc_status.to_status(proto)


INTERNAL = rpc_status.to_status(
    status_pb2.Status(code=code_pb2.INTERNAL, message="internal error; see the server log")
)


class ExceptionToStatusInterceptor(WrappingInterceptor):
    """Wraps every handler so ServiceError becomes its status and anything else INTERNAL."""

    def wrap(self, handler: Handler, method: str) -> Handler:
        return rewrap(handler, _guard)


def _guard(behavior: Callable[..., Any], streaming_response: bool) -> Callable[..., Any]:
    def fail(exc: Exception, context: grpc.ServicerContext) -> None:
        if isinstance(exc, ServiceError):
            context.abort_with_status(to_status(exc))
        if not context.is_active():
            # The client cancelled, hung up or let its deadline pass: reading its stream then
            # raises here. Ordinary client behaviour, not a server fault.
            log.debug("%s ended by the client: %r", _name(behavior), exc)
            context.abort(grpc.StatusCode.CANCELLED, "the call ended before its answer")
        log.exception("unexpected error in %s", _name(behavior))
        context.abort_with_status(INTERNAL)

    if streaming_response:

        def stream(request: Any, context: grpc.ServicerContext) -> Any:
            try:
                yield from behavior(request, context)
            except Exception as exc:
                if _is_abort(exc):
                    raise
                fail(exc, context)

        return stream

    def unary(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return behavior(request, context)
        except Exception as exc:
            if _is_abort(exc):
                raise
            fail(exc, context)

    return unary


def _name(behavior: Callable[..., Any]) -> str:
    return str(getattr(behavior, "__qualname__", behavior))


def _is_abort(exc: Exception) -> bool:
    """grpc's own abort() raises a plain Exception after setting the status; let it through."""
    return type(exc) is Exception and not exc.args
