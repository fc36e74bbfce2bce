"""Admin authentication: the token check in front of every movierec.v1.AdminService method.

The token is compared in constant time; a refused call is logged with its method, peer and
reason, never with what it presented. The token itself comes from a file or the environment
(MOVIEREC_ADMIN_TOKEN) so that it need not sit on a command line where `ps` shows it.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import grpc

from rec_service.app.secret_files import read_secret
from rec_service.edge.grpc_types import Context, Handler, rewrap

log = logging.getLogger(__name__)


def load_admin_token(token: str, token_file: str) -> str:
    """The admin token from the setting or the file it names (one of them; empty = off)."""
    return read_secret(token, "admin_token", token_file, "admin_token_file")


def check_token(
    metadata: Iterable[tuple[str, Any]] | None, token: str
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


def admin_only(handler: Handler, method: str, token: str) -> Handler:
    """`handler` behind the admin token: each call is checked before the servicer sees it, and
    a refused one ends with its status (set, not aborted, so the call log outside counts it)."""

    def refused(context: Context) -> bool:
        refusal = check_token(context.invocation_metadata(), token)
        if refusal is None:
            return False
        code, reason = refusal
        log.warning("admin call refused: %s from %s: %s", method, context.peer(), reason)
        context.set_code(code)
        context.set_details(reason)
        return True

    def wrap(behavior: Callable[..., Any], streams_out: bool) -> Callable[..., Any]:
        if streams_out:

            async def stream(request: Any, context: Context) -> AsyncIterator[Any]:
                if not refused(context):
                    async for response in behavior(request, context):
                        yield response

            return stream

        async def unary(request: Any, context: Context) -> Any:
            if refused(context):
                return None
            return await behavior(request, context)

        return unary

    return rewrap(handler, wrap)
