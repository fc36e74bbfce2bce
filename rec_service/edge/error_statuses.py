"""Exceptions to gRPC statuses (never UNKNOWN, never a trace), as a wrapper around each method's
handler (edge.handler_registry)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from rec_service.core.errors import MAX_MESSAGE_CHARS, InvalidArgument, ServiceError, clip
from rec_service.edge.grpc_types import Context, Handler, rewrap

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


def with_error_statuses(handler: Handler) -> Handler:
    """`handler` with ServiceError turned into its status and anything else into INTERNAL."""
    return rewrap(handler, _guard)


def _guard(behavior: Callable[..., Any], streaming_response: bool) -> Callable[..., Any]:
    def fail(exc: Exception, context: Context) -> None:
        if isinstance(exc, ServiceError):
            set_status(context, to_status(exc))
        elif context.cancelled():
            # The client cancelled or hung up while its stream was read. Ordinary client
            # behaviour, not a server fault.
            log.debug("%s ended by the client: %r", _name(behavior), exc)
            context.set_code(grpc.StatusCode.CANCELLED)
            context.set_details("the call ended before its answer")
        else:
            log.exception("unexpected error in %s", _name(behavior))
            set_status(context, INTERNAL)

    if streaming_response:

        async def stream(request: Any, context: Context) -> Any:
            try:
                async for response in behavior(request, context):
                    yield response
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                fail(exc, context)

        return stream

    async def unary(request: Any, context: Context) -> Any:
        try:
            return await behavior(request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            fail(exc, context)
            return None

    return unary


def set_status(context: Context, status: grpc.Status) -> None:
    """Ends the call with `status` once its handler returns.

    Not context.abort: grpc.aio's abort sends the status at once, before the wrappers outside
    this one (the call log, the metrics) have seen the call end, so a client could read the
    metrics before its own failed call is counted. A status set here is sent after every
    wrapper has returned, as the thread-pool server did.
    """
    context.set_code(status.code)
    context.set_details(status.details)
    context.set_trailing_metadata(status.trailing_metadata)


def _name(behavior: Callable[..., Any]) -> str:
    return str(getattr(behavior, "__qualname__", behavior))
