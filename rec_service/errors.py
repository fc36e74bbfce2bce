"""Domain exceptions that carry their gRPC status; the interceptor turns them into statuses."""

from __future__ import annotations

from collections.abc import Sequence

import grpc


class ServiceError(Exception):
    """Base of errors a caller may see; the message is safe to send."""

    code = grpc.StatusCode.INTERNAL


class InvalidArgument(ServiceError):
    """Bad input; each violation names the request field and the reason."""

    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, violations: Sequence[tuple[str, str]]) -> None:
        self.violations = list(violations)
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in self.violations))


class NotFound(ServiceError):
    """A user or movie the request requires does not exist."""

    code = grpc.StatusCode.NOT_FOUND


class Unavailable(ServiceError):
    """The service cannot answer yet (model still loading); retrying later may work."""

    code = grpc.StatusCode.UNAVAILABLE


class Unauthenticated(ServiceError):
    """The call needs credentials it did not carry."""

    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(ServiceError):
    """The credentials do not allow the call (or the call is disabled)."""

    code = grpc.StatusCode.PERMISSION_DENIED
