"""Config loading: defaults < TOML < MOVIEREC_* env < flags, with typed values and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rec_service.app import config
from rec_service.app.config import PROJECT_ROOT
from rec_service.app.retrain import model_settings
from rec_service.domain.model_types import ModelSettings


def test_defaults_without_sources() -> None:
    cfg = config.load([], environ={})
    assert (
        cfg.server.port == 50051
        and cfg.spark.master == "local[2]"
        and cfg.models.als_implicit_prefs is True
    )


def test_precedence_toml_env_flags(tmp_path: Path) -> None:
    toml = tmp_path / "movierec.toml"
    toml.write_text(
        '[server]\nport = 1111\n[models]\nals_rank = 7\n[spark]\nmaster = "spark://a:7077"\n'
        '[spark.conf]\n"spark.executor.memory" = "8g"\n'
    )
    env = {
        "MOVIEREC_CONFIG": str(toml),
        "MOVIEREC_PORT": "2222",
        "MOVIEREC_ALS_IMPLICIT_PREFS": "no",
    }
    cfg = config.load(["--port", "3333"], environ=env)
    assert cfg.server.port == 3333  # flag beats env beats file
    assert cfg.models.als_rank == 7 and cfg.spark.master == "spark://a:7077"
    assert cfg.models.als_implicit_prefs is False
    assert cfg.spark.conf == {"spark.executor.memory": "8g"}


def test_spark_conf_flags() -> None:
    cfg = config.load(["--spark-conf", "a.b=1", "--spark-conf", "c=d"], environ={})
    assert cfg.spark.conf == {"a.b": "1", "c": "d"}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MOVIEREC_PORT": "eighty"}, "port"),
        ({"MOVIEREC_ALS_IMPLICIT_PREFS": "maybe"}, "als_implicit_prefs"),
        ({"MOVIEREC_DATA_FORMAT": "10m"}, "data_format"),
        ({"MOVIEREC_LIST_LENGTH": "0"}, "list_length"),
    ],
)
def test_bad_values_name_the_field(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config.load([], environ=environ)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[server]\nprot = 1\n", "unknown config key 'prot' in \\[server\\].*did you mean 'port'"),
        ("[sever]\nport = 1\n", "unknown config section 'sever'.*did you mean 'server'"),
        ("port = 1\n", "unknown config section 'port'.*did you mean \\[server\\] port"),
        ("[tls]\ntls_cert_file = 'a'\n", "did you mean 'cert_file'"),
        ("[server]\nport = true\n", "port: not a whole number"),
        ("[server]\nport = 70000\n", "port must be 0-65535"),
    ],
)
def test_bad_toml_is_refused_with_the_setting_named(
    tmp_path: Path, text: str, message: str
) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text(text)
    with pytest.raises(ValueError, match=message):
        config.load([], environ={}, config_file=str(toml))


def test_every_setting_is_documented_and_reachable_by_each_source() -> None:
    settings = config.describe_fields()
    assert len({s.flat for s in settings}) == len(settings)  # flat names are unique
    for s in settings:
        assert s.doc, s.flat
        assert s.flag == "--" + s.flat.replace("_", "-") and s.env == "MOVIEREC_" + s.flat.upper()
        assert getattr(getattr(config.Config(), s.group), s.attr) == s.default or s.flat in (
            "spark_conf",
        )


def test_groups_are_frozen() -> None:
    cfg = config.Config()
    with pytest.raises(AttributeError):
        cfg.server.port = 1  # type: ignore[misc]


def test_a_prefixed_group_takes_flat_flags_and_env() -> None:
    cfg = config.load(
        ["--tls-cert-file", "c.pem", "--tls-key-file", "k.pem"],
        environ={"MOVIEREC_MYSQL_PORT": "3307", "MOVIEREC_RETRAIN_INTERVAL_S": "0"},
    )
    assert (cfg.tls.cert_file, cfg.tls.key_file, cfg.tls.enabled) == ("c.pem", "k.pem", True)
    assert cfg.mysql.port == 3307 and cfg.retrain.interval_s == 0


def test_the_shipped_defaults_are_the_tuned_settings() -> None:
    """`movierec tune`'s committed choice and the defaults a server trains with agree."""
    tuned = json.loads((PROJECT_ROOT / "benchmarks/results/tuning.json").read_text())
    assert model_settings(config.Config()) == ModelSettings.from_dict(tuned["settings"])


def test_unknown_settings_are_named_with_the_closest(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="did you mean --als-rank"):
        config.load(["--als-rnak", "8"], environ={})
    toml = tmp_path / "c.toml"
    toml.write_text("[models]\nals_rnak = 8\n")
    with pytest.raises(ValueError, match="did you mean 'als_rank'"):
        config.load([], environ={}, config_file=str(toml))


def test_relative_state_paths_and_a_required_data_dir() -> None:
    loaded = config.load([], environ={})
    assert loaded.models.model_dir == "var/model" and loaded.ingest.ingest_dir == "var/ingest"
    with pytest.raises(ValueError, match="data_dir is not set"):
        config.load(["--data-dir", ""], environ={})
