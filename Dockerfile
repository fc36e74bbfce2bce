# movierec server image: Python 3.11 + Java 17 (Spark) + the shipped demo data.
#   docker build -t movierec .
#   docker run -p 50051:50051 -v movierec-model:/app/var movierec
# The first start trains a model into /app/var/model; the rating log lives in /app/var/ingest.
# Keep /app/var on a volume: acknowledged ratings are only as durable as the disk under it.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless procps \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY protos ./protos
COPY clients/python ./clients/python
COPY rec_service ./rec_service
COPY spark_store ./spark_store
RUN pip install --no-cache-dir -e .
COPY data ./data

ENV MOVIEREC_HOST=0.0.0.0 \
    MOVIEREC_PORT=50051 \
    MOVIEREC_MODEL_DIR=/app/var/model \
    MOVIEREC_INGEST_DIR=/app/var/ingest
EXPOSE 50051
HEALTHCHECK --interval=10s --start-period=120s CMD ["movierec", "health", "--target", "127.0.0.1:50051"]
CMD ["movierec", "serve"]
