"""Builds the gRPC server on grpc.aio: servicers, health checking and reflection, each method
wrapped in the call log, the admin token and errors to statuses, on the event loop of
edge.serving_loop."""

from __future__ import annotations

import asyncio
import logging
import os
import threading

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

from rec_service.app.config import Config
from rec_service.app.service import Service
from rec_service.edge.admin import AdminServicer
from rec_service.edge.admin_auth import admin_only, load_admin_token
from rec_service.edge.call_log import CallLog
from rec_service.edge.dashboard.gateway import Gateway
from rec_service.edge.dashboard.http import Dashboard
from rec_service.edge.error_statuses import with_error_statuses
from rec_service.edge.grpc_types import Handler
from rec_service.edge.handler_registry import HandlerRegistry
from rec_service.edge.health import HealthServicer
from rec_service.edge.servicer import RecommendationServicer
from rec_service.edge.serving_loop import ServingLoop
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


UNREACHED_GRACE_S = 24 * 3600


class GrpcServer:
    """The grpc.aio server, driven from synchronous code as grpc.Server is: start(), and
    stop(grace) returning an event set once every call has ended and the loop is closed."""

    def __init__(self, loop: ServingLoop, server: grpc.aio.Server) -> None:
        self._loop = loop
        self._server = server
        self._stopped: threading.Event | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self._loop.call(self._server.start())

    def stop(self, grace: float, grace_over: threading.Event | None = None) -> threading.Event:
        """New calls are refused at once; calls in progress get `grace` seconds, then are
        cancelled (their clients see UNAVAILABLE). `grace_over` is set on the event loop
        before any call is cancelled, so that each call's log knows the server ended
        it, however late a busy machine runs the timers. A second stop returns the first
        one's event."""
        with self._lock:
            if self._stopped is not None:
                return self._stopped
            stopped = self._stopped = threading.Event()

        async def drain_then_cancel() -> None:
            # grpc.aio's own grace cancels the calls from inside the core, with no hook to
            # mark it first: so it is given a grace it never reaches, and a second stop ends it.
            draining = asyncio.ensure_future(self._server.stop(UNREACHED_GRACE_S))
            finished, _ = await asyncio.wait({draining}, timeout=grace)
            if not finished:
                if grace_over is not None:
                    grace_over.set()
                await self._server.stop(0)
                await draining

        def stop_then_close() -> None:
            try:
                self._loop.call(drain_then_cancel())
            finally:
                self._loop.close()
                stopped.set()

        threading.Thread(target=stop_then_close, name="movierec-grpc-stop", daemon=True).start()
        return stopped


def create_server(config: Config, service: Service | None = None) -> tuple[GrpcServer, int]:
    """A server with every service registered (recommendations and ingestion, admin, health,
    reflection) and its port bound (port 0 picks a free one), on an event loop of its own.

    It is not started and the model is not loaded: call server.start(), then
    service.start_loading(); health reports NOT_SERVING until loading finishes.
    """
    token = check_listen_settings(config)
    service = service or Service(config)
    loop = ServingLoop(config.server.grpc_workers)
    try:
        server, port, gateway = loop.call(_build(config, service, token, loop))
    except BaseException:
        loop.close()
        raise
    if config.telemetry.metrics_port >= 0:
        service.metrics_port = service.telemetry.serve(
            config.telemetry.metrics_host, config.telemetry.metrics_port
        )
        log.info(
            "metrics on http://%s:%d/metrics", config.telemetry.metrics_host, service.metrics_port
        )
    if config.dashboard.enabled:
        dashboard = Dashboard(config, token, gateway, service.telemetry.registry)
        service.dashboard_port = dashboard.start()
        service.stop_with_service(dashboard.stop)
        log.info(
            "dashboard on %s://%s:%d/",
            dashboard.scheme,
            config.dashboard.host,
            service.dashboard_port,
        )
    return GrpcServer(loop, server), port


async def _build(
    config: Config, service: Service, token: str, loop: ServingLoop
) -> tuple[grpc.aio.Server, int, Gateway]:
    """The aio server, made on the loop it will run on."""
    server = grpc.aio.server(
        options=[
            ("grpc.so_reuseport", 1 if config.server.reuse_port else 0),
            ("grpc.max_receive_message_length", config.server.grpc_max_message_bytes),
            ("grpc.max_concurrent_streams", min(config.server.grpc_max_concurrent_rpcs, 1000)),
        ],
        # Beyond this many calls in progress, new calls get RESOURCE_EXHAUSTED instead of
        # queueing without bound.
        maximum_concurrent_rpcs=config.server.grpc_max_concurrent_rpcs,
    )
    call_log = CallLog(service.telemetry, config.telemetry.slow_call_ms / 1000, service.grace_over)
    admin_service = apb.DESCRIPTOR.services_by_name["AdminService"].full_name

    def wrap(handler: Handler, method: str) -> Handler:
        # The call log outermost, so it sees every call's final status; the token before any
        # admin servicer; errors to statuses around the servicer itself.
        handler = with_error_statuses(handler)
        if method.startswith(f"/{admin_service}/"):
            handler = admin_only(handler, method, token)
        return call_log.wrap(handler, method)

    registry = HandlerRegistry(server, wrap)
    recommendations = RecommendationServicer(
        service.read_write, service.telemetry.topn_answers, loop.offload
    )
    admin = AdminServicer(service.operations, loop.offload)
    pb_grpc.add_RecommendationServiceServicer_to_server(recommendations, registry)
    apb_grpc.add_AdminServiceServicer_to_server(admin, registry)
    health_pb2_grpc.add_HealthServicer_to_server(HealthServicer(service.health), registry)
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(
        # grpc_reflection exports its aio servicer at run time; its stubs do not name it
        reflection.aio.ReflectionServicer(  # type: ignore[attr-defined]
            (
                pb.DESCRIPTOR.services_by_name["RecommendationService"].full_name,
                admin_service,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            )
        ),
        registry,
    )
    registry.check_complete()
    address = f"{config.server.host}:{config.server.port}"
    if config.tls.enabled:
        files = TlsFiles(config.tls.cert_file, config.tls.key_file, config.tls.client_ca_file)
        port = server.add_secure_port(address, server_credentials(files))
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        raise RuntimeError(f"could not bind {address}")
    # The same servicer objects as the gRPC port's, so a page shows what a client would get.
    return server, port, Gateway(recommendations, admin, loop.call)
