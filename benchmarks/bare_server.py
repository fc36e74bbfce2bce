"""A bare Python gRPC server answering grpc.health.v1.Health/Check and nothing else: the
ceiling of the gRPC stack itself, which bench_capacity.py measures beside movierec.

    .venv/bin/python benchmarks/bare_server.py sync|aio PORT

`sync` is grpc.server on a thread pool of 16 (movierec's grpc_workers default before it moved
to grpc.aio); `aio` is grpc.aio.server on one asyncio loop. Both use the grpcio-health-checking
servicer of their kind, with no interceptors.
"""

from __future__ import annotations

import asyncio
import sys
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc


def serve_sync(port: int) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    servicer = health.HealthServicer()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    server.wait_for_termination()


async def serve_aio(port: int) -> None:
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


if __name__ == "__main__":
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind == "sync":
        serve_sync(port)
    elif kind == "aio":
        asyncio.run(serve_aio(port))
    else:
        raise SystemExit("usage: bare_server.py sync|aio PORT")
