"""Admin authentication: a server interceptor in front of every movierec.v1.AdminService call.

The token is compared in constant time; a refused call is logged with its method, peer and
reason, never with what it presented. The token itself comes from a file or the environment
(MOVIEREC_ADMIN_TOKEN) so that it need not sit on a command line where `ps` shows it.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from rec_service.app.secret_files import read_secret
from rec_service.edge.grpc_types import Context, Handler, ServerInterceptor, rewrap

log = logging.getLogger(__name__)

ADMIN_PREFIX = "/movierec.v1.AdminService/"


def load_admin_token(token: str, token_file: str) -> str:
    """The admin token from the setting or the file it names (one of them; empty = off)."""
    return read_secret(token, "admin_token", token_file, "admin_token_file")


def check_token(
    metadata: tuple[tuple[str, Any], ...] | None, token: str
) -> tuple[grpc.StatusCode, str] | None:
    """None when the metadata carries `authorization: Bearer <token>`; otherwise the code and
    the reason to refuse with."""
    if not token:
        return (
            grpc.StatusCode.PERMISSION_DENIED,
            "admin calls are disabled: the server has no admin token set",
        )
    offered = [value for key, value in metadata or () if key == "authorization"]
    if len(offered) > 1:
        # Which one a proxy or library would act on differs; none is taken.
        return (
            grpc.StatusCode.UNAUTHENTICATED,
            "admin calls take exactly one 'authorization' header",
        )
    presented = offered[0] if offered and isinstance(offered[0], str) else ""
    if not presented:
        return (
            grpc.StatusCode.UNAUTHENTICATED,
            "admin calls need the metadata 'authorization: Bearer <token>'",
        )
    scheme, _, secret = presented.partition(" ")
    matches = hmac.compare_digest(secret.strip().encode(), token.encode())
    if scheme.lower() != "bearer" or not matches:
        return grpc.StatusCode.PERMISSION_DENIED, "the admin token is wrong"
    return None


class AdminAuthInterceptor(ServerInterceptor):
    """Lets an AdminService call through only with the right bearer token."""

    def __init__(self, token: str) -> None:
        self._token = token
        # One refusing handler per (method, refusal), made once: the interceptors outside this
        # one key their wrappers by handler identity.
        self._refusals: dict[tuple[str, grpc.StatusCode, str], Handler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler:
        method = str(handler_call_details.method)
        if not method.startswith(ADMIN_PREFIX):
            return await continuation(handler_call_details)
        refusal = check_token(
            handler_call_details.invocation_metadata,
            self._token,
        )
        if refusal is None:
            return await continuation(handler_call_details)
        key = (method, *refusal)
        cached = self._refusals.get(key)
        if cached is None:
            handler: Handler | None = await continuation(handler_call_details)
            if handler is None:  # no such method: UNIMPLEMENTED
                return None  # type: ignore[return-value]
            cached = self._refusals[key] = _refusing(handler, method, *refusal)
        return cached


def _refusing(handler: Handler, method: str, code: grpc.StatusCode, reason: str) -> Handler:
    """A handler of the same kind as `handler` that refuses the call."""

    async def refuse(request: Any, context: Context) -> Any:
        # A status set, not an abort: it is sent after the call log has counted the refusal.
        log.warning("admin call refused: %s from %s: %s", method, context.peer(), reason)
        context.set_code(code)
        context.set_details(reason)

    async def refuse_stream(request: Any, context: Context) -> AsyncIterator[Any]:
        await refuse(request, context)
        return
        yield  # makes this an async generator (of no messages)

    return rewrap(handler, lambda _behavior, streams_out: refuse_stream if streams_out else refuse)
