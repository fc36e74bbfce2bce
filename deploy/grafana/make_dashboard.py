"""Writes movierec-dashboard.json, the Grafana dashboard over movierec's metrics.

    .venv/bin/python deploy/grafana/make_dashboard.py

Kept as code so every panel's query is reviewed as text; tests check that each metric a
panel uses is one the service exports.
"""

from __future__ import annotations

import json
from pathlib import Path

PANELS: list[tuple[str, str, list[tuple[str, str]]]] = [
    # (title, unit, [(PromQL, legend)])
    ("RPC rate by method and code", "reqps", [
        ("sum by (method, code) (rate(movierec_rpc_requests_total[$__rate_interval]))",
         "{{method}} {{code}}"),
    ]),
    ("RPC latency p50 / p99", "s", [
        ("histogram_quantile(0.5, sum by (le, method) "
         "(rate(movierec_rpc_duration_seconds_bucket[$__rate_interval])))", "p50 {{method}}"),
        ("histogram_quantile(0.99, sum by (le, method) "
         "(rate(movierec_rpc_duration_seconds_bucket[$__rate_interval])))", "p99 {{method}}"),
    ]),
    ("Errors (not OK, not client-ended)", "reqps", [
        ("sum by (method, code) (rate(movierec_rpc_requests_total"
         "{code!~\"OK|CANCELLED|DEADLINE_EXCEEDED\"}[$__rate_interval]))", "{{method}} {{code}}"),
    ]),
    ("GetTopN answers by source", "reqps", [
        ("sum by (source) (rate(movierec_topn_answers_total[$__rate_interval]))", "{{source}}"),
    ]),
    ("Stale-list recompute p99", "s", [
        ("histogram_quantile(0.99, sum by (le) "
         "(rate(movierec_recompute_duration_seconds_bucket[$__rate_interval])))", "p99"),
    ]),
    ("Ingestion: events accepted / rejected", "ops", [
        ("sum by (outcome) (rate(movierec_ingest_events_total[$__rate_interval]))", "{{outcome}}"),
    ]),
    ("Ingestion: mean batch size", "none", [
        ("rate(movierec_ingest_batch_size_sum[$__rate_interval]) / "
         "rate(movierec_ingest_batch_size_count[$__rate_interval])", "events per commit"),
    ]),
    ("Rating log fsync p99", "s", [
        ("histogram_quantile(0.99, sum by (le) "
         "(rate(movierec_rating_log_fsync_duration_seconds_bucket[$__rate_interval])))", "p99"),
    ]),
    ("Rating log size", "bytes", [("movierec_rating_log_bytes", "bytes on disk")]),
    ("Ratings since the model's data cut", "none", [
        ("movierec_ratings_since_model", "folded in, not yet retrained"),
    ]),
    ("Write-back into rec_lists", "none", [
        ("movierec_writeback_queue_lists", "lists queued"),
        ("movierec_activity_queue_users", "activity rows queued"),
    ]),
    ("Write-back lag", "s", [("movierec_writeback_lag_seconds", "oldest queued list")]),
    ("Retrains", "none", [
        ("sum by (outcome) (increase(movierec_retrain_runs_total[1h]))", "{{outcome}} / h"),
    ]),
    ("Last retrain: stage seconds", "s", [
        ("movierec_retrain_stage_duration_seconds", "{{stage}}"),
    ]),
    ("Since the last successful retrain", "s", [
        ("time() - movierec_retrain_last_success_timestamp_seconds", "seconds"),
    ]),
    ("QuerySql by outcome", "reqps", [
        ("sum by (outcome) (rate(movierec_sql_queries_total[$__rate_interval]))", "{{outcome}}"),
    ]),
    ("Serving, Spark up, model version", "none", [
        ("movierec_serving", "serving"),
        ("movierec_spark_up", "spark up"),
        ("movierec_model_info", "{{version}}"),
    ]),
    ("Retrain tuning: how the ranker was chosen, candidates skipped", "none", [
        ("sum by (result) (increase(movierec_retrain_tuning_total[$__range]))", "{{result}}"),
        ("increase(movierec_tuning_skipped_candidates_total[$__range])",
         "skipped by the tuning limit"),
    ]),
    ("Rating log lines skipped (not valid ratings)", "none", [
        ("movierec_rating_log_skipped_records", "skipped"),
    ]),
    ("Lists by what a read would do", "none", [("movierec_lists", "{{state}}")]),
]  # fmt: skip


def dashboard() -> dict[str, object]:
    panels = []
    for i, (title, unit, queries) in enumerate(PANELS):
        panels.append(
            {
                "id": i + 1,
                "type": "timeseries",
                "title": title,
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8},
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "targets": [
                    {"refId": chr(ord("A") + j), "expr": expr, "legendFormat": legend}
                    for j, (expr, legend) in enumerate(queries)
                ],
            }
        )
    return {
        "title": "movierec",
        "uid": "movierec",
        "schemaVersion": 39,
        "editable": True,
        "time": {"from": "now-1h", "to": "now"},
        "refresh": "30s",
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Prometheus",
                }
            ]
        },
        "panels": panels,
    }


if __name__ == "__main__":
    out = Path(__file__).with_name("movierec-dashboard.json")
    out.write_text(json.dumps(dashboard(), indent=2) + "\n")
    print(f"wrote {out}")
