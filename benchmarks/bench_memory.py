"""Memory per user: resident bytes of the serving index (each user's list and activity) at 1M
and 10M synthetic users with 50-item lists. Writes benchmarks/results/memory.md and .json.

    .venv/bin/python benchmarks/bench_memory.py [--users 1000000 10000000] [--old-users 1000000]

Each size is built in a child process of its own, so its figure is its own: the growth of the
process's resident set (VmRSS) from just before the first user to just after the last, with
garbage collected. What is built is exactly what the Spark list and activity stores hold in
process: a ListIndex (every user's list) and an ActivityIndex (every user's last activity and
access count), filled through the same `set`/`move_forward` calls the stores make. Lists come
from a pool of 1,000 random 50-movie lists over a 10,000-movie catalogue; the index copies
each into its arrays, so sharing the pool changes no stored byte.

"raw" is the data itself, packed: the user id's bytes, 50 movie indices as int32 and 50 scores
as float32, and two int64 times (the list's and the last activity). The old layout (a dict of
RecList tuples and of per-user activity objects) is measured the same way at `--old-users`,
with movie id strings shared as the recompute path shared them (the Spark bulk path made a
string per movie per user, so it cost more).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import child_result  # noqa: E402

from rec_service.domain.model_types import RecList  # noqa: E402
from rec_service.domain.user_index import ActivityIndex, ListIndex  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
LIST_LENGTH = 50
MOVIES = 10_000
POOL = 1_000


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def pool() -> list[RecList]:
    rng = np.random.default_rng(7)
    names = [str(m) for m in range(MOVIES)]
    lists = []
    for k in range(POOL):
        movies = rng.choice(MOVIES, LIST_LENGTH, replace=False).tolist()
        scores = np.sort(rng.random(LIST_LENGTH))[::-1].tolist()
        lists.append(RecList(tuple(names[m] for m in movies), tuple(scores), k, "v1"))
    return lists


@dataclass(slots=True)
class OldActivity:  # the per-user object the activity store held before the arrays
    last_active_us: int
    access_count: int


def fill_compact(users: int, lists: list[RecList]) -> tuple[ListIndex, ActivityIndex]:
    index, activity = ListIndex(), ActivityIndex()
    for u in range(users):
        user_id = str(u)
        index.set(user_id, lists[u % POOL])
        activity.move_forward(user_id, 1_700_000_000_000_000 + u)
    return index, activity


def fill_old(users: int, lists: list[RecList]) -> tuple[dict, dict]:
    index: dict[str, RecList] = {}
    activity: dict[str, OldActivity] = {}
    for u in range(users):
        user_id, rec = str(u), lists[u % POOL]
        # A list of its own per user, as each recompute made one: fresh tuples and floats.
        index[user_id] = RecList(
            tuple(rec.movie_ids), tuple(s + 0.0 * u for s in rec.scores), u, rec.model_version
        )
        activity[user_id] = OldActivity(1_700_000_000_000_000 + u, 0)
    return index, activity


def child(users: int, layout: str) -> None:
    lists = pool()
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    held = fill_compact(users, lists) if layout == "compact" else fill_old(users, lists)
    seconds = time.perf_counter() - started
    gc.collect()
    grown = rss_bytes() - before
    id_bytes = sum(len(str(u)) for u in range(users))
    raw = id_bytes + users * (LIST_LENGTH * (4 + 4) + 2 * 8)
    assert len(held[0]) == users
    print(
        json.dumps(
            {
                "layout": layout,
                "users": users,
                "resident_bytes": grown,
                "bytes_per_user": grown / users,
                "raw_bytes_per_user": raw / users,
                "ratio_to_raw": grown / raw,
                "fill_seconds": seconds,
            }
        )
    )


def measure(users: int, layout: str) -> dict:
    row = child_result(__file__, "--child", layout, str(users))
    print(
        f"{layout:>7} {users:>11,} users: {row['bytes_per_user']:.0f} B/user "
        f"({row['ratio_to_raw']:.2f}x raw {row['raw_bytes_per_user']:.0f} B), "
        f"filled in {row['fill_seconds']:.0f} s",
        flush=True,
    )
    return row


def report(rows: list[dict]) -> str:
    lines = [
        "# Memory per user: the serving index at 1M and 10M users",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; command: "
        "`.venv/bin/python benchmarks/bench_memory.py`",
        f"- lists of {LIST_LENGTH} movies over a {MOVIES:,}-movie catalogue; each size in a "
        "fresh process; resident = growth of VmRSS while the index was filled",
        "- raw = user id bytes + 50 x (int32 movie + float32 score) + two int64 times",
        "- compact = today's ListIndex + ActivityIndex (rec_service/domain/user_index.py); "
        "old = the dict of RecList tuples and per-user activity objects they replaced",
        "",
        "| layout | users | resident MB | bytes per user | raw bytes per user | x raw | fill s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['layout']} | {r['users']:,} | {r['resident_bytes'] / 2**20:,.0f} | "
            f"{r['bytes_per_user']:.0f} | {r['raw_bytes_per_user']:.0f} | "
            f"{r['ratio_to_raw']:.2f} | {r['fill_seconds']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--old-users", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--child", nargs=2, metavar=("LAYOUT", "USERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(int(args.child[1]), args.child[0])
        return
    rows = [measure(n, "old") for n in args.old_users]
    rows += [measure(n, "compact") for n in args.users]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "memory.json").write_text(json.dumps(rows, indent=2) + "\n")
    (RESULTS / "memory.md").write_text(report(rows))
    print(f"wrote {RESULTS / 'memory.md'}")


if __name__ == "__main__":
    main()
