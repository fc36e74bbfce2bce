# movierec server image: Python 3.11 + Java 17 (Spark) + the shipped demo data, run as a
# non-root user. See docs/operations.md.
#   docker build -t movierec .
#   docker run -p 50051:50051 -p 9464:9464 -v movierec-var:/app/var --stop-timeout 40 movierec
# The first start trains a model into /app/var/model; the rating log lives in /app/var/ingest.
# Keep /app/var on a volume: acknowledged ratings are only as durable as the disk under it.
FROM python:3.11-slim-bookworm

# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      openjdk-17-jre-headless libopenblas0-pthread procps \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 movierec \
 && useradd --system --uid 10001 --gid movierec --create-home --home-dir /home/movierec movierec

WORKDIR /app
COPY pyproject.toml README.md ./
COPY protos ./protos
COPY clients/python ./clients/python
COPY rec_service ./rec_service
COPY spark_store ./spark_store
RUN pip install --no-cache-dir -e . \
 && mkdir -p /app/var \
 && chown movierec:movierec /app/var
COPY data ./data

# The gRPC port listens on every interface in a container. With an admin token set, the
# server refuses to start there without TLS: mount a certificate and key and set
# MOVIEREC_TLS_CERT_FILE / MOVIEREC_TLS_KEY_FILE (and MOVIEREC_TLS_CLIENT_CA_FILE for mutual
# TLS), or set MOVIEREC_ADMIN_ALLOW_PLAINTEXT=true where a service mesh terminates TLS.
ENV MOVIEREC_HOST=0.0.0.0 \
    MOVIEREC_PORT=50051 \
    MOVIEREC_METRICS_HOST=0.0.0.0 \
    MOVIEREC_METRICS_PORT=9464 \
    MOVIEREC_DATA_DIR=/app/data/ml-latest-small \
    MOVIEREC_MODEL_DIR=/app/var/model \
    MOVIEREC_INGEST_DIR=/app/var/ingest \
    MOVIEREC_LOG_FORMAT=json
VOLUME ["/app/var"]
USER 10001:10001
EXPOSE 50051 9464
# A first start tunes and trains the models before it serves: minutes on 2 cores (the
# benchmark report has the figures). The start period allows 15 minutes. With TLS on, the check
# reads the client commands' settings from the environment: MOVIEREC_TLS_CA (and
# MOVIEREC_TLS_CERT / MOVIEREC_TLS_KEY for mutual TLS; MOVIEREC_TLS_SERVER_NAME where the
# server's certificate does not name 127.0.0.1), as the TLS `docker run` line in docs/operations.md sets them.
HEALTHCHECK --interval=15s --timeout=10s --start-period=900s --retries=3 \
  CMD ["movierec", "health", "--target", "127.0.0.1:50051", "--timeout", "5"]
# SIGTERM: NOT_SERVING, 1 s drain, up to 20 s for in-flight calls, flush, exit 0.
STOPSIGNAL SIGTERM
CMD ["movierec", "serve"]
