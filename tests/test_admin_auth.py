"""The admin token's sources and checks, without a server: the check every admin call passes."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from rec_service.app.config import load
from rec_service.edge.admin_auth import check_token, load_admin_token


def test_the_token_comes_from_a_file_or_the_environment(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("  from-a-file\n")
    assert load_admin_token("", str(secret)) == "from-a-file"
    config = load([], environ={"MOVIEREC_ADMIN_TOKEN": "from-env"})
    assert load_admin_token(config.admin.admin_token, config.admin.admin_token_file) == "from-env"
    assert load_admin_token("", "") == ""  # admin off


@pytest.mark.parametrize(
    ("token", "token_file", "why"),
    [
        ("a", "x", "not both"),
        ("", "/no/such/file", "cannot be read"),
        ("", "EMPTY", "is empty"),
    ],
)
def test_bad_token_settings_are_refused(
    tmp_path: Path, token: str, token_file: str, why: str
) -> None:
    if token_file == "EMPTY":
        token_file = str(tmp_path / "empty")
        Path(token_file).write_text(" \n")
    with pytest.raises(ValueError, match=why):
        load_admin_token(token, token_file)


@pytest.mark.parametrize(
    ("metadata", "token", "code"),
    [
        ((("authorization", "Bearer right"),), "right", None),
        ((("authorization", "bearer right"),), "right", None),
        ((), "right", grpc.StatusCode.UNAUTHENTICATED),
        ((("x-other", "Bearer right"),), "right", grpc.StatusCode.UNAUTHENTICATED),
        ((("authorization", "Bearer wrong"),), "right", grpc.StatusCode.PERMISSION_DENIED),
        ((("authorization", "right"),), "right", grpc.StatusCode.PERMISSION_DENIED),
        ((("authorization", "Basic right"),), "right", grpc.StatusCode.PERMISSION_DENIED),
        ((("authorization", "Bearer right"),), "", grpc.StatusCode.PERMISSION_DENIED),
        # Two credentials: neither is taken, whichever order and whatever the second says.
        (
            (("authorization", "Bearer right"), ("authorization", "Bearer wrong")),
            "right",
            grpc.StatusCode.UNAUTHENTICATED,
        ),
        (
            (("authorization", "Bearer right"), ("authorization", "Bearer right")),
            "right",
            grpc.StatusCode.UNAUTHENTICATED,
        ),
    ],
)
def test_token_checks(
    metadata: tuple[tuple[str, str], ...], token: str, code: grpc.StatusCode | None
) -> None:
    refusal = check_token(metadata, token)
    assert (refusal[0] if refusal else None) == code
