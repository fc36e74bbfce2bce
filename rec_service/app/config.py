"""Service configuration: one frozen dataclass from defaults, TOML, MOVIEREC_* env and flags."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import itertools
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from spark_store.model_types import ModelSettings

# The model settings `movierec tune` chose on the demo data (benchmarks/results/tuning.md);
# ModelSettings' defaults are those, and these settings default to them.
TUNED = ModelSettings()

ENV_PREFIX = "MOVIEREC_"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The documented demo path: the MovieLens data shipped in a source checkout. An installed
# wheel has no such directory, and there data_dir must be given.
DEMO_DATA = PROJECT_ROOT / "data" / "ml-latest-small"


@dataclass(frozen=True)
class Config:
    """Everything the server and the trainer read; later sources override earlier ones."""

    host: str = "127.0.0.1"
    """Address the gRPC server binds ("0.0.0.0" in a container)."""
    port: int = 50051
    """gRPC port; 0 picks a free one (the bound port is logged and returned)."""
    grpc_workers: int = 16
    """Threads serving RPCs; reads hold the GIL only for microseconds each."""
    tls_cert_file: str = ""
    """PEM certificate chain of the server; with tls_key_file the port speaks TLS only. Files
    renewed on disk are served from the next connection on, without a restart."""
    tls_key_file: str = ""
    """PEM private key of tls_cert_file."""
    tls_client_ca_file: str = ""
    """PEM CA bundle: with it, mutual TLS; clients without a certificate it signed are refused."""
    admin_allow_plaintext: bool = False
    """Let admin run without TLS on a non-loopback address (a service mesh terminating TLS);
    otherwise such a start is refused."""
    metrics_port: int = -1
    """Prometheus metrics over HTTP on this port (/metrics); -1 turns them off, 0 picks one."""
    metrics_host: str = "127.0.0.1"
    """Address the metrics port binds ("0.0.0.0" in a container)."""
    shutdown_drain_s: float = 1.0
    """On SIGTERM/SIGINT, seconds health says NOT_SERVING before new calls are refused, so
    load balancers stop sending them."""
    shutdown_grace_s: float = 20.0
    """On SIGTERM/SIGINT, seconds in-flight calls and streams get to finish."""

    data_dir: str = str(DEMO_DATA) if DEMO_DATA.is_dir() else ""
    """MovieLens data set directory (latest CSV, ml-100k or ml-1m layout); defaults to the demo
    data of a source checkout, and must be set when movierec is installed from a wheel."""
    data_format: str = "auto"
    """One of auto, latest, 100k, 1m; auto looks at the file names."""
    model_dir: str = "var/model"
    """Where the trained model is saved (relative paths: to the working directory); a start with
    no model here trains one."""
    ingest_dir: str = "var/ingest"
    """The durable rating log and its manifest (relative paths: to the working directory); one
    server owns it at a time."""
    snapshot_dir: str = ""
    """Where retrains persist merged ratings (Parquet); empty means <ingest_dir>/snapshots.
    On a cluster, point it at storage every executor reaches (hdfs://, s3a://)."""

    spark_master: str = "local[2]"
    """Spark master URL: local[N] on one machine, spark://host:7077 or yarn for a cluster."""
    spark_driver_memory: str = "4g"
    """Driver heap; the ALS factors are collected to the driver for serving."""
    spark_shuffle_partitions: int = 4
    """spark.sql.shuffle.partitions; the default 200 makes small jobs 2-5x slower."""
    spark_conf: Mapping[str, str] = field(default_factory=dict)
    """Extra Spark settings (TOML table [spark_conf] or repeated --spark-conf k=v)."""

    als_rank: int = TUNED.ranking.rank
    """Latent factors of the ranking ALS (GetTopN)."""
    als_reg_param: float = TUNED.ranking.reg_param
    """Regularisation (lambda) of the ranking ALS."""
    als_max_iter: int = TUNED.ranking.max_iter
    """Iterations of the ranking ALS."""
    als_implicit_prefs: bool = TUNED.ranking.implicit_prefs
    """Rank with implicit-feedback ALS (ratings as confidence). Ranking by predicted explicit
    rating is over ten times worse than popularity at top-N (benchmarks/results/REPORT.md)."""
    als_alpha: float = TUNED.ranking.alpha
    """Confidence scale of the ranking ALS's implicit feedback."""
    als_seed: int = 42
    """Random seed, so the same data and settings give the same models."""
    als_blocks: int = 2
    """numUserBlocks = numItemBlocks; raise it on a cluster to use more executors."""
    cf_neighbours: int = TUNED.cf_neighbours
    """Item-CF: most similar movies kept per movie."""
    cf_ratings_per_user: int = TUNED.cf_ratings_per_user
    """Item-CF: each user's most recent ratings that count towards similarity (the work grows
    with the square of a user's ratings); scoring uses all of them."""
    blend_als_weight: float = TUNED.blend_als_weight
    """GetTopN's score: this weight on the ranking ALS, the rest on Item-CF (1 = ALS only)."""
    rating_rank: int = TUNED.rating.rank
    """Latent factors of the bias-aware rating ALS (PredictRating)."""
    rating_reg_param: float = TUNED.rating.reg_param
    """Regularisation of the rating ALS."""
    rating_max_iter: int = TUNED.rating.max_iter
    """Iterations of the rating ALS."""
    bias_reg_item: float = TUNED.bias.reg_item
    """Pseudo-ratings shrinking each movie's bias towards zero."""
    bias_reg_user: float = TUNED.bias.reg_user
    """Pseudo-ratings shrinking each user's bias towards zero."""

    list_store: str = "spark"
    """Where per-user lists live: spark (in-memory Spark SQL table + in-process index) or mysql
    (the baseline: a MySQL/MariaDB table queried on every read)."""
    mysql_host: str = "127.0.0.1"
    """MySQL/MariaDB server for list_store=mysql."""
    mysql_port: int = 3306
    """Its port."""
    mysql_user: str = "root"
    """Its user."""
    mysql_password: str = ""
    """Its password (prefer MOVIEREC_MYSQL_PASSWORD to a flag)."""
    mysql_database: str = "movierec"
    """Database for the rec_lists table; created when missing."""
    list_length: int = 100
    """Movies kept per precomputed list; deeper filtered reads rank the whole catalogue."""
    active_users: int = 100_000
    """How many of the most active users get lists precomputed in bulk."""
    writeback_interval_s: float = 1.0
    """How often rewritten lists and last-activity changes are merged into the Spark SQL tables."""
    access_count_flush_s: float = 30.0
    """How often read counts (access frequency) are written to user_activity; reads bump them."""
    ingest_batch: int = 4096
    """Most events made durable by one fsync in a stream; larger batches ingest faster."""
    ingest_max_future_s: float = 3600.0
    """Event times further ahead of the server clock than this are rejected."""
    retrain_interval_s: float = 3600.0
    """Retrain in the background this often when new ratings came in; 0 turns it off."""
    retrain_after_ratings: int = 100_000
    """Retrain once this many ratings came in since the model's data cut; 0 turns it off."""
    admin_token: str = ""
    """Bearer token AdminService calls must present; empty disables admin calls. Prefer
    MOVIEREC_ADMIN_TOKEN or admin_token_file to a flag, which `ps` shows."""
    admin_token_file: str = ""
    """File holding the admin token (surrounding blanks ignored), instead of admin_token."""
    sql_timeout_s: float = 30.0
    """QuerySql: a query running longer is cancelled in Spark and answers DEADLINE_EXCEEDED."""
    sql_max_concurrent: int = 2
    """QuerySql: queries running at once; more answer RESOURCE_EXHAUSTED."""
    sql_max_result_bytes: int = 1 << 20
    """QuerySql: rows beyond this much result are cut off (the answer says truncated)."""
    grpc_max_message_bytes: int = 4 << 20
    """Largest request message accepted; larger ones answer RESOURCE_EXHAUSTED."""
    grpc_max_concurrent_rpcs: int = 256
    """Calls (streams included) served or queued at once; more answer RESOURCE_EXHAUSTED."""
    log_level: str = "INFO"
    """Python logging level."""
    log_format: str = "text"
    """text (one line per event) or json (one JSON object per line)."""
    slow_call_ms: float = 1000.0
    """A call slower than this is logged with its method, status, duration and request id."""

    def __post_init__(self) -> None:
        if not self.data_dir:
            raise ValueError(
                "data_dir is not set: give --data-dir (or MOVIEREC_DATA_DIR) the ratings data "
                "directory; only a source checkout has the demo data as its default"
            )
        if self.data_format not in ("auto", "latest", "100k", "1m"):
            raise ValueError(
                f"data_format must be auto, latest, 100k or 1m, not {self.data_format!r}"
            )
        for name in (
            "grpc_workers",
            "list_length",
            "active_users",
            "als_rank",
            "als_max_iter",
            "rating_rank",
            "rating_max_iter",
            "cf_neighbours",
            "cf_ratings_per_user",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if not 0.0 <= self.blend_als_weight <= 1.0:
            raise ValueError(f"blend_als_weight must be 0-1, not {self.blend_als_weight}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be 0-65535, not {self.port}")
        if self.list_store not in ("spark", "mysql"):
            raise ValueError(f"list_store must be spark or mysql, not {self.list_store!r}")
        if self.ingest_batch < 1:
            raise ValueError("ingest_batch must be at least 1")
        for name in (
            "sql_max_concurrent",
            "sql_max_result_bytes",
            "grpc_max_message_bytes",
            "grpc_max_concurrent_rpcs",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ValueError("tls_cert_file and tls_key_file must be set together")
        if self.tls_client_ca_file and not self.tls_cert_file:
            raise ValueError("tls_client_ca_file needs tls_cert_file and tls_key_file")
        if self.log_format not in ("text", "json"):
            raise ValueError(f"log_format must be text or json, not {self.log_format!r}")
        if not -1 <= self.metrics_port <= 65535:
            raise ValueError(f"metrics_port must be -1 (off) or 0-65535, not {self.metrics_port}")
        for name in ("shutdown_drain_s", "shutdown_grace_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if not self.sql_timeout_s > 0:
            raise ValueError(f"sql_timeout_s must be above 0, not {self.sql_timeout_s}")

    @property
    def tls(self) -> bool:
        """Whether the gRPC port speaks TLS."""
        return bool(self.tls_cert_file)

    @property
    def snapshot_path(self) -> str:
        """snapshot_dir, or its default under ingest_dir."""
        return self.snapshot_dir or str(Path(self.ingest_dir) / "snapshots")

    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed (tests and the benchmark use this)."""
        return dataclasses.replace(self, **changes)


def _coerce(name: str, raw: Any, kind: Any) -> Any:
    """Turns a TOML, env or flag value into the field's type, naming the field on failure."""
    try:
        if kind in ("bool", bool):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"not a boolean: {raw!r}")
        if kind in ("int", int):
            return int(raw)
        if kind in ("float", float):
            return float(raw)
        if str(kind).startswith("Mapping"):
            if isinstance(raw, Mapping):
                return {str(k): str(v) for k, v in raw.items()}
            pairs = [p for p in str(raw).split(",") if p.strip()]
            return dict(_split_pair(p) for p in pairs)
        return str(raw)
    except ValueError as exc:
        raise ValueError(f"config field {name}: {exc}") from exc


def _split_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"expected key=value, got {text!r}")
    return key.strip(), value.strip()


def load(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: str | None = None,
) -> Config:
    """Builds the Config: defaults < TOML file < MOVIEREC_* environment < flags.

    The environment is an argument so tests can pass their own; the TOML file comes from
    ``config_file``, ``--config`` or ``MOVIEREC_CONFIG``.
    """
    environ = os.environ if environ is None else environ
    args = parse_flags(argv or [])
    values: dict[str, Any] = {}
    known = {f.name: f.type for f in fields(Config)}

    path = args.pop("config", None) or config_file or environ.get(ENV_PREFIX + "CONFIG")
    if path:
        with open(path, "rb") as fh:
            for key, raw in tomllib.load(fh).items():
                if key not in known:
                    raise ValueError(f"unknown config key {key!r} in {path}{_closest(key)}")
                values[key] = _coerce(key, raw, known[key])
    for key, kind in known.items():
        env_value = environ.get(ENV_PREFIX + key.upper())
        if env_value is not None:
            values[key] = _coerce(key, env_value, kind)
    for key, raw in args.items():
        if raw is not None:
            values[key] = _coerce(key, raw, known[key])
    return Config(**values)


def parse_flags(argv: Sequence[str]) -> dict[str, Any]:
    """Parses --field-name value flags for every Config field; unset flags come back as None."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config")
    for f in fields(Config):
        flag = "--" + f.name.replace("_", "-")
        if f.name == "spark_conf":
            parser.add_argument(flag, action="append", metavar="KEY=VALUE")
        else:
            parser.add_argument(flag)
    known, unknown = parser.parse_known_args(list(argv))
    if unknown:
        flag = unknown[0].split("=", 1)[0]
        names = [f.name for f in fields(Config)]
        close = difflib.get_close_matches(flag.lstrip("-").replace("-", "_"), names, n=1)
        hint = f"; did you mean --{close[0].replace('_', '-')}?" if close else ""
        raise ValueError(f"unknown setting {flag}{hint}")
    parsed = vars(known)
    if parsed.get("spark_conf"):
        parsed["spark_conf"] = ",".join(parsed["spark_conf"])
    return parsed


def _closest(name: str) -> str:
    """ "; did you mean 'x'?" for the nearest setting name, or ""."""
    close = difflib.get_close_matches(name, [f.name for f in fields(Config)], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def describe_fields() -> list[tuple[str, str, Any]]:
    """(name, help, default) for every field, for `movierec serve --help` and the README."""
    docs = _field_docs()
    out = []
    for f in fields(Config):
        default = f.default if f.default is not dataclasses.MISSING else {}
        out.append((f.name, docs.get(f.name, ""), default))
    return out


def _field_docs() -> dict[str, str]:
    """Reads the one-line docstrings under each field from this module's source."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(Config))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for prev, node in itertools.pairwise(body):
        if (
            isinstance(prev, ast.AnnAssign)
            and isinstance(prev.target, ast.Name)
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
        ):
            docs[prev.target.id] = str(node.value.value)
    return docs
