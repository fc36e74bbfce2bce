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
# Every module of every package below rec_service's top packages (edge/dashboard/ too).
SERVICE = sorted((PROJECT_ROOT / "rec_service").glob("*/**/*.py"))
# Which of rec_service's packages each one may import (besides itself), spark_store included.
MAY_IMPORT = {
    "core": {"spark_store"},  # its Spark-free modules only: SPARK_FREE below
    "jobs": {"spark_store"},
    "app": {"core", "jobs", "spark_store"},
    "edge": {"core", "app", "jobs"},  # Spark's errors and values reach it through app
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


def package_of(path: Path) -> str:
    """The rec_service package a module belongs to: edge for edge/dashboard/web.py."""
    return path.relative_to(PROJECT_ROOT / "rec_service").parts[0]


def layers_used_at_runtime(source: str) -> set[str]:
    return layers_used(source, runtime_imports(source))


def layers_used(source: str, modules: set[str] | None = None) -> set[str]:
    """The rec_service packages and spark_store a module's source imports."""
    used = set()
    for module in imported_modules(source) if modules is None else modules:
        parts = module.split(".")
        if parts[0] == "rec_service" and len(parts) > 1:
            used.add(parts[1])
        elif parts[0] == "spark_store":
            used.add("spark_store")
    return used


SERVICE_IDS = [str(p.relative_to(PROJECT_ROOT / "rec_service")) for p in SERVICE]


@pytest.mark.parametrize("path", SERVICE, ids=SERVICE_IDS)
def test_service_packages_import_downwards_only(path: Path) -> None:
    """What a module imports when it runs (an annotation may name a type of a lower layer)."""
    package = package_of(path)
    used = layers_used_at_runtime(path.read_text())
    assert used <= MAY_IMPORT[package] | {package}, f"{package} imports {used}"


def test_the_layer_check_covers_sub_packages_and_sees_edge_reaching_spark_store() -> None:
    assert "edge/dashboard/web.py" in SERVICE_IDS
    planted = "from spark_store.sql_guard import UnsafeQuery\n"
    assert "spark_store" in layers_used(planted)
    assert "spark_store" not in MAY_IMPORT[package_of(PROJECT_ROOT / "rec_service/edge/x.py")]


@pytest.mark.parametrize(
    "path",
    [p for p in SERVICE if package_of(p) == "core"],
    ids=[p.name for p in SERVICE if package_of(p) == "core"],
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


@pytest.mark.parametrize("path", SERVICE, ids=SERVICE_IDS)
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
