"""The shipped Grafana dashboard is valid JSON whose every query names metrics the service
exports (a renamed metric would leave a panel silently empty)."""

from __future__ import annotations

import json
import re

from rec_service.app.config import PROJECT_ROOT
from rec_service.app.telemetry import Telemetry

DASHBOARD = PROJECT_ROOT / "deploy" / "grafana" / "movierec-dashboard.json"
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "gauge": ("",),
    "info": ("_info",),
}


class Running:
    """Every scrape-time value present, as on a loaded server."""

    def scrape_values(self) -> dict[str, float]:
        from rec_service.app.telemetry import GAUGES

        return dict.fromkeys(GAUGES, 1.0)

    def list_freshness(self) -> dict[str, int]:
        return {"fresh": 1, "stale": 1, "missing": 1}

    def model_version(self) -> str:
        return "v1"


def exported_names() -> set[str]:
    telemetry = Telemetry()
    telemetry.watch(Running())
    names = set()
    for family in telemetry.registry.collect():
        names |= {family.name + suffix for suffix in SUFFIXES[family.type]}
    return names


def test_every_panel_queries_exported_metrics() -> None:
    board = json.loads(DASHBOARD.read_text())
    exported = exported_names()
    used = set()
    for panel in board["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used |= set(re.findall(r"movierec_[a-z_]+", target["expr"]))
    assert used, "no metric in the dashboard"
    assert used <= exported, sorted(used - exported)
    # and every metric family shows up somewhere
    families = {n.removesuffix(s) for n in used for s in ("_total", "_bucket", "_sum", "_count")}
    assert {n for n in exported if n.endswith("_total")} - {f + "_total" for f in families} == set()


def test_the_shipped_dashboard_is_what_its_generator_writes() -> None:
    """deploy/grafana/make_dashboard.py is the source: a panel added to the JSON by hand
    would be lost at the next generation."""
    import importlib.util

    path = DASHBOARD.with_name("make_dashboard.py")
    spec = importlib.util.spec_from_file_location("make_dashboard", path)
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert json.loads(DASHBOARD.read_text()) == generator.dashboard()
