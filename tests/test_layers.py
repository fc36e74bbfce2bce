"""Imports run in one direction: edge -> app -> (core, jobs) -> spark_store. The serving core is
Spark-free: it imports with pyspark made unimportable. Module imports are read from the source,
so no module needs importing for the direction checks."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from rec_service.app.config import PROJECT_ROOT

SPARK_STORE = sorted((PROJECT_ROOT / "spark_store").glob("*.py"))
SERVICE = sorted((PROJECT_ROOT / "rec_service").glob("*/*.py"))
# Which of rec_service's sub-packages each one may import (besides itself).
MAY_IMPORT = {
    "core": set(),
    "jobs": set(),
    "app": {"core", "jobs"},
    "edge": {"core", "app", "jobs"},
}
# The spark_store modules the core may use: the model's values and the NumPy ranking.
SPARK_FREE = {"spark_store", "spark_store.model_types", "spark_store.ranking"}


def imported_modules(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            # "from spark_store import model_types" names a module too
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


@pytest.mark.parametrize("path", SPARK_STORE, ids=[p.name for p in SPARK_STORE])
def test_spark_store_never_imports_the_service(path: Path) -> None:
    modules = imported_modules(path.read_text())
    assert not {m for m in modules if m.split(".")[0] == "rec_service"}


@pytest.mark.parametrize("path", SERVICE, ids=[f"{p.parent.name}/{p.name}" for p in SERVICE])
def test_service_packages_import_downwards_only(path: Path) -> None:
    package = path.parent.name
    used = {
        m.split(".")[1]
        for m in imported_modules(path.read_text())
        if m.startswith("rec_service.") and m.count(".") >= 1
    }
    assert used <= MAY_IMPORT[package] | {package}, f"{package} imports {used}"


@pytest.mark.parametrize(
    "path",
    [p for p in SERVICE if p.parent.name == "core"],
    ids=[p.name for p in SERVICE if p.parent.name == "core"],
)
def test_the_core_uses_only_spark_free_parts_of_spark_store(path: Path) -> None:
    modules = imported_modules(path.read_text())
    spark = {m for m in modules if m.split(".")[0] in ("spark_store", "pyspark", "py4j")}
    outside = {
        m
        for m in spark
        if not any(m == ok or m.startswith(f"{ok}.") for ok in SPARK_FREE - {"spark_store"})
    } - {"spark_store"}
    assert not outside, outside


def runtime_imports(source: str) -> set[str]:
    """The modules a source imports when it runs: imports under `if TYPE_CHECKING:` (for
    annotations only) are left out."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            node.body = [ast.Pass()]
    return imported_modules(ast.unparse(tree))


@pytest.mark.parametrize("path", SERVICE, ids=[f"{p.parent.name}/{p.name}" for p in SERVICE])
def test_no_service_module_touches_spark_itself(path: Path) -> None:
    """Spark is spark_store's alone: rec_service reaches it only through spark_store's
    plain-value functions (the engine, the holdouts), never a session or a DataFrame."""
    spark = {m for m in runtime_imports(path.read_text()) if m.split(".")[0] in ("pyspark", "py4j")}
    assert not spark, spark


def test_the_spark_check_sees_a_runtime_import_but_not_an_annotation_one() -> None:
    annotations = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pyspark\n"
    assert "pyspark" not in runtime_imports(annotations)
    assert "pyspark.sql" in runtime_imports("x = 1\nfrom pyspark.sql import DataFrame\n")


BLOCK_PYSPARK = """
import importlib, pkgutil, sys

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pyspark", "py4j"):
            raise ImportError(f"{name} is unimportable in this test")
        return None

sys.meta_path.insert(0, Refuse())
import rec_service.core
for info in pkgutil.iter_modules(rec_service.core.__path__, "rec_service.core."):
    importlib.import_module(info.name)
assert not any(m.split(".")[0] in ("pyspark", "py4j") for m in sys.modules)
print("imported", len([m for m in sys.modules if m.startswith("rec_service.core.")]))
"""


def test_the_core_imports_without_pyspark() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_PYSPARK],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) >= 8


def test_the_blocker_blocks() -> None:
    probe = BLOCK_PYSPARK.replace("import rec_service.core\n", "import pyspark\n", 1)
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0 and "unimportable" in done.stderr


def test_the_direction_check_sees_an_upward_import() -> None:
    source = "from rec_service.app.service import Service"
    assert "rec_service.app.service" in imported_modules(source)
