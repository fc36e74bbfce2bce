"""Probes for ranking and rating mechanisms the service does not serve, measured before building
any of them in: does a mechanism, with its setting chosen on validation, beat EASE^R (ranking)
or the bias-aware ALS (rating) on the test side of the evaluation protocol?

    .venv/bin/python benchmarks/quality_probes.py              # every set at hand, ~10 min
    .venv/bin/python benchmarks/quality_probes.py --sets ml-100k

Dense NumPy on the whole catalogue, so only for the small sets (up to ~20k users x 10k items).
The protocol follows `movierec evaluate`: ranking on a per-user 75/25 split (seed 42), top 10
with training movies excluded, relevant = held-out movies; rating on a random 80/20 split. The
split is drawn here, not by Spark, so the EASE^R figures differ from the service's report by the
split alone. Every setting (EASE^R's lambda, each blend weight) is chosen on a validation split
carved from the training side (80/20, seed 7) by mean NDCG@10 or RMSE, then scored on the test
side: a mechanism earns its place only if that test figure is above the baseline beyond noise.
Writes benchmarks/results/quality-probes.{json,md}; a set run again replaces its earlier rows.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import time
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
K = 10


def _read_movielens(path: Path) -> list[tuple[str, str, float, float]]:
    with open(path, newline="") as fh:
        rows = csv.reader(fh)
        next(rows)
        return [(u, i, float(r), float(t)) for u, i, r, t in rows]


def _read_movietweetings(path: Path) -> list[tuple[str, str, float, float]]:
    with open(path) as fh:
        return [
            (u, i, float(r), float(t))
            for u, i, r, t in (line.rstrip("\n").split("::") for line in fh)
        ]


def _read_xwines(path: Path) -> list[tuple[str, str, float, float]]:
    with open(path, newline="") as fh:
        rows = csv.DictReader(fh)
        return [
            (
                row["UserID"],
                row["WineID"],
                float(row["Rating"]),
                datetime.fromisoformat(row["Date"]).timestamp(),
            )
            for row in rows
        ]


SETS = {
    "demo": lambda: _read_movielens(SHARED / "ml-latest-small" / "ratings.csv"),
    "ml-100k": lambda: _read_movielens(ROOT / "var" / "data" / "ml-100k" / "ratings.csv"),
    "movietweetings-100k": lambda: _read_movietweetings(
        SHARED / "movietweetings-100k" / "ratings.dat"
    ),
    "x-wines-slim": lambda: _read_xwines(SHARED / "x-wines-slim" / "XWines_Slim_150K_ratings.csv"),
}


class Ratings:
    """One data set as dense-index arrays: user, item, rating, timestamp."""

    def __init__(self, rows: list[tuple[str, str, float, float]]):
        self.user = np.unique([r[0] for r in rows], return_inverse=True)[1]
        self.item = np.unique([r[1] for r in rows], return_inverse=True)[1]
        self.rating = np.array([r[2] for r in rows])
        self.time = np.array([r[3] for r in rows])
        self.users = int(self.user.max()) + 1
        self.items = int(self.item.max()) + 1

    def per_user_split(self, rows: np.ndarray, share: float, seed: int):
        """Each user's rows shuffled, the first `share` of them (rounded) held out."""
        rows = rows[np.random.default_rng(seed).permutation(len(rows))]
        rows = rows[np.argsort(self.user[rows], kind="stable")]
        held = np.zeros(len(rows), bool)
        bounds = np.r_[0, np.flatnonzero(np.diff(self.user[rows])) + 1, len(rows)]
        for start, end in itertools.pairwise(bounds):
            held[start : start + round((end - start) * share)] = True
        return rows[~held], rows[held]

    def matrix(self, rows: np.ndarray) -> np.ndarray:
        x = np.zeros((self.users, self.items), np.float32)
        x[self.user[rows], self.item[rows]] = 1.0
        return x


# ---- ranking -------------------------------------------------------------------------------


def ndcg_per_user(scores: np.ndarray, seen: np.ndarray, held: np.ndarray) -> np.ndarray:
    scores = np.where(seen > 0, -np.inf, scores)
    top = np.argpartition(-scores, K, axis=1)[:, :K]
    top = np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, 1), 1), 1)
    hits = np.take_along_axis(held, top, 1)
    discount = 1 / np.log2(np.arange(2, K + 2))
    wanted = np.minimum(held.sum(1), K).astype(int)
    scored = wanted > 0
    ideal = np.cumsum(discount)[np.maximum(wanted - 1, 0)]
    return (hits @ discount)[scored] / ideal[scored]


def scaled(scores: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Each user's unseen scores divided by their maximum, as the service's blend does."""
    top = np.where(seen > 0, -np.inf, scores).max(1, keepdims=True)
    return np.where(seen > 0, 0, scores) / np.where(top > 0, top, 1)


def ease(x: np.ndarray, lam: float) -> np.ndarray:
    gram = (x.T @ x).astype(np.float64)
    gram[np.diag_indices_from(gram)] += lam
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)
    np.fill_diagonal(weights, 0)
    return weights.astype(np.float32)


def dropout_ease(x: np.ndarray, dropout: float, lam: float) -> np.ndarray:
    """EDLAE (Steck 2020): EASE^R's zero diagonal with dropout's per-item penalty
    dropout/(1-dropout) x the item's count added to lambda."""
    gram = (x.T @ x).astype(np.float64)
    gram[np.diag_indices_from(gram)] += dropout / (1 - dropout) * np.diag(gram) + lam
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)
    np.fill_diagonal(weights, 0)
    return weights.astype(np.float32)


def rp3beta(x: np.ndarray, beta: float, keep: int = 100) -> np.ndarray:
    user_step = x / np.maximum(x.sum(1, keepdims=True), 1)
    item_step = x.T / np.maximum(x.sum(0)[:, None], 1)
    weights = (item_step @ user_step) / np.maximum(x.sum(0), 1)[None, :] ** beta
    np.fill_diagonal(weights, 0)
    return _keep_top(weights, keep)


def cosine(x: np.ndarray, keep: int = 50) -> np.ndarray:
    norms = np.sqrt(x.sum(0))
    weights = (x.T @ x) / np.maximum(np.outer(norms, norms), 1e-9)
    np.fill_diagonal(weights, 0)
    return _keep_top(weights, keep)


def _keep_top(weights: np.ndarray, keep: int) -> np.ndarray:
    if keep < weights.shape[1]:
        dropped = np.argpartition(-weights, keep, axis=1)[:, keep:]
        np.put_along_axis(weights, dropped, 0, 1)
    return weights


def implicit_als(x: np.ndarray, reg: float, factors: int = 64, alpha: float = 2.0, sweeps: int = 8):
    """Hu-Koren-Volinsky implicit ALS, confidence 1 + alpha x rated, plain L2 penalty `reg`."""
    rng = np.random.default_rng(0)
    sides = [rng.normal(0, 0.1 / np.sqrt(factors), (n, factors)) for n in x.shape]
    for _ in range(sweeps):
        for solve, fixed, rated in ((0, 1, x), (1, 0, x.T)):
            other = sides[fixed]
            base = other.T @ other + reg * np.eye(factors)
            for row in range(rated.shape[0]):
                picked = other[rated[row] > 0]
                system = base + alpha * picked.T @ picked
                sides[solve][row] = np.linalg.solve(system, (1 + alpha) * picked.sum(0))
    return sides[0] @ sides[1].T


def time_local_popularity(data: Ratings, rows: np.ndarray, width_days: float) -> np.ndarray:
    """Each movie's ratings weighted by how close in time they are to the user's own ratings."""
    day = ((data.time[rows] - data.time[rows].min()) // 86400).astype(int)
    days = day.max() + 1
    by_item = np.zeros((data.items, days))
    np.add.at(by_item, (data.item[rows], day), 1)
    by_user = np.zeros((data.users, days))
    np.add.at(by_user, (data.user[rows], day), 1)
    by_user /= np.maximum(by_user.sum(1, keepdims=True), 1)
    span = np.arange(days)
    kernel = np.exp(-np.abs(span[:, None] - span[None, :]) / width_days)
    return (by_user @ kernel @ by_item.T).astype(np.float32)


def ranking_probes(data: Ratings) -> list[dict]:
    """Each mechanism's validation-chosen setting, scored on test against EASE^R's."""
    train, test = data.per_user_split(np.arange(len(data.user)), 0.25, 42)
    fit, valid = data.per_user_split(train, 0.2, 7)
    sides = {
        "validation": (fit, data.matrix(fit), data.matrix(valid)),
        "test": (train, data.matrix(train), data.matrix(test)),
    }
    # name -> setting -> (how to score, given the side's training rows, matrix and EASE^R scores)
    lambdas = (3, 10, 25)  # x the mean movie's rating count, as the service's grid
    # name -> setting -> how to score, given the side's training rows, matrix and EASE^R scores
    candidates: dict[str, dict[str, object]] = {
        f"EASE^R lambda {m}x": {"": (lambda rows, x, e, m=m: ease_scores[m])} for m in lambdas
    }
    candidates["EDLAE (dropout EASE^R)"] = {
        f"dropout {p}, lambda {m}x": (
            lambda rows, x, e, p=p, m=m: x @ dropout_ease(x, p, m * len(rows) / data.items)
        )
        for p in (0.25, 0.5, 0.67)
        for m in (1, 3)
    }
    blended = {
        "+ RP3beta 0.5": lambda rows, x: x @ rp3beta(x, 0.5),
        "+ item-KNN cosine 50": lambda rows, x: x @ cosine(x),
        "+ implicit ALS reg 5": lambda rows, x: implicit_als(x, 5.0),
        "+ implicit ALS reg 50": lambda rows, x: implicit_als(x, 50.0),
        "+ time-local popularity 10 d": lambda rows, x: time_local_popularity(data, rows, 10),
    }
    parts: dict[str, np.ndarray] = {}  # each blended model's scaled scores, once per side
    for name in blended:
        candidates[f"EASE^R {name}"] = {
            f"weight {w}": (
                lambda rows, x, e, name=name, w=w: (1 - w) * scaled(e, x) + w * parts[name]
            )
            for w in (0.1, 0.2, 0.35)
        }
    scores: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    chosen_lambda = 0
    for side, (rows, x, held) in sides.items():
        ease_scores = {m: x @ ease(x, m * len(rows) / data.items) for m in lambdas}
        if side == "validation":
            # EASE^R's lambda chosen on validation is the baseline every blend starts from
            chosen_lambda = max(
                lambdas, key=lambda m: ndcg_per_user(ease_scores[m], x, held).mean()
            )
        base = ease_scores[chosen_lambda]
        for name, part in blended.items():
            parts[name] = scaled(part(rows, x), x)
        for name, settings in candidates.items():
            for setting, score in settings.items():
                started = time.perf_counter()
                result = ndcg_per_user(score(rows, x, base), x, held)
                scores.setdefault(name, {}).setdefault(setting, {})[side] = result
                print(
                    f"  {side:10s} {name} {setting}: {result.mean():.4f}"
                    f" ({time.perf_counter() - started:.1f} s)",
                    flush=True,
                )
    baseline = scores[f"EASE^R lambda {chosen_lambda}x"][""]
    rows_out = []
    for name, settings in scores.items():
        chosen = max(settings, key=lambda s: settings[s]["validation"].mean())
        rows_out.append(_paired_row(name, chosen, settings[chosen], baseline))
    return rows_out


def _paired_row(name: str, setting: str, result: dict, baseline: dict) -> dict:
    row = {"mechanism": name, "setting": setting}
    for side in ("validation", "test"):
        gain = result[side] - baseline[side]
        row[side] = float(result[side].mean())
        row[f"{side}_gain"] = float(gain.mean())
        row[f"{side}_gain_se"] = (
            float(gain.std(ddof=1) / np.sqrt(len(gain))) if len(gain) > 1 else 0.0
        )
    row["test_ratio"] = row["test"] / baseline["test"].mean()
    return row


# ---- rating --------------------------------------------------------------------------------


def biases(data: Ratings, rows: np.ndarray, user_shrink: float = 10, item_shrink: float = 5):
    mean = data.rating[rows].mean()
    item = np.bincount(data.item[rows], data.rating[rows] - mean, data.items)
    item /= np.bincount(data.item[rows], None, data.items) + item_shrink
    user = np.bincount(
        data.user[rows], data.rating[rows] - mean - item[data.item[rows]], data.users
    )
    user /= np.bincount(data.user[rows], None, data.users) + user_shrink
    return mean + user[data.user] + item[data.item]


def explicit_als(data: Ratings, rows: np.ndarray, target: np.ndarray, factors: int, reg: float):
    """Spark's explicit ALS in NumPy: the penalty scaled by each row's rating count (ALS-WR)."""
    rng = np.random.default_rng(0)
    sides = [rng.normal(0, 0.1, (data.users, factors)), rng.normal(0, 0.1, (data.items, factors))]
    keys = (data.user[rows], data.item[rows])
    groups = [
        [np.flatnonzero(k == n) for n in range(size)]
        for k, size in zip(keys, (data.users, data.items), strict=True)
    ]
    for _ in range(15):
        for solve in (0, 1):
            other, across = sides[1 - solve], keys[1 - solve]
            for n, members in enumerate(groups[solve]):
                if len(members) == 0:
                    sides[solve][n] = 0
                    continue
                picked = other[across[members]]
                system = picked.T @ picked + reg * len(members) * np.eye(factors)
                sides[solve][n] = np.linalg.solve(system, picked.T @ target[members])
    return lambda who: (sides[0][data.user[who]] * sides[1][data.item[who]]).sum(1)


def neighbourhood(
    data: Ratings, rows: np.ndarray, residual: np.ndarray, asked: np.ndarray, keep=40, shrink=100
):
    """Item-item KNN on residuals (Koren's KNN-baseline): the asked movie's most similar movies
    the user rated, their residuals averaged by shrunk Pearson-like similarity."""
    values = np.zeros((data.users, data.items), np.float32)
    rated = np.zeros((data.users, data.items), np.float32)
    values[data.user[rows], data.item[rows]] = residual
    rated[data.user[rows], data.item[rows]] = 1
    together = rated.T @ rated
    squares = (values * values).T @ rated
    similar = (values.T @ values) / np.sqrt(np.maximum(squares * squares.T, 1e-9))
    similar *= together / (together + shrink)
    np.fill_diagonal(similar, 0)
    out = np.zeros(len(asked))
    for n, (user, item) in enumerate(zip(data.user[asked], data.item[asked], strict=True)):
        theirs = np.flatnonzero(rated[user])
        weights = similar[item, theirs]
        top = np.argsort(-weights)[:keep]
        weights = np.maximum(weights[top], 0)
        if weights.sum() > 0:
            out[n] = weights @ values[user, theirs[top]] / weights.sum()
    return out


def rating_probes(data: Ratings) -> list[dict]:
    order = np.random.default_rng(42).permutation(len(data.user))
    train, test = order[: int(0.8 * len(order))], order[int(0.8 * len(order)) :]
    inner = train[np.random.default_rng(7).permutation(len(train))]
    fit, valid = inner[: int(0.8 * len(inner))], inner[int(0.8 * len(inner)) :]
    low, high = data.rating.min(), data.rating.max()
    errors: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    for side, (rows, asked) in {"validation": (fit, valid), "test": (train, test)}.items():
        baseline = biases(data, rows)
        for reg in (0.05, 0.1, 0.2):
            plain = explicit_als(data, rows, data.rating[rows], 40, reg)
            errors.setdefault("plain ALS rank 40", {}).setdefault(f"regParam {reg}", {})[side] = (
                np.clip(plain(asked), low, high) - data.rating[asked]
            )
        residual = data.rating - baseline
        factor = explicit_als(data, rows, residual[rows], 40, 0.15)
        extend = baseline[asked] + factor(asked)
        errors.setdefault("bias-aware ALS (served)", {}).setdefault("", {})[side] = (
            np.clip(extend, low, high) - data.rating[asked]
        )
        left = data.rating[rows] - baseline[rows] - factor(rows)
        knn = neighbourhood(data, rows, left, asked)
        for w in (0.3, 0.5, 0.8):
            errors.setdefault("bias-aware ALS + KNN on its residuals", {}).setdefault(
                f"weight {w}", {}
            )[side] = np.clip(extend + w * knn, low, high) - data.rating[asked]
        print(f"  {side}: rating probes done", flush=True)
    rows_out = []
    plain_settings = errors["plain ALS rank 40"]
    best_plain = min(plain_settings, key=lambda s: np.mean(plain_settings[s]["validation"] ** 2))
    reference = plain_settings[best_plain]
    for name, settings in errors.items():
        chosen = min(settings, key=lambda s: np.mean(settings[s]["validation"] ** 2))
        row = {"mechanism": name, "setting": chosen}
        for side in ("validation", "test"):
            row[side] = float(np.sqrt(np.mean(settings[chosen][side] ** 2)))
            row[f"{side}_ratio"] = row[side] / float(np.sqrt(np.mean(reference[side] ** 2)))
        rows_out.append(row)
    return rows_out


# ---- report --------------------------------------------------------------------------------


def markdown(results: dict) -> str:
    lines = [
        "# Quality probes: mechanisms measured before they are built in",
        "",
        "Run on this 2-core machine, each set by its own command (below); seconds beside other"
        " work.",
        "",
        "Each setting chosen on validation (carved from the training side), then scored on test."
        " Gains are paired per user against EASE^R with its validation-chosen lambda;"
        " ± is one standard error of the paired gain.",
        "",
    ]
    for name, found in results["sets"].items():
        lines += [
            f"## {name} ({found['users']} users, {found['items']} items,"
            f" {found['ratings']} ratings)",
            "",
        ]
        lines += [
            "| ranking mechanism | chosen on validation | validation NDCG@10 | gain"
            " | test NDCG@10 | gain | x EASE^R |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for row in found["ranking"]:
            lines.append(
                f"| {row['mechanism']} | {row['setting'] or '-'} | {row['validation']:.4f} |"
                f" {row['validation_gain']:+.4f} ± {row['validation_gain_se']:.4f} |"
                f" {row['test']:.4f} |"
                f" {row['test_gain']:+.4f} ± {row['test_gain_se']:.4f} | {row['test_ratio']:.3f} |"
            )
        lines += [
            "",
            "| rating mechanism | chosen on validation | validation RMSE | x best plain"
            " | test RMSE | x best plain |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for row in found["rating"]:
            lines.append(
                f"| {row['mechanism']} | {row['setting'] or '-'} | {row['validation']:.4f} |"
                f" {row['validation_ratio']:.3f} | {row['test']:.4f} | {row['test_ratio']:.3f} |"
            )
        lines += ["", f"`{found['command']}`, {found['date']}, {found['seconds']:.0f} s", ""]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(SETS))
    args = parser.parse_args()
    path = RESULTS / "quality-probes.json"
    results = json.loads(path.read_text()) if path.exists() else {"sets": {}}
    for name in args.sets.split(","):
        started = time.perf_counter()
        data = Ratings(SETS[name]())
        print(
            f"{name}: {data.users} users, {data.items} items, {len(data.user)} ratings", flush=True
        )
        found = {
            "date": time.strftime("%Y-%m-%d"),
            "command": f"benchmarks/quality_probes.py --sets {name}",
            "users": data.users,
            "items": data.items,
            "ratings": len(data.user),
        }
        found["ranking"] = ranking_probes(data)
        found["rating"] = rating_probes(data)
        found["seconds"] = time.perf_counter() - started
        results["sets"][name] = found  # each set replaces its earlier run; the others stay
        path.write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "quality-probes.md").write_text(markdown(results))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
