"""The `movierec` command: serve, train, and a small client (top, predict, rate, admin...)."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

from rec_service.app import config as config_mod
from rec_service.app.logs import setup_logging
from rec_service.app.rating_logs.jetstream import LogUnreachable
from rec_service.app.retrain import STAGES, build_model, compact, model_settings
from rec_service.app.service import START_STAGES, Service
from rec_service.app.trainer import follow
from rec_service.app.wiring import open_rating_log, start_engine
from rec_service.edge.cli_output import as_plain, key_value_table, key_values, list_values, table
from rec_service.edge.processes import run_processes
from rec_service.edge.progress import StageProgress
from rec_service.edge.server import GrpcServer, check_listen_settings, create_server
from rec_service.edge.tls import client_channel
from rec_service.jobs.evaluate import (
    Evaluation,
    best_plain,
    evaluate_given,
    evaluate_stages,
    served_predictor,
)
from rec_service.jobs.evaluate import evaluate as run_evaluation
from rec_service.jobs.tune import Grid, tune, tune_stages
from rec_service.jobs.tuning_report import write_tuning_report

if TYPE_CHECKING:  # annotations only: the CLI itself does not import pyspark
    from rec_service.domain.model_types import ModelSettings, TuningSettings
    from rec_service.jobs.evaluate import RatingSet

# The first stage of an offline job: the JVM's start and the data set read.
LOAD_DATA = "start Spark and load data"

USAGE = """movierec COMMAND [options]

commands:
  serve     start the gRPC server (trains a model first if model_dir has none)
  train     train the models on the base data plus the rating log and save them to model_dir
            (refused while a server owns the log: use the admin TriggerRetrain call)
  top       client: print a user's top movies from a running server
  predict   client: print a predicted rating from a running server
  health    client: print the server's health status
  rate      client: send one rating (USER MOVIE RATING) and print whether it was accepted
  admin     client: info | retrain | status | sql "SELECT ..." (token: --token or
            MOVIEREC_ADMIN_TOKEN)
  config    print every setting with its default and meaning
  evaluate  on data_dir: P/R/NDCG/MAP@k + coverage of GetTopN's ranker beside popularity,
            plain ALS and Item-CF (per-user 75/25), RMSE/MAE of PredictRating beside plain
            ALS (random 80/20) (--k, --seed, --json FILE)
  tune      grid search of the model settings on validation splits carved from training data
            only; writes a report (--quick, --seed, --k, --report FILE.md, also FILE.json)

serve and train take every setting as --flag (see `movierec config`), as MOVIEREC_* env
variables, or from a TOML file given by --config.
"""


def _setup_logging(cfg: config_mod.Config) -> None:
    setup_logging(cfg.telemetry.log_level, cfg.telemetry.log_format)


SETTINGS_HELP = """
Every setting is a flag (--setting-name VALUE), a MOVIEREC_SETTING_NAME environment variable, or
a key of the TOML file given by --config; `movierec config` lists them with their defaults."""


def _settings_help(command: str, argv: Sequence[str], what: str, own: str = "") -> bool:
    """Prints the command's usage when asked (-h/--help); True if it did."""
    if "-h" not in argv and "--help" not in argv:
        return False
    print(f"usage: movierec {command} {own}[--setting VALUE ...]\n\n{what}\n{SETTINGS_HELP}")
    return True


def stop_on_signals(what: str) -> threading.Event:
    """An event SIGTERM and SIGINT set (logging `what` happens then), for the main loop."""
    stopped = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        logging.info("signal %s: %s", signal.Signals(signum).name, what)
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return stopped


def serve(argv: Sequence[str]) -> int:
    if _settings_help("serve", argv, "Starts the gRPC server (training a model first if none)."):
        return 0
    cfg = config_mod.load(argv)
    _setup_logging(cfg)
    if cfg.server.processes > 1:
        return run_processes(argv, cfg)
    check_listen_settings(cfg)  # before the JVM's seconds of start-up
    stopped = stop_on_signals("shutting down")
    service = Service(cfg)
    # On a terminal the start-up's stages are drawn in place; elsewhere the log has a line each.
    progress = (
        StageProgress(list(START_STAGES), sys.stdout, "start-up") if sys.stdout.isatty() else None
    )
    if progress is not None:
        service.timings.on_stage = progress.stage
    service.start_spark()
    # A process sharing its port (reuse_port: a --processes child, a restarted one) would be
    # handed new connections by the kernel as soon as it binds, and answer them UNAVAILABLE
    # while it loads: it binds only once it serves. Alone on its port, it binds first, so
    # health checks and clients see NOT_SERVING meanwhile rather than a refused connection.
    server = None if cfg.server.reuse_port else listen(cfg, service)
    service.start_loading()
    while not stopped.wait(0.5):
        if progress is not None and service.load_ended:
            progress.finish("failed" if service.load_failed else "serving")
            progress = None
        if service.load_failed:
            logging.error("exiting: start-up failed (the line above says why)")
            if server is not None:
                server.stop(0)
            return 1
        if server is None and service.load_ended:
            server = listen(cfg, service)
        if service.fatal:
            break
    if not shut_down(cfg, service, server):
        # A Spark job that ignored its cancellation: stopping the JVM or finalizing Python
        # under it can crash the process, so it ends here, its log written out.
        logging.shutdown()
        os._exit(1)
    if service.fatal:
        logging.error("exiting: %s", service.fatal)
        return 1
    return 0


def listen(cfg: config_mod.Config, service: Service) -> GrpcServer:
    """The gRPC server (with metrics and the dashboard) bound and started."""
    server, port = create_server(cfg, service)
    server.start()
    logging.info(
        "listening on %s:%d with %s (%s)",
        cfg.server.host,
        port,
        "TLS" if cfg.tls.enabled else "plaintext",
        "SERVING" if service.load_ended else "NOT_SERVING until the model is loaded",
    )
    return server


def shut_down(cfg: config_mod.Config, service: Service, server: GrpcServer | None) -> bool:
    """Health NOT_SERVING first (load balancers stop sending) and a load or retrain in
    progress cancelled, then new calls refused while in-flight ones get the grace period, then
    lists and activity flushed into the Spark SQL tables, the rating log closed and Spark
    stopped. Acknowledged ratings are already on disk (an answer is sent only after fsync), so
    no moment of the signal loses one. Returns False when the cancelled work did not end
    within the grace period (Spark is left running then)."""
    started = time.perf_counter()
    service.begin_shutdown()
    if server is not None:
        time.sleep(cfg.server.shutdown_drain_s)
        server.stop(cfg.server.shutdown_grace_s, service.grace_over).wait()
    logging.info("shutdown: calls drained in %.1f s", time.perf_counter() - started)
    left_s = (
        cfg.server.shutdown_drain_s + cfg.server.shutdown_grace_s - (time.perf_counter() - started)
    )
    if not service.close(wait_s=max(left_s, 1.0)):
        logging.warning(
            "shutdown: the cancelled load or retrain did not end within the grace period "
            "(shutdown_grace_s = %g); exiting without stopping Spark",
            cfg.server.shutdown_grace_s,
        )
        return False
    if service.engine is not None and not service.fatal:
        service.engine.stop()
    logging.info("shutdown: done in %.1f s", time.perf_counter() - started)
    return True


def train(argv: Sequence[str]) -> int:
    own = argparse.ArgumentParser(prog="movierec train", add_help=False)
    own.add_argument("--follow", action="store_true")
    what = (
        "Trains the models on the base data plus the rating log and saves them to model_dir.\n"
        "--follow (log_backend = jetstream): stays, retraining by retrain_after_ratings and\n"
        "retrain_interval_s under the replicas' retrain lease and announcing each model, which\n"
        "every serving replica then loads."
    )
    if _settings_help("train", argv, what, "[--follow] "):
        return 0
    args, rest = own.parse_known_args(list(argv))
    cfg = config_mod.load(rest)
    _setup_logging(cfg)
    if args.follow:
        return train_following(cfg)
    started = time.perf_counter()
    rating_log = open_rating_log(cfg)  # refuses while a server owns the log
    progress = StageProgress(["start Spark", *STAGES[:4], "compact log"], sys.stdout, "train")
    try:
        progress.stage("start Spark")
        engine = start_engine(cfg)
        built = build_model(engine, cfg, rating_log, progress.stage)
        progress.stage("compact log")
        compact(engine, cfg, rating_log, built.data)
        progress.finish()
    except BaseException:
        progress.finish("failed")
        raise
    finally:
        rating_log.close()
    print(
        f"model {built.version} saved to {cfg.models.model_dir} ({built.rating_count} ratings from "
        f"{built.data.path}) in {time.perf_counter() - started:.1f} s"
    )
    return 0


def train_following(cfg: config_mod.Config) -> int:
    """`train --follow`: the replicas' trainer, until SIGTERM or SIGINT."""
    follow(cfg, stop_on_signals("the trainer stops"))
    return 0


def evaluate(argv: Sequence[str]) -> int:
    own = argparse.ArgumentParser(prog="movierec evaluate", add_help=False)
    own.add_argument("--k", type=int, default=10)
    own.add_argument("--seed", type=int, default=42)
    own.add_argument("--json", help="also write every figure to this JSON file")
    own.add_argument(
        "--test",
        help="a given test file, read like ratings_file (which is then the training side) "
        "instead of splitting data_dir",
    )
    what = (
        "Quality of GetTopN and PredictRating beside the baselines, on data_dir split here, "
        "or on ratings_file as training side and --test FILE as test side."
    )
    usage = "[--k K] [--seed S] [--json FILE] [--test FILE] "
    if _settings_help("evaluate", argv, what, usage):
        return 0
    args, rest = own.parse_known_args(list(argv))
    cfg = config_mod.load(rest)
    settings, tuning = model_settings(cfg), cfg.tuning
    # Progress on stderr: stdout is the report.
    progress = StageProgress([LOAD_DATA, *evaluate_stages(tuning)], sys.stderr, "evaluate")
    progress.stage(LOAD_DATA)
    try:
        result, protocol = _evaluation(cfg, args, settings, tuning, progress.stage)
    except BaseException:
        progress.finish("failed")
        raise
    progress.finish()
    print(f"data: {cfg.data.data_dir}   seed {args.seed}   {protocol}\nsettings: {settings}")
    print("rating accuracy (predictions clipped to the scale, warm pairs):")
    name_width = max(len(name) for name in result.accuracy)
    for name, acc in result.accuracy.items():
        print(
            f"  {name:{name_width}} RMSE {acc['rmse']:.4f}  MAE {acc['mae']:.4f}  "
            f"({int(acc['test_ratings'])} test ratings, "
            f"{int(acc['cold_start_dropped'])} cold-start pairs left out)"
        )
    plain_name, plain = best_plain(result.accuracy)
    _, served = served_predictor(result.accuracy)
    print(f"  PredictRating / best plain ({plain_name}): {served['rmse'] / plain['rmse']:.3f}")
    print(f"top-{args.k} (training movies excluded):")
    width = max(len(name) for name in result.ranking)
    for name, row in result.ranking.items():
        print(
            f"  {name:{width}} P@{args.k} {row[f'precision@{args.k}']:.4f}  "
            f"R@{args.k} {row[f'recall@{args.k}']:.4f}  NDCG@{args.k} {row[f'ndcg@{args.k}']:.4f}  "
            f"MAP@{args.k} {row[f'map@{args.k}']:.4f}  coverage {row['coverage']:.4f}"
        )
    print(f"({result.seconds:.1f} s)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(dataclasses.asdict(result), fh, indent=2)
    return 0


def _evaluation(
    cfg: config_mod.Config,
    args: argparse.Namespace,
    settings: ModelSettings,
    tuning: TuningSettings,
    on_stage: Callable[[str], None],
) -> tuple[Evaluation, str]:
    """The evaluation `movierec evaluate` asked for, and a line saying its protocol."""
    ratings = _offline_ratings(cfg)
    if not args.test:
        result = run_evaluation(
            ratings, settings, tuning, seed=args.seed, k=args.k, on_stage=on_stage
        )
        return result, "random 80/20 for accuracy, per-user 75/25 for ranking"
    layout = cfg.data.layout()
    if layout is None:
        raise SystemExit("evaluate --test needs a csv or parquet layout with ratings_file")
    test = start_engine(cfg).load_ratings(
        cfg.data.data_dir,
        cfg.data.data_format,
        dataclasses.replace(layout, ratings_file=args.test),
    )
    result = evaluate_given(ratings, test, settings, tuning, k=args.k, on_stage=on_stage)
    return result, f"given split: {layout.ratings_file} / {args.test}"


def _offline_ratings(cfg: config_mod.Config) -> RatingSet:
    """An offline job's logging and the data set's ratings (Spark started)."""
    _setup_logging(cfg)
    data = cfg.data
    return start_engine(cfg).load_ratings(data.data_dir, data.data_format, data.layout())


def tune_command(argv: Sequence[str]) -> int:
    own = argparse.ArgumentParser(prog="movierec tune", add_help=False)
    own.add_argument("--k", type=int, default=10)
    own.add_argument("--seed", type=int, default=42)
    own.add_argument("--quick", action="store_true", help="a small grid, for a first look")
    own.add_argument("--report", default="benchmarks/results/tuning.md")
    what = "Grid search of the model settings on validation splits of the training data."
    if _settings_help("tune", argv, what, "[--quick] [--k K] [--seed S] [--report FILE.md] "):
        return 0
    args, rest = own.parse_known_args(list(argv))
    cfg = config_mod.load(rest)
    grid = Grid.quick() if args.quick else Grid()
    progress = StageProgress([LOAD_DATA, *tune_stages(grid)], sys.stderr, "tune")
    progress.stage(LOAD_DATA)
    try:
        ratings = _offline_ratings(cfg)
        result = tune(
            ratings, model_settings(cfg), grid, seed=args.seed, k=args.k, on_stage=progress.stage
        )
    except BaseException:
        progress.finish("failed")
        raise
    progress.finish()
    write_tuning_report(result, grid, cfg.data.data_dir, args.seed, args.k, args.report)
    print(f"chosen: {result.settings}\nreport: {args.report} ({result.seconds:.0f} s)")
    return 0


def _client_args(
    argv: Sequence[str], extra: list[tuple[str, dict[str, object]]], command: str
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"movierec {command}")
    parser.add_argument("--target", default="127.0.0.1:50051", help="server host:port")
    parser.add_argument("--timeout", type=float, default=5.0, help="deadline in seconds")
    env = os.environ.get
    parser.add_argument(
        "--tls-ca", default=env("MOVIEREC_TLS_CA", ""), help="CA to trust: connect with TLS"
    )
    parser.add_argument(
        "--tls-cert", default=env("MOVIEREC_TLS_CERT", ""), help="client certificate (mTLS)"
    )
    parser.add_argument("--tls-key", default=env("MOVIEREC_TLS_KEY", ""), help="its key")
    parser.add_argument(
        "--tls-server-name",
        default=env("MOVIEREC_TLS_SERVER_NAME", ""),
        help="name to check the server's certificate against",
    )
    for name, kwargs in extra:
        parser.add_argument(name, **kwargs)  # type: ignore[arg-type]
    return parser.parse_args(list(argv))


def _channel(args: argparse.Namespace) -> grpc.Channel:
    return client_channel(
        args.target, args.tls_ca, args.tls_cert, args.tls_key, args.tls_server_name
    )


def top(argv: Sequence[str]) -> int:
    args = _client_args(
        argv,
        [
            ("user_id", {}),
            ("--n", {"type": int, "default": 10}),
            ("--genre", {"action": "append", "default": []}),
            ("--min-ratings", {"type": int, "default": 0}),
        ],
        "top",
    )
    with _channel(args) as channel:
        stub = pb_grpc.RecommendationServiceStub(channel)
        flt = pb.TopNFilter(include_genres=args.genre, min_rating_count=args.min_ratings)
        resp = stub.GetTopN(
            pb.GetTopNRequest(user_id=args.user_id, page_size=args.n, filter=flt),
            timeout=args.timeout,
        )
    print(
        f"source={pb.RecommendationSource.Name(resp.source)} model={resp.model_version} "
        f"computed_at={resp.computed_at.ToJsonString()}"
    )
    for rank, movie in enumerate(resp.movies, 1):
        print(
            f"{rank:3d}. {movie.score:6.3f}  {movie.movie_id:>7}  {movie.title}  "
            f"[{'|'.join(movie.genres)}]"
        )
    return 0


def predict(argv: Sequence[str]) -> int:
    args = _client_args(argv, [("user_id", {}), ("movie_id", {})], "predict")
    with _channel(args) as channel:
        stub = pb_grpc.RecommendationServiceStub(channel)
        resp = stub.PredictRating(
            pb.PredictRatingRequest(user_id=args.user_id, movie_id=args.movie_id),
            timeout=args.timeout,
        )
    print(
        f"{resp.rating:.3f} ({pb.RecommendationSource.Name(resp.source)}, "
        f"scale {resp.min_rating}-{resp.max_rating}, model {resp.model_version})"
    )
    return 0


def health_check(argv: Sequence[str]) -> int:
    args = _client_args(
        argv, [("--wait", {"type": float, "default": 0.0, "help": "seconds to wait"})], "health"
    )
    deadline = time.monotonic() + args.wait
    with _channel(args) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                status = stub.Check(health_pb2.HealthCheckRequest(), timeout=args.timeout).status
            except grpc.RpcError as err:
                status_name = f"unreachable ({err.code().name})"
            else:
                status_name = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
                if status == health_pb2.HealthCheckResponse.SERVING:
                    print(status_name)
                    return 0
            if time.monotonic() >= deadline:
                print(status_name)
                return 1
            time.sleep(0.5)


def rate(argv: Sequence[str]) -> int:
    args = _client_args(
        argv, [("user_id", {}), ("movie_id", {}), ("rating", {"type": float})], "rate"
    )
    with _channel(args) as channel:
        stub = pb_grpc.RecommendationServiceStub(channel)
        event = pb.RatingEvent(user_id=args.user_id, movie_id=args.movie_id, rating=args.rating)
        resp = stub.IngestRatings(
            iter([pb.IngestRatingsRequest(events=[event])]), timeout=args.timeout
        )
    for rejected in resp.rejected:
        print(f"rejected: {rejected.reason}")
    print(f"accepted {resp.accepted_count} of {resp.received_count}")
    return 0 if resp.accepted_count == resp.received_count else 1


def admin(argv: Sequence[str]) -> int:
    args = _client_args(
        argv,
        [
            ("action", {"choices": ["info", "retrain", "status", "sql"]}),
            ("sql", {"nargs": "?", "default": ""}),
            ("--max-rows", {"type": int, "default": 100}),
            ("--token", {"default": os.environ.get("MOVIEREC_ADMIN_TOKEN", "")}),
            ("--json", {"action": "store_true", "help": "print JSON instead of a table"}),
            ("--follow", {"action": "store_true", "help": "status: show the retrain live"}),
            ("--retune", {"action": "store_true", "help": "retrain: tune the ranker afresh"}),
        ],
        "admin",
    )
    metadata = (("authorization", f"Bearer {args.token}"),) if args.token else ()
    with _channel(args) as channel:
        stub = apb_grpc.AdminServiceStub(channel)
        if args.action == "sql":
            resp = stub.QuerySql(
                apb.QuerySqlRequest(sql=args.sql, max_rows=args.max_rows),
                metadata=metadata,
                timeout=max(args.timeout, 60.0),
            )
            rows = [list_values(r) for r in resp.rows]
            if args.json:
                payload = {"columns": list(resp.columns), "rows": rows, "truncated": resp.truncated}
                print(json.dumps(payload))
            else:
                print(table(list(resp.columns), rows))
                if resp.truncated:
                    print(f"(truncated at {args.max_rows} rows)")
            return 0
        if args.action == "status" and args.follow:
            return follow_retrain(stub, metadata, args.timeout, sys.stdout)
        call, request = {
            "info": (stub.GetModelInfo, apb.GetModelInfoRequest()),
            "retrain": (stub.TriggerRetrain, apb.TriggerRetrainRequest(retune=args.retune)),
            "status": (stub.GetRetrainStatus, apb.GetRetrainStatusRequest()),
        }[args.action]
        plain = as_plain(call(request, metadata=metadata, timeout=args.timeout))
        if args.json:
            print(json.dumps(plain))
            return 0
        # The tuning's candidates, as tables under the model's facts.
        measured = {
            "rankers": (
                plain.pop("candidates", []),
                ["name", "ndcg_at_10", "precision_at_10", "coverage"],
            ),
            "PredictRating settings": (
                plain.pop("predictor_candidates", []),
                ["name", "rmse", "mae"],
            ),
        }
        print(key_value_table(key_values(plain)))
        for what, (candidates, columns) in measured.items():
            if candidates:
                rows = [[c.get(col, 0) for col in columns] for c in candidates]
                print(f"\n{what} measured on validation:\n{table(columns, rows)}")
    return 0


def follow_retrain(
    stub: apb_grpc.AdminServiceStub,
    metadata: Sequence[tuple[str, str]],
    timeout: float,
    out: TextIO,
    poll_s: float = 1.0,
) -> int:
    """`admin status --follow`: the current (or last) retrain's stages as they come, until it
    ends; 0 if it succeeded."""
    job = stub.GetRetrainStatus(
        apb.GetRetrainStatusRequest(), metadata=metadata, timeout=timeout
    ).job
    if not job.job_id:
        out.write("no retrain has run since the server started\n")
        return 1
    progress = StageProgress(list(STAGES), out, job.job_id)
    shown = ""
    while True:
        if job.stage and job.stage != shown:
            progress.stage(job.stage, done=job.progress)
            shown = job.stage
        else:
            progress.done = job.progress
        if job.state != apb.RETRAIN_STATE_RUNNING:
            break
        time.sleep(poll_s)
        job = stub.GetRetrainStatus(
            apb.GetRetrainStatusRequest(), metadata=metadata, timeout=timeout
        ).job
    succeeded = job.state == apb.RETRAIN_STATE_SUCCEEDED
    outcome = "cancelled" if job.state == apb.RETRAIN_STATE_CANCELLED else "failed"
    progress.finish(
        f"succeeded: model {job.model_version}" if succeeded else f"{outcome}: {job.error}"
    )
    return 0 if succeeded else 1


def toml_value(value: object) -> str:
    """A default as it would be written in the TOML file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{}"
    return json.dumps(str(value))


def show_config(_argv: Sequence[str]) -> int:
    group = ""
    for s in config_mod.describe_fields():
        if s.group != group:
            group = s.group
            print(f"\n[{group}]")
        print(f"{s.attr} = {toml_value(s.default)}\n    # {s.flag}, {s.env}: {s.doc}")
    return 0


COMMANDS = {
    "serve": serve,
    "train": train,
    "top": top,
    "predict": predict,
    "health": health_check,
    "rate": rate,
    "admin": admin,
    "config": show_config,
    "evaluate": evaluate,
    "tune": tune_command,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    if not argv or argv[0] not in COMMANDS:
        if argv:
            close = difflib.get_close_matches(argv[0], list(COMMANDS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            print(f"movierec: unknown command {argv[0]!r}{hint}\n", file=sys.stderr)
        print(USAGE, file=sys.stderr)
        return 2
    try:
        return COMMANDS[argv[0]](argv[1:])
    except grpc.RpcError as err:
        print(f"error: {err.code().name}: {err.details()}", file=sys.stderr)
        return 1
    except ValueError as err:  # a setting that cannot work, named in the message
        print(f"error: {err}", file=sys.stderr)
        return 2
    except LogUnreachable as err:  # names the URL and the setting; retried already
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
