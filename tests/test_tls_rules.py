"""Which listen settings may start without TLS: the rule alone, without a server."""

from __future__ import annotations

import pytest

from rec_service.edge.tls import is_loopback, plaintext_admin_problem


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True),
        ("localhost", True), ("0.0.0.0", False), ("::", False), ("10.0.0.5", False),
        ("movierec.internal", False),
    ],
)  # fmt: skip
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_admin_in_clear_is_allowed_only_on_loopback_tls_or_by_the_named_setting() -> None:
    assert plaintext_admin_problem("127.0.0.1", tls=False, admin_on=True, allow=False) is None
    assert plaintext_admin_problem("0.0.0.0", tls=True, admin_on=True, allow=False) is None
    assert plaintext_admin_problem("0.0.0.0", tls=False, admin_on=False, allow=False) is None
    assert plaintext_admin_problem("0.0.0.0", tls=False, admin_on=True, allow=True) is None
    problem = plaintext_admin_problem("0.0.0.0", tls=False, admin_on=True, allow=False)
    assert problem is not None and "admin_allow_plaintext" in problem
