"""Domain exceptions that carry their gRPC status; the interceptor turns them into statuses."""

from __future__ import annotations

from collections.abc import Sequence

import grpc


class ServiceError(Exception):
    """Base of errors a caller may see; the message is safe to send."""

    code = grpc.StatusCode.INTERNAL


# Bounds on what an error carries back. Status message and details travel in trailing metadata,
# which gRPC clients refuse above 16 KB by default: an answer about a request with thousands of
# bad ids, or one megabyte-long genre, must stay readable.
MAX_VIOLATIONS = 10
MAX_FIELD_CHARS = 100
MAX_REASON_CHARS = 200
MAX_MESSAGE_CHARS = 1000


def clip(text: str, limit: int) -> str:
    """text cut to at most `limit` characters, marked where it was cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class InvalidArgument(ServiceError):
    """Bad input; each violation names the request field and the reason. Only the first
    MAX_VIOLATIONS are kept (with a count of the rest), each cut to a bounded length."""

    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, violations: Sequence[tuple[str, str]]) -> None:
        self.violations = [
            (clip(field, MAX_FIELD_CHARS), clip(reason, MAX_REASON_CHARS))
            for field, reason in violations[:MAX_VIOLATIONS]
        ]
        message = "; ".join(f"{field}: {reason}" for field, reason in self.violations)
        if len(violations) > MAX_VIOLATIONS:
            message += f"; and {len(violations) - MAX_VIOLATIONS} more"
        super().__init__(message)


class NotFound(ServiceError):
    """A user or movie the request requires does not exist."""

    code = grpc.StatusCode.NOT_FOUND


class Unavailable(ServiceError):
    """The service cannot answer yet (model still loading); retrying later may work."""

    code = grpc.StatusCode.UNAVAILABLE


class ResourceExhausted(ServiceError):
    """A server limit is reached (concurrent operator queries); retry later."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class DeadlineExceeded(ServiceError):
    """The work ran past its time limit and was cancelled."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED
