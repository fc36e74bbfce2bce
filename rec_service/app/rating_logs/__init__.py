"""Adapters of core.durable_log.DurableLog, the port ingestion, replay and retrain use:
`file_log` (fsync'd segments under ingest_dir; one process) and `jetstream` (a NATS JetStream
stream serving replicas share), and `follower`, which applies a shared log in order.
tests/test_durable_logs.py runs one contract against both adapters."""
