"""Builds the gRPC server: servicer, health checking, reflection and the error interceptor."""

from __future__ import annotations

import logging
import os
from concurrent import futures

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

from rec_service.app.config import Config
from rec_service.app.service import Service
from rec_service.edge.admin import AdminServicer
from rec_service.edge.admin_auth import AdminAuthInterceptor, load_admin_token
from rec_service.edge.call_log import TelemetryInterceptor
from rec_service.edge.dashboard.gateway import Gateway
from rec_service.edge.dashboard.http import Dashboard
from rec_service.edge.interceptors import ExceptionToStatusInterceptor
from rec_service.edge.servicer import RecommendationServicer
from rec_service.edge.tls import TlsFiles, plaintext_admin_problem, server_credentials

log = logging.getLogger(__name__)


def check_listen_settings(config: Config) -> str:
    """The admin token, once the settings of what listens are known to be safe and readable;
    ValueError naming the setting otherwise."""
    token = load_admin_token(config.admin.admin_token, config.admin.admin_token_file)
    problem = plaintext_admin_problem(
        config.server.host, config.tls.enabled, bool(token), config.admin.admin_allow_plaintext
    )
    if problem:
        raise ValueError(problem)
    if config.dashboard.enabled:
        if not token:
            raise ValueError(
                "dashboard_port is set but there is no admin token: the dashboard's login is "
                "the admin token (admin_token or admin_token_file)"
            )
        problem = plaintext_admin_problem(
            config.dashboard.host, config.tls.enabled, True, config.admin.admin_allow_plaintext
        )
        if problem:
            raise ValueError(problem.replace("admin is enabled", "the dashboard is on", 1))
    tls = config.tls
    for name, path in (
        ("tls_cert_file", tls.cert_file),
        ("tls_key_file", tls.key_file),
        ("tls_client_ca_file", tls.client_ca_file),
    ):
        if path and not os.access(path, os.R_OK):
            raise ValueError(f"{name} {path!r} cannot be read")
    return token


def create_server(config: Config, service: Service | None = None) -> tuple[grpc.Server, int]:
    """A server with every service registered (recommendations and ingestion, admin, health,
    reflection) and its port bound (port 0 picks a free one).

    It is not started and the model is not loaded: call server.start(), then
    service.start_loading(); health reports NOT_SERVING until loading finishes.
    """
    token = check_listen_settings(config)
    service = service or Service(config)
    server = grpc.server(
        futures.ThreadPoolExecutor(
            max_workers=config.server.grpc_workers, thread_name_prefix="rpc"
        ),
        # Metrics see every call's final status; authentication comes before any servicer.
        interceptors=[
            TelemetryInterceptor(
                service.telemetry, config.telemetry.slow_call_ms / 1000, service.grace_over
            ),
            AdminAuthInterceptor(token),
            ExceptionToStatusInterceptor(),
        ],
        options=[
            ("grpc.so_reuseport", 1 if config.server.reuse_port else 0),
            ("grpc.max_receive_message_length", config.server.grpc_max_message_bytes),
            ("grpc.max_concurrent_streams", min(config.server.grpc_max_concurrent_rpcs, 1000)),
        ],
        # Beyond this many calls in progress (a stream holds a worker thread for its life),
        # new calls get RESOURCE_EXHAUSTED instead of queueing without bound.
        maximum_concurrent_rpcs=config.server.grpc_max_concurrent_rpcs,
    )
    recommendations = RecommendationServicer(service.read_write, service.telemetry.topn_answers)
    admin = AdminServicer(service.operations)
    pb_grpc.add_RecommendationServiceServicer_to_server(recommendations, server)
    apb_grpc.add_AdminServiceServicer_to_server(admin, server)
    health_pb2_grpc.add_HealthServicer_to_server(service.health, server)
    reflection.enable_server_reflection(
        (
            pb.DESCRIPTOR.services_by_name["RecommendationService"].full_name,
            apb.DESCRIPTOR.services_by_name["AdminService"].full_name,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    address = f"{config.server.host}:{config.server.port}"
    if config.tls.enabled:
        files = TlsFiles(config.tls.cert_file, config.tls.key_file, config.tls.client_ca_file)
        port = server.add_secure_port(address, server_credentials(files))
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        raise RuntimeError(f"could not bind {address}")
    if config.telemetry.metrics_port >= 0:
        service.metrics_port = service.telemetry.serve(
            config.telemetry.metrics_host, config.telemetry.metrics_port
        )
        log.info(
            "metrics on http://%s:%d/metrics", config.telemetry.metrics_host, service.metrics_port
        )
    if config.dashboard.enabled:
        # The same servicer objects as the gRPC port's: a page shows what a client would get.
        dashboard = Dashboard(
            config, token, Gateway(recommendations, admin), service.telemetry.registry
        )
        service.dashboard_port = dashboard.start()
        service.stop_with_service(dashboard.stop)
        log.info(
            "dashboard on %s://%s:%d/",
            dashboard.scheme,
            config.dashboard.host,
            service.dashboard_port,
        )
    return server, port
