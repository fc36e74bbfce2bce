"""The `movierec` command line without a server: help for every command, unknown commands
named with the closest one, and admin answers printed as tables or JSON with integer counts."""

from __future__ import annotations

import json

import pytest
from google.protobuf import struct_pb2
from movierec.v1 import admin_pb2 as apb

from rec_service.edge.cli import COMMANDS, main
from rec_service.edge.cli_output import as_plain, key_value_table, key_values, list_values, table


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_its_own_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main([command, "--help"])
    except SystemExit as done:  # argparse's own --help
        code = int(done.code or 0)
    assert code == 0
    out = capsys.readouterr().out
    assert f"usage: movierec {command}" in out or command == "config"


def test_an_unknown_command_is_named_with_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tpo", "1"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'tpo'" in err and "did you mean 'top'" in err


def test_admin_answers_print_counts_as_integers() -> None:
    info = apb.GetModelInfoResponse(
        model_version="v7", user_count=610, rating_count=100836, fit_seconds=12.5,
        params={"ranking.rank": "64"},
    )  # fmt: skip
    plain = as_plain(info)
    assert plain["user_count"] == 610 and isinstance(plain["rating_count"], int)
    assert json.loads(json.dumps(plain))["rating_count"] == 100836
    text = key_value_table(key_values(plain))
    lines = {line.split()[0]: line.split()[1] for line in text.splitlines()}
    assert lines["user_count"] == "610" and lines["params.ranking.rank"] == "64"
    assert "610.0" not in text


def test_sql_rows_print_whole_numbers_as_integers() -> None:
    row = struct_pb2.ListValue()
    row.extend(["414", 2698.0, 3.5, None])
    values = list_values(row)
    assert values == ["414", 2698, 3.5, None] and isinstance(values[1], int)
    assert table(["user_id", "n", "mean", "x"], [values]).splitlines() == [
        "| user_id | n    | mean | x    |",
        "|---------|------|------|------|",
        "| 414     | 2698 | 3.5  | NULL |",
    ]


def test_table_cells_never_drive_the_terminal() -> None:
    shown = table(["title"], [["Red\x1b[31m\x07 [bold]Film[/]"]])
    assert "\x1b" not in shown and "\x07" not in shown
    assert "Red\\x1b[31m\\x07 [bold]Film[/]" in shown  # escaped, and no markup applied
