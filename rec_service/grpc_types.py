"""Typed names for grpc's generic interceptor and handler classes.

grpc's runtime classes are not subscriptable, while its typing stubs (grpc-stubs) make them
generic over request and response types; a base class must be the runtime one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import grpc

if TYPE_CHECKING:
    ServerInterceptor: TypeAlias = grpc.ServerInterceptor[Any, Any]
    Handler: TypeAlias = grpc.RpcMethodHandler[Any, Any]
else:
    ServerInterceptor = grpc.ServerInterceptor
    Handler = grpc.RpcMethodHandler
