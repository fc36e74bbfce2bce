"""The house's layers, one rule per package. Imports run one way:

    edge -> app -> (core, jobs) -> domain;   jobs, app -> spark_store -> domain

`rec_service.domain` (the service's vocabulary and NumPy model math) is the bottom: it imports
nothing of ours and nothing of Spark. `spark_store` holds Spark and may import `domain` alone
of rec_service. No rec_service module imports pyspark or py4j when it runs, and `domain` and
`core` not even for annotations: both import with pyspark made unimportable. Every module of
every sub-package is read (edge/dashboard/ too), from its source, so nothing is imported to
check the direction."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from rec_service.app.config import PROJECT_ROOT

SPARK_STORE = sorted((PROJECT_ROOT / "spark_store").rglob("*.py"))
SERVICE = sorted((PROJECT_ROOT / "rec_service").glob("*/**/*.py"))
SERVICE_IDS = [str(p.relative_to(PROJECT_ROOT / "rec_service")) for p in SERVICE]
# What each package may import besides itself: rec_service's packages and spark_store.
MAY_IMPORT = {
    "domain": set(),
    "core": {"domain"},
    "jobs": {"domain", "spark_store"},
    "app": {"domain", "core", "jobs", "spark_store"},
    "edge": {"domain", "core", "app", "jobs"},  # Spark's errors and values reach it via app
    "spark_store": {"domain"},
}
# Packages that never name Spark, not even in an annotation.
SPARK_FREE = {"domain", "core"}
SPARK = ("pyspark", "py4j")


def parse(source: str) -> ast.Module:
    """ast.parse, tried again on CPython 3.11's "AST constructor recursion depth mismatch": the
    ast module's depth counter is shared by threads, and 3.11's tracebacks parse source to
    place their carets, so an exception logged in another thread of the suite (a server left
    by an earlier test) can trip a parse here (seen once in CI under heavy load)."""
    for _ in range(4):
        try:
            return ast.parse(source)
        except SystemError as exc:
            if "recursion depth mismatch" not in str(exc):
                raise
    return ast.parse(source)


def imported_modules(source: str | ast.Module) -> set[str]:
    names: set[str] = set()
    tree = parse(source) if isinstance(source, str) else source
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            # "from rec_service.domain import ranking" names a module too
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def runtime_imports(source: str) -> set[str]:
    """The modules a source imports when it runs: imports under `if TYPE_CHECKING:` (for
    annotations only) are left out."""
    tree = parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            node.body = [ast.Pass()]
    return imported_modules(tree)


def package_of(path: Path) -> str:
    """The package a module belongs to: edge for rec_service/edge/dashboard/web.py."""
    if path.is_relative_to(PROJECT_ROOT / "spark_store"):
        return "spark_store"
    return path.relative_to(PROJECT_ROOT / "rec_service").parts[0]


def packages_used(modules: set[str]) -> set[str]:
    used = set()
    for module in modules:
        parts = module.split(".")
        if parts[0] == "rec_service" and len(parts) > 1:
            used.add(parts[1])
        elif parts[0] == "spark_store":
            used.add("spark_store")
    return used


def violations(package: str, source: str) -> set[str]:
    """What a module of `package` imports against the rules: packages above it or beside it
    (annotation-only imports count: they couple the names too), and Spark where it may not."""
    modules = imported_modules(source)
    wrong = packages_used(modules) - MAY_IMPORT[package] - {package}
    spark = {m for m in modules if m.split(".")[0] in SPARK}
    if package in SPARK_FREE:
        wrong |= spark
    elif package != "spark_store":
        wrong |= spark & runtime_imports(source)
    return wrong


@pytest.mark.parametrize(
    "path",
    SERVICE + SPARK_STORE,
    ids=SERVICE_IDS
    + [f"spark_store/{p.relative_to(PROJECT_ROOT / 'spark_store')}" for p in SPARK_STORE],
)
def test_every_module_keeps_its_package_rule(path: Path) -> None:
    package = package_of(path)
    assert package in MAY_IMPORT, f"{package} has no rule: add it to MAY_IMPORT"
    wrong = violations(package, path.read_text())
    assert not wrong, f"{package} may not import {sorted(wrong)}"


def test_every_package_has_a_rule() -> None:
    packages = {p.name for p in (PROJECT_ROOT / "rec_service").iterdir() if p.is_dir()}
    assert packages - {"__pycache__"} == set(MAY_IMPORT) - {"spark_store"}


def test_the_check_sees_sub_packages_and_planted_imports() -> None:
    assert "edge/dashboard/web.py" in SERVICE_IDS
    edge_to_spark_store = "from spark_store.sql_guard import UnsafeQuery\n"
    assert violations("edge", edge_to_spark_store) == {"spark_store"}
    annotation_only = "if TYPE_CHECKING:\n    from spark_store.holdout import RatingSet\n"
    assert violations("edge", annotation_only) == {"spark_store"}
    assert violations("domain", "import pyspark.sql\n") == {"pyspark.sql"}
    assert violations("domain", "from rec_service.core.errors import NotFound\n") == {"core"}
    assert violations("spark_store", "from rec_service.app.config import Config\n") == {"app"}
    assert violations("core", "from spark_store import engine\n") == {"spark_store"}
    assert not violations("spark_store", "from rec_service.domain.ranking import blend\n")


def test_the_spark_check_sees_a_runtime_import_but_not_an_annotation_one() -> None:
    annotations = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pyspark\n"
    assert "pyspark" not in runtime_imports(annotations)
    assert not violations("app", annotations)
    assert violations("core", annotations) == {"pyspark"}
    assert "pyspark.sql" in runtime_imports("x = 1\nfrom pyspark.sql import DataFrame\n")


BLOCK_PYSPARK = """
import importlib, pkgutil, sys

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pyspark", "py4j"):
            raise ImportError(f"{name} is unimportable in this test")
        return None

sys.meta_path.insert(0, Refuse())
import PACKAGE
for info in pkgutil.iter_modules(PACKAGE.__path__, "PACKAGE."):
    importlib.import_module(info.name)
assert not any(m.split(".")[0] in ("pyspark", "py4j") for m in sys.modules)
print("imported", len([m for m in sys.modules if m.startswith("PACKAGE.")]))
"""


@pytest.mark.parametrize("package", sorted(SPARK_FREE))
def test_spark_free_packages_import_without_pyspark(package: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_PYSPARK.replace("PACKAGE", f"rec_service.{package}")],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    modules = len(list((PROJECT_ROOT / "rec_service" / package).glob("[!_]*.py")))
    assert int(done.stdout.split()[-1]) == modules


def test_the_blocker_blocks() -> None:
    probe = BLOCK_PYSPARK.replace("import PACKAGE\n", "import pyspark\n", 1)
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0 and "unimportable" in done.stderr
