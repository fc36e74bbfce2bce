"""Builds the gRPC server: servicer, health checking, reflection and the error interceptor."""

from __future__ import annotations

from concurrent import futures

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

from rec_service.admin import AdminServicer
from rec_service.admin_auth import AdminAuthInterceptor, load_admin_token
from rec_service.config import Config
from rec_service.interceptors import ExceptionToStatusInterceptor
from rec_service.servicer import RecommendationServicer
from rec_service.state import ServiceState


def create_server(config: Config, state: ServiceState | None = None) -> tuple[grpc.Server, int]:
    """A server with every service registered (recommendations and ingestion, admin, health,
    reflection) and its port bound (port 0 picks a free one).

    It is not started and the model is not loaded: call server.start(), then
    state.start_loading(); health reports NOT_SERVING until loading finishes.
    """
    state = state or ServiceState(config)
    token = load_admin_token(config.admin_token, config.admin_token_file)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=config.grpc_workers, thread_name_prefix="rpc"),
        # Authentication first: a refused admin call never reaches a servicer.
        interceptors=[AdminAuthInterceptor(token), ExceptionToStatusInterceptor()],
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", config.grpc_max_message_bytes),
            ("grpc.max_concurrent_streams", min(config.grpc_max_concurrent_rpcs, 1000)),
        ],
        # Beyond this many calls in progress (a stream holds a worker thread for its life),
        # new calls get RESOURCE_EXHAUSTED instead of queueing without bound.
        maximum_concurrent_rpcs=config.grpc_max_concurrent_rpcs,
    )
    pb_grpc.add_RecommendationServiceServicer_to_server(RecommendationServicer(state), server)
    apb_grpc.add_AdminServiceServicer_to_server(AdminServicer(state), server)
    health_pb2_grpc.add_HealthServicer_to_server(state.health, server)
    reflection.enable_server_reflection(
        (
            pb.DESCRIPTOR.services_by_name["RecommendationService"].full_name,
            apb.DESCRIPTOR.services_by_name["AdminService"].full_name,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    port = server.add_insecure_port(f"{config.host}:{config.port}")
    if port == 0:
        raise RuntimeError(f"could not bind {config.host}:{config.port}")
    return server, port
