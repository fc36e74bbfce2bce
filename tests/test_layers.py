"""Imports run in one direction: `spark_store` (every Spark concern) never imports the service
package `rec_service`. Read from the source, so no module needs importing."""

from __future__ import annotations

import ast

import pytest

from rec_service.config import PROJECT_ROOT

SPARK_STORE = sorted((PROJECT_ROOT / "spark_store").glob("*.py"))


def imported_modules(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", SPARK_STORE, ids=[p.name for p in SPARK_STORE])
def test_spark_store_never_imports_the_service(path: object) -> None:
    modules = imported_modules(path.read_text())  # type: ignore[attr-defined]
    assert not {m for m in modules if m.split(".")[0] == "rec_service"}


def test_the_check_sees_an_upward_import() -> None:
    assert "rec_service.state" in imported_modules("from rec_service.state import ServiceState")
