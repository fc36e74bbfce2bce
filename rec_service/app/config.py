"""Settings, grouped by concern into frozen dataclasses: one source of truth.

Each group is a TOML section (`[server]`, `[tls]`, ...) whose keys are the group's field names.
Every field also has a flat name, unique across groups: the field name, with the group's
`flag_prefix` in front where it has one (`[tls] cert_file` is `tls_cert_file`). Flags
(`--tls-cert-file`), environment names (`MOVIEREC_TLS_CERT_FILE`) and `movierec config` are all
derived from the dataclasses; later sources override earlier ones: defaults < TOML < env < flags.
Values are checked when a group is built, and a failure names the setting.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import difflib
import inspect
import itertools
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from rec_service.app.list_stores.mysql import MySqlSettings
from rec_service.domain.model_types import ModelSettings, TuningSettings
from spark_store.session import SparkSettings
from spark_store.table_loader import TableLayout, parse_scale, spark_charset

# The model settings `movierec tune` chose on the demo data (benchmarks/results/tuning.md);
# ModelSettings' defaults are those, and these settings default to them.
TUNED = ModelSettings()

ENV_PREFIX = "MOVIEREC_"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The documented demo path: the MovieLens data shipped in a source checkout. An installed
# wheel has no such directory, and there data_dir must be given.
DEMO_DATA = PROJECT_ROOT / "data" / "ml-latest-small"


def _at_least(group: object, low: float, *names: str) -> None:
    for name in names:
        if getattr(group, name) < low:
            raise ValueError(f"{name} must be at least {low:g}, not {getattr(group, name)}")


def _one_of(group: object, name: str, allowed: Sequence[str]) -> None:
    if getattr(group, name) not in allowed:
        raise ValueError(
            f"{name} must be one of {', '.join(allowed)}, not {getattr(group, name)!r}"
        )


@dataclass(frozen=True)
class ServerSettings:
    """[server] The gRPC port, its limits, and shutdown."""

    host: str = "127.0.0.1"
    """Address the gRPC server binds ("0.0.0.0" in a container)."""
    port: int = 50051
    """gRPC port; 0 picks a free one (the bound port is logged and returned)."""
    grpc_workers: int = 16
    """Threads for the calls' blocking parts (Spark queries, rating commits, database reads);
    every call is served on one asyncio event loop, which hands those parts to these threads."""
    grpc_max_message_bytes: int = 4 << 20
    """Largest request message accepted; larger ones answer RESOURCE_EXHAUSTED."""
    grpc_max_concurrent_rpcs: int = 256
    """Calls (streams included) served or queued at once; more answer RESOURCE_EXHAUSTED."""
    shutdown_drain_s: float = 1.0
    """On SIGTERM/SIGINT, seconds health says NOT_SERVING before new calls are refused, so
    load balancers stop sending them."""
    shutdown_grace_s: float = 20.0
    """On SIGTERM/SIGINT, seconds in-flight calls and streams get to finish."""
    processes: int = 1
    """serve: replica processes on this machine sharing the port (one Python process is bound
    by its GIL); more than 1 needs log_backend = jetstream (docs/scaling.md)."""
    reuse_port: bool = False
    """Let other processes bind the same port (SO_REUSEPORT); serve --processes sets it for its
    processes. Off, a second server on a taken port fails instead of sharing it. On, the
    process binds the port only once its model is loaded (SERVING), so the kernel never hands
    it connections it would refuse; off, it binds first and reports NOT_SERVING meanwhile."""

    def __post_init__(self) -> None:
        _at_least(
            self, 1, "grpc_workers", "grpc_max_message_bytes", "grpc_max_concurrent_rpcs",
            "processes",
        )  # fmt: skip
        _at_least(self, 0, "shutdown_drain_s", "shutdown_grace_s")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be 0-65535, not {self.port}")


@dataclass(frozen=True)
class TlsSettings:
    """[tls] TLS and mutual TLS of the gRPC port."""

    flag_prefix: ClassVar[str] = "tls_"

    cert_file: str = ""
    """PEM certificate chain of the server; with tls_key_file the port speaks TLS only. Files
    renewed on disk are served from the next connection on, without a restart."""
    key_file: str = ""
    """PEM private key of tls_cert_file."""
    client_ca_file: str = ""
    """PEM CA bundle: with it, mutual TLS; clients without a certificate it signed are refused."""

    def __post_init__(self) -> None:
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("tls_cert_file and tls_key_file must be set together")
        if self.client_ca_file and not self.cert_file:
            raise ValueError("tls_client_ca_file needs tls_cert_file and tls_key_file")

    @property
    def enabled(self) -> bool:
        """Whether the gRPC port speaks TLS."""
        return bool(self.cert_file)


@dataclass(frozen=True)
class AdminSettings:
    """[admin] The AdminService: its token and the limits of operator SQL."""

    admin_token: str = ""
    """Bearer token AdminService calls must present; empty disables admin calls. Prefer
    MOVIEREC_ADMIN_TOKEN or admin_token_file to a flag, which `ps` shows."""
    admin_token_file: str = ""
    """File holding the admin token (surrounding blanks ignored), instead of admin_token."""
    admin_allow_plaintext: bool = False
    """Let admin run without TLS on a non-loopback address (a service mesh terminating TLS);
    otherwise such a start is refused."""
    sql_timeout_s: float = 30.0
    """QuerySql: a query running longer is cancelled in Spark and answers DEADLINE_EXCEEDED."""
    sql_max_concurrent: int = 2
    """QuerySql: queries running at once; more answer RESOURCE_EXHAUSTED."""
    sql_max_result_bytes: int = 1 << 20
    """QuerySql: rows beyond this much result are cut off (the answer says truncated)."""

    def __post_init__(self) -> None:
        _at_least(self, 1, "sql_max_concurrent", "sql_max_result_bytes")
        if not self.sql_timeout_s > 0:
            raise ValueError(f"sql_timeout_s must be above 0, not {self.sql_timeout_s}")


@dataclass(frozen=True)
class TelemetrySettings:
    """[telemetry] Prometheus metrics and logging."""

    metrics_port: int = -1
    """Prometheus metrics over HTTP on this port (/metrics); -1 turns them off, 0 picks one."""
    metrics_host: str = "127.0.0.1"
    """Address the metrics port binds ("0.0.0.0" in a container)."""
    log_level: str = "INFO"
    """Python logging level."""
    log_format: str = "text"
    """text (one line per event) or json (one JSON object per line)."""
    slow_call_ms: float = 1000.0
    """A call slower than this is logged with its method, status, duration and request id."""

    def __post_init__(self) -> None:
        _one_of(self, "log_format", ("text", "json"))
        if not -1 <= self.metrics_port <= 65535:
            raise ValueError(f"metrics_port must be -1 (off) or 0-65535, not {self.metrics_port}")


@dataclass(frozen=True)
class DashboardSettings:
    """[dashboard] The operator dashboard in the browser (docs/dashboard.md)."""

    flag_prefix: ClassVar[str] = "dashboard_"

    port: int = -1
    """The dashboard's HTTP port; -1 turns it off, 0 picks one. It needs the admin token (the
    login) and speaks TLS with the gRPC port's certificate when tls_cert_file is set."""
    host: str = "127.0.0.1"
    """Address the dashboard binds; without TLS only a loopback address is allowed unless
    admin_allow_plaintext is set."""
    history_minutes: int = 30
    """Minutes of answer sources and ingestion rate the overview charts keep (in memory)."""

    def __post_init__(self) -> None:
        if not -1 <= self.port <= 65535:
            raise ValueError(f"dashboard_port must be -1 (off) or 0-65535, not {self.port}")
        _at_least(self, 1, "history_minutes")

    @property
    def enabled(self) -> bool:
        return self.port >= 0


@dataclass(frozen=True)
class DataSettings:
    """[data] The base ratings data set: a MovieLens directory, or any ratings file read
    through the column settings below (docs/data.md)."""

    data_dir: str = str(DEMO_DATA) if DEMO_DATA.is_dir() else ""
    """Directory of the data set; defaults to the demo data of a source checkout, and must be
    set when movierec is installed from a wheel."""
    data_format: str = "auto"
    """auto, latest, 100k, 1m (MovieLens layouts), csv (a delimited text file: any separator)
    or parquet, the last two read through the settings below. auto: MovieLens by its file
    names, else csv (parquet for a .parquet ratings_file) when ratings_file is set."""
    ratings_file: str = ""
    """csv/parquet: the ratings file, relative to data_dir (or an absolute path)."""
    items_file: str = ""
    """csv/parquet: an optional items file (id, and optionally title and genres); without it
    items are the ids rated, titled by their id."""
    separator: str = ","
    """csv: the field separator, any string ("\t", ";", "::")."""
    header: bool = True
    """csv: whether the first line names the columns."""
    encoding: str = "utf-8"
    """csv: the files' character encoding (e.g. latin-1)."""
    quote: str = '"'
    """csv: the quoting character; empty turns quoting off."""
    columns: str = ""
    """csv without a header: the ratings file's column names in order, comma-separated."""
    items_columns: str = ""
    """csv without a header: the items file's column names in order, comma-separated."""
    user_column: str = "user_id"
    """The ratings column holding user ids (read as strings)."""
    item_column: str = "item_id"
    """The ratings column holding item ids (read as strings: leading zeros stay)."""
    rating_column: str = "rating"
    """The ratings column holding the rating."""
    timestamp_column: str = ""
    """The ratings column holding the rating's time; empty: none (timestamps become 0)."""
    timestamp_format: str = ""
    """Empty: timestamps are Unix seconds; else a Spark datetime pattern such as
    "yyyy-MM-dd HH:mm:ss" (read as UTC)."""
    item_id_column: str = ""
    """The items file's id column; empty: the same name as item_column."""
    title_column: str = ""
    """The items file's title column; empty: an item's id is its title."""
    genres_column: str = ""
    """The items file's genre/category column; empty: no genres."""
    genres_separator: str = "|"
    """What separates several genres in genres_column."""
    rating_scale: str = ""
    """ "low,high,step" (step 0: any value in between); empty: read from the data (the lowest
    and highest rating, and their step unless the values are continuous)."""
    implicit_value: str = ""
    """A rating column text that means "interacted, no rating" (for example "0" or "view"):
    such rows count for ranking (GetTopN, similar movies, popularity) but not for PredictRating
    or a movie's mean rating. Empty: every row must hold a rating."""
    max_bad_fraction: float = 0.01
    """Bad ratings rows (bad ids, a rating that is not a number, an unreadable time) are left
    out and reported with their line numbers; more than this share of all rows fails the load."""

    def __post_init__(self) -> None:
        if not self.data_dir:
            raise ValueError(
                "data_dir is not set: give --data-dir (or MOVIEREC_DATA_DIR) the ratings data "
                "directory; only a source checkout has the demo data as its default"
            )
        _one_of(self, "data_format", ("auto", "latest", "100k", "1m", "csv", "parquet"))
        if not 0 <= self.max_bad_fraction <= 1:
            raise ValueError(f"max_bad_fraction must be 0-1, not {self.max_bad_fraction}")
        if self.data_format in ("csv", "parquet") and not self.ratings_file:
            raise ValueError(f"data_format {self.data_format} needs ratings_file")
        try:
            parse_scale(self.rating_scale)
        except ValueError as exc:
            raise ValueError(f"rating_scale: {exc}") from None
        try:
            spark_charset(self.encoding)
        except ValueError as exc:
            raise ValueError(f"encoding: {exc}") from None

    def layout(self) -> TableLayout | None:
        """The column layout of a csv/parquet data set; None for a MovieLens directory."""
        if not self.ratings_file:
            return None
        return TableLayout.from_dict({f.name: getattr(self, f.name) for f in fields(self)})


@dataclass(frozen=True)
class ModelsSettings:
    """[models] Where models live and what decides them."""

    model_dir: str = "var/model"
    """Where the trained model is saved: a directory (relative paths: to the working directory)
    or a Spark/Hadoop filesystem URL (hdfs://, s3a://); a start with no model here trains one."""
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
    """numUserBlocks = numItemBlocks; raise it on a cluster to use more executors. Training
    uses at least one block per 2M ratings whatever this says (one task builds each block)."""
    cf_neighbours: int = TUNED.cf_neighbours
    """Item-CF: most similar movies kept per movie."""
    cf_ratings_per_user: int = TUNED.cf_ratings_per_user
    """Item-CF and RP3beta: each user's most recent ratings that count towards similarity (the
    work grows with the square of a user's ratings); scoring uses all of them, and EASE^R is
    fitted on all of them."""
    cf_pairs_per_rating: float = TUNED.cf_pairs_per_rating
    """Item-CF: co-rated pairs counted per rating once they pass what the driver holds (40M);
    fewer of each user's ratings count then, so training stays linear in the ratings."""
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

    def __post_init__(self) -> None:
        _at_least(
            self, 1, "als_rank", "als_max_iter", "rating_rank", "rating_max_iter",
            "cf_neighbours", "cf_ratings_per_user",
        )  # fmt: skip
        if self.cf_pairs_per_rating <= 0:
            raise ValueError(f"cf_pairs_per_rating must be above 0, not {self.cf_pairs_per_rating}")
        if not 0.0 <= self.blend_als_weight <= 1.0:
            raise ValueError(f"blend_als_weight must be 0-1, not {self.blend_als_weight}")


@dataclass(frozen=True)
class ServingSettings:
    """[serving] Per-user lists: where they live, how many, how they reach the Spark SQL tables."""

    list_store: str = "spark"
    """Where per-user lists live: spark (in-memory Spark SQL table + in-process index) or mysql
    (the baseline: a MySQL/MariaDB table queried on every read)."""
    list_length: int = 100
    """Movies kept per precomputed list; deeper filtered reads rank the whole catalogue."""
    active_users: int = 100_000
    """How many of the most active users get lists precomputed in bulk."""
    writeback_interval_s: float = 1.0
    """How often rewritten lists and last-activity changes are merged into the Spark SQL tables."""
    access_count_flush_s: float = 30.0
    """How often read counts (access frequency) are written to user_activity; reads bump them."""

    def __post_init__(self) -> None:
        _at_least(self, 1, "list_length", "active_users")
        _one_of(self, "list_store", ("spark", "mysql"))


@dataclass(frozen=True)
class IngestSettings:
    """[ingest] The durable rating log and live ingestion."""

    ingest_dir: str = "var/ingest"
    """The durable rating log and its manifest (relative paths: to the working directory); one
    server owns it at a time."""
    snapshot_dir: str = ""
    """Where retrains persist merged ratings (Parquet); empty means <ingest_dir>/snapshots.
    On a cluster, point it at storage every executor reaches (hdfs://, s3a://)."""
    ingest_batch: int = 4096
    """Most events made durable by one fsync in a stream; larger batches ingest faster."""
    ingest_max_future_s: float = 3600.0
    """Event times further ahead of the server clock than this are rejected."""

    def __post_init__(self) -> None:
        _at_least(self, 1, "ingest_batch")

    @property
    def snapshot_path(self) -> str:
        """snapshot_dir, or its default under ingest_dir."""
        return self.snapshot_dir or str(Path(self.ingest_dir) / "snapshots")


@dataclass(frozen=True)
class LogSettings:
    """[log] Where accepted ratings are made durable: the embedded file log (one process) or a
    NATS JetStream stream that several serving replicas share (docs/scaling.md)."""

    flag_prefix: ClassVar[str] = "log_"

    backend: str = "file"
    """"file": the fsync'd segment files under ingest_dir, for one server process. "jetstream":
    a JetStream stream; a rating is acknowledged once JetStream stored it, and every replica
    applies the stream in order."""
    nats_url: str = "nats://127.0.0.1:4222"
    """The NATS server(s) of the JetStream stream, comma-separated."""
    stream: str = "MOVIEREC_RATINGS"
    """The JetStream stream's name; created (file storage) when missing."""
    replicas: int = 1
    """Copies JetStream keeps of each message (its cluster's size at most); a publish is
    acknowledged once they are stored."""
    read_wait_s: float = 2.0
    """How long a read that asks for at least a log position (min_log_position) waits for
    this replica to apply it before answering UNAVAILABLE."""
    connect_timeout_s: float = 60.0
    """JetStream only: at start, how long NATS is retried (with backoff) before the process
    exits naming the URL; once connected, a lost connection is retried without end."""
    lease_ttl_s: float = 60.0
    """JetStream only: the retrain lease lapses this long after its holder stopped renewing
    it (a replica that died mid-retrain); the holder renews it every third of this."""
    nats_tls_ca_file: str = ""
    """CA (PEM) that NATS's certificate must chain to; set, the connection is TLS only."""
    nats_tls_cert_file: str = ""
    """Client certificate (PEM) for NATS's mutual TLS (verify in its tls block); with
    nats_tls_key_file."""
    nats_tls_key_file: str = ""
    """The client certificate's private key (PEM)."""
    nats_creds_file: str = ""
    """A NATS .creds file (user JWT and nkey seed), for a decentralised-auth server."""
    nats_user: str = ""
    """User name for NATS; its password comes from nats_password_file or the environment
    variable MOVIEREC_NATS_PASSWORD, never from a flag."""
    nats_password_file: str = ""
    """File holding the NATS user's password (surrounding blanks ignored)."""
    nats_token_file: str = ""
    """File holding a NATS token (or the environment variable MOVIEREC_NATS_TOKEN)."""

    def __post_init__(self) -> None:
        _one_of(self, "backend", ("file", "jetstream"))
        _at_least(self, 1, "replicas")
        if self.lease_ttl_s < 3:
            raise ValueError(f"log_lease_ttl_s must be at least 3, not {self.lease_ttl_s}")
        if self.connect_timeout_s < 0:
            raise ValueError(
                f"log_connect_timeout_s must be at least 0, not {self.connect_timeout_s}"
            )
        if self.read_wait_s < 0:
            raise ValueError(f"log_read_wait_s must be at least 0, not {self.read_wait_s}")


@dataclass(frozen=True)
class RetrainSettings:
    """[retrain] When the service retrains by itself."""

    flag_prefix: ClassVar[str] = "retrain_"

    interval_s: float = 3600.0
    """Retrain in the background this often when new ratings came in; 0 turns it off."""
    after_ratings: int = 100_000
    """Retrain once this many ratings came in since the model's data cut; 0 turns it off."""


@dataclass(frozen=True)
class Config:
    """Every setting the server, the trainer and the offline jobs read, by group."""

    server: ServerSettings = field(default_factory=ServerSettings)
    tls: TlsSettings = field(default_factory=TlsSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    telemetry: TelemetrySettings = field(default_factory=TelemetrySettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    data: DataSettings = field(default_factory=DataSettings)
    models: ModelsSettings = field(default_factory=ModelsSettings)
    serving: ServingSettings = field(default_factory=ServingSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    log: LogSettings = field(default_factory=LogSettings)
    tuning: TuningSettings = field(default_factory=TuningSettings)  # what selection reads
    retrain: RetrainSettings = field(default_factory=RetrainSettings)
    spark: SparkSettings = field(default_factory=SparkSettings)  # spark_store's own settings
    mysql: MySqlSettings = field(default_factory=MySqlSettings)  # the adapter's own settings

    def replace(self, **changes: Any) -> Config:
        """A copy with some settings changed, by flat name (tests and benchmarks use this)."""
        by_group: dict[str, dict[str, Any]] = {}
        for flat, value in changes.items():
            setting = SETTINGS.get(flat)
            if setting is None:
                raise ValueError(f"unknown setting {flat!r}{_closest(flat)}")
            by_group.setdefault(setting.group, {})[setting.attr] = value
        return dataclasses.replace(
            self,
            **{g: dataclasses.replace(getattr(self, g), **v) for g, v in by_group.items()},
        )


@dataclass(frozen=True)
class Setting:
    """One field as the outside names it."""

    group: str  # TOML section and Config attribute
    attr: str  # field name inside the group (TOML key)
    flat: str  # flag (--flat-name) and environment (MOVIEREC_FLAT_NAME) name
    kind: Any  # the field's annotation, as text
    doc: str
    default: Any

    @property
    def flag(self) -> str:
        return "--" + self.flat.replace("_", "-")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.flat.upper()


def _settings() -> dict[str, Setting]:
    out: dict[str, Setting] = {}
    for group in fields(Config):
        cls = _group_class(group)
        prefix = getattr(cls, "flag_prefix", "")
        docs = _field_docs(cls)
        for f in fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else {}
            flat = prefix + f.name
            out[flat] = Setting(group.name, f.name, flat, f.type, docs.get(f.name, ""), default)
    return out


def _group_class(group: dataclasses.Field[Any]) -> type[Any]:
    """The settings class of one of Config's groups (its default factory)."""
    factory = group.default_factory
    assert isinstance(factory, type)
    return factory


def _field_docs(cls: type) -> dict[str, str]:
    """The docstring under each field, read from the class's source."""
    body = ast.parse(inspect.getsource(cls)).body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for prev, node in itertools.pairwise(body):
        if (
            isinstance(prev, ast.AnnAssign)
            and isinstance(prev.target, ast.Name)
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
        ):
            docs[prev.target.id] = " ".join(str(node.value.value).split())
    return docs


def _coerce(name: str, raw: Any, kind: Any) -> Any:
    """Turns a TOML, env or flag value into the field's type, naming the setting on failure."""
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
            if isinstance(raw, bool):
                raise ValueError(f"not a whole number: {raw!r}")
            return int(raw)
        if kind in ("float", float):
            if isinstance(raw, bool):
                raise ValueError(f"not a number: {raw!r}")
            return float(raw)
        if str(kind).startswith("Mapping"):
            if isinstance(raw, Mapping):
                return {str(k): str(v) for k, v in raw.items()}
            pairs = [p for p in str(raw).split(",") if p.strip()]
            return dict(_split_pair(p) for p in pairs)
        if isinstance(raw, (dict, list)):
            raise ValueError(f"expected a single value, got {raw!r}")
        return str(raw)
    except ValueError as exc:
        raise ValueError(f"setting {name}: {exc}") from exc


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
    path = args.pop("config", None) or config_file or environ.get(ENV_PREFIX + "CONFIG")
    if path:
        with open(path, "rb") as fh:
            values.update(_from_toml(tomllib.load(fh), path))
    for flat, setting in SETTINGS.items():
        env_value = environ.get(setting.env)
        if env_value is not None:
            values[flat] = _coerce(flat, env_value, setting.kind)
    for flat, raw in args.items():
        if raw is not None:
            values[flat] = _coerce(flat, raw, SETTINGS[flat].kind)
    by_group: dict[str, dict[str, Any]] = {}
    for flat, value in values.items():
        setting = SETTINGS[flat]
        by_group.setdefault(setting.group, {})[setting.attr] = value
    built = {}
    for group in fields(Config):
        built[group.name] = _group_class(group)(**by_group.get(group.name, {}))
    return Config(**built)


def _from_toml(document: Mapping[str, Any], path: str) -> dict[str, Any]:
    """Flat name -> value from a TOML document of sections; unknown sections and keys are
    refused with the closest valid name."""
    sections = {f.name for f in fields(Config)}
    values: dict[str, Any] = {}
    for section, table in document.items():
        if section not in sections or not isinstance(table, Mapping):
            where = _section_of(section)
            close = difflib.get_close_matches(section, sorted(sections), n=1)
            hint = (
                f"; did you mean [{where.group}] {where.attr}?"
                if where
                else (f"; did you mean {close[0]!r}?" if close else "")
            )
            raise ValueError(f"unknown config section {section!r} in {path}{hint}")
        for key, raw in table.items():
            setting = next(
                (s for s in SETTINGS.values() if s.group == section and s.attr == key), None
            )
            if setting is None:
                names = [s.attr for s in SETTINGS.values() if s.group == section]
                close = difflib.get_close_matches(key, names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"unknown config key {key!r} in [{section}] of {path}{hint}")
            values[setting.flat] = _coerce(setting.flat, raw, setting.kind)
    return values


def _section_of(name: str) -> Setting | None:
    """The setting a flat or field name given outside any section means, if any."""
    return SETTINGS.get(name) or next((s for s in SETTINGS.values() if s.attr == name), None)


def parse_flags(argv: Sequence[str]) -> dict[str, Any]:
    """Parses a --flat-name value flag for every setting; unset flags come back as None."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config")
    for flat, setting in SETTINGS.items():
        if str(setting.kind).startswith("Mapping"):
            parser.add_argument(setting.flag, dest=flat, action="append", metavar="KEY=VALUE")
        else:
            parser.add_argument(setting.flag, dest=flat)
    known, unknown = parser.parse_known_args(list(argv))
    if unknown:
        flag = unknown[0].split("=", 1)[0]
        close = difflib.get_close_matches(flag.lstrip("-").replace("-", "_"), list(SETTINGS), n=1)
        hint = f"; did you mean --{close[0].replace('_', '-')}?" if close else ""
        raise ValueError(f"unknown setting {flag}{hint}")
    parsed = vars(known)
    for flat, setting in SETTINGS.items():
        if str(setting.kind).startswith("Mapping") and parsed.get(flat):
            parsed[flat] = ",".join(parsed[flat])
    return parsed


def _closest(name: str) -> str:
    """ "; did you mean 'x'?" for the nearest setting name, or ""."""
    close = difflib.get_close_matches(name, list(SETTINGS), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def describe_fields() -> list[Setting]:
    """Every setting, group by group, for `movierec config` and --help."""
    return list(SETTINGS.values())


SETTINGS = _settings()
