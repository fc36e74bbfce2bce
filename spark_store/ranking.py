"""NumPy top-N ranking shared by the bulk Spark job and the per-read recompute, so both agree."""

from __future__ import annotations

import numpy as np


def top_n(
    scores: np.ndarray,
    n: int,
    exclude: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the n best items, best first; ties go to the lower index.

    exclude: item indices never returned (what the user rated). allowed: boolean mask of items
    that may be returned (a filter); None allows all.
    """
    work = np.array(scores, dtype=np.float64, copy=True)
    if allowed is not None:
        work[~allowed] = -np.inf
    if exclude is not None and len(exclude):
        work[exclude] = -np.inf
    candidates = int(np.count_nonzero(work > -np.inf))
    k = min(n, candidates)
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    part = np.argpartition(-work, k - 1)[:k] if k < len(work) else np.arange(len(work))
    part = part[work[part] > -np.inf]
    order = np.lexsort((part, -work[part]))[:k]
    best = part[order]
    return best, work[best]
