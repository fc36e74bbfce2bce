"""Writes `movierec tune`'s result as Markdown (the chosen settings, the best grid points) and
JSON (every grid point)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from rec_service.jobs.tune import Grid, TuneResult

SHOWN = 15  # grid points per table; the JSON has all of them


def write_tuning_report(
    result: TuneResult, grid: Grid, data_dir: str, seed: int, k: int, path: str
) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data_dir = _shown(data_dir)
    payload = {"data_dir": data_dir, "seed": seed, "k": k, "grid": dataclasses.asdict(grid)}
    target.with_suffix(".json").write_text(json.dumps({**payload, **result.as_dict()}, indent=2))
    target.write_text(_markdown(result, grid, data_dir, seed, k))


def _markdown(result: TuneResult, grid: Grid, data_dir: str, seed: int, k: int) -> str:
    s = result.settings
    ndcg = f"ndcg@{k}"
    ranking = sorted(result.ranking_rows, key=lambda r: -r[ndcg])[:SHOWN]
    rating = sorted(result.rating_rows, key=lambda r: r["rmse"])[:SHOWN]
    lines = [
        "# Tuning (`movierec tune`)",
        "",
        f"Data: `{data_dir}`, seed {seed}, {result.seconds:.0f} s. The evaluation's test side "
        "(per-user 25% for ranking, random 20% for rating) is split off first and never read; "
        "every figure here is on a validation split carved from the rest (per-user 25% of it "
        "for ranking, random 20% for rating).",
        "",
        "## Chosen (the shipped defaults in `rec_service/app/config.py`)",
        "",
        f"- ranking ALS: rank {s.ranking.rank}, regParam {s.ranking.reg_param:g}, "
        f"alpha {s.ranking.alpha:g}, {s.ranking.max_iter} iterations, implicit",
        f"- Item-CF: {s.cf_neighbours} neighbours per movie; blend weight on ALS "
        f"{s.blend_als_weight:g} (the rest on Item-CF)",
        f"- rating ALS: rank {s.rating.rank}, regParam {s.rating.reg_param:g}, "
        f"{s.rating.max_iter} iterations; bias pseudo-counts movie {s.bias.reg_item:g}, "
        f"user {s.bias.reg_user:g}",
        "",
        f"Grid: {_grid_line(grid)}.",
        "",
        f"## Ranking: best {len(ranking)} of {len(result.ranking_rows)} (validation {ndcg})",
        "",
        "| rank | regParam | alpha | iters | CF neighbours | ALS weight | P@k | R@k | NDCG@k | "
        "MAP@k | coverage |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in ranking:
        lines.append(
            f"| {r['rank']} | {r['reg_param']:g} | {r['alpha']:g} | {r['max_iter']} | "
            f"{r['cf_neighbours']} | {r['blend_als_weight']:g} | {r[f'precision@{k}']:.4f} | "
            f"{r[f'recall@{k}']:.4f} | {r[ndcg]:.4f} | {r[f'map@{k}']:.4f} | "
            f"{r['coverage']:.4f} |"
        )
    lines += [
        "",
        f"## Rating: best {len(rating)} of {len(result.rating_rows)} (validation RMSE)",
        "",
        "| rank | regParam | bias movie | bias user | RMSE |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in rating:
        lines.append(
            f"| {r['rank']} | {r['reg_param']:g} | {r['bias_reg_item']:g} | "
            f"{r['bias_reg_user']:g} | {r['rmse']:.4f} |"
        )
    return "\n".join(lines) + "\n"


def _shown(path: str) -> str:
    """A path under the working directory relative to it, so a committed report names no
    machine."""
    resolved, here = Path(path).resolve(), Path.cwd().resolve()
    return str(resolved.relative_to(here)) if resolved.is_relative_to(here) else path


def _grid_line(grid: Grid) -> str:
    parts: list[str] = []
    for name, value in dataclasses.asdict(grid).items():
        shown: Any = value
        if isinstance(value, (list, tuple)):
            shown = ", ".join(str(v) for v in value)
        parts.append(f"{name} [{shown}]")
    return "; ".join(parts)
