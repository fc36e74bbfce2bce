"""Config loading: defaults < TOML < MOVIEREC_* env < flags, with typed values and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rec_service.app import config
from rec_service.app.config import PROJECT_ROOT
from rec_service.app.retrain import model_settings
from spark_store.model_types import ModelSettings


def test_defaults_without_sources() -> None:
    cfg = config.load([], environ={})
    assert cfg.port == 50051 and cfg.spark_master == "local[2]" and cfg.als_implicit_prefs is True


def test_precedence_toml_env_flags(tmp_path: Path) -> None:
    toml = tmp_path / "movierec.toml"
    toml.write_text(
        'port = 1111\nals_rank = 7\nspark_master = "spark://a:7077"\n'
        '[spark_conf]\n"spark.executor.memory" = "8g"\n'
    )
    env = {
        "MOVIEREC_CONFIG": str(toml),
        "MOVIEREC_PORT": "2222",
        "MOVIEREC_ALS_IMPLICIT_PREFS": "no",
    }
    cfg = config.load(["--port", "3333"], environ=env)
    assert cfg.port == 3333  # flag beats env beats file
    assert cfg.als_rank == 7 and cfg.spark_master == "spark://a:7077"
    assert cfg.als_implicit_prefs is False
    assert cfg.spark_conf == {"spark.executor.memory": "8g"}


def test_spark_conf_flags() -> None:
    cfg = config.load(["--spark-conf", "a.b=1", "--spark-conf", "c=d"], environ={})
    assert cfg.spark_conf == {"a.b": "1", "c": "d"}


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


def test_unknown_toml_key(tmp_path: Path) -> None:
    toml = tmp_path / "c.toml"
    toml.write_text("prot = 1\n")
    with pytest.raises(ValueError, match="unknown config key 'prot'"):
        config.load([], environ={}, config_file=str(toml))


def test_every_field_documented() -> None:
    assert all(doc for _, doc, _ in config.describe_fields())


def test_the_shipped_defaults_are_the_tuned_settings() -> None:
    """`movierec tune`'s committed choice and the defaults a server trains with agree."""
    tuned = json.loads((PROJECT_ROOT / "benchmarks/results/tuning.json").read_text())
    assert model_settings(config.Config()) == ModelSettings.from_dict(tuned["settings"])


def test_unknown_settings_are_named_with_the_closest(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="did you mean --als-rank"):
        config.load(["--als-rnak", "8"], environ={})
    toml = tmp_path / "c.toml"
    toml.write_text("als_rnak = 8\n")
    with pytest.raises(ValueError, match="did you mean 'als_rank'"):
        config.load([], environ={}, config_file=str(toml))


def test_relative_state_paths_and_a_required_data_dir() -> None:
    loaded = config.load([], environ={})
    assert loaded.model_dir == "var/model" and loaded.ingest_dir == "var/ingest"
    with pytest.raises(ValueError, match="data_dir is not set"):
        config.load(["--data-dir", ""], environ={})
