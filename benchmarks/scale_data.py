"""Synthetic rating sets shaped like MovieLens 25M, at any size, in the MovieLens "latest"
layout (ratings.csv, movies.csv), so `movierec serve --data-dir` reads them like the demo data.

    .venv/bin/python benchmarks/scale_data.py 25000000 build/scale-data/25m [--seed 7]

The shape follows MovieLens 25M: about 155 ratings per user (at least 20 each, a heavy tail of
users who rate thousands), one movie per 420 ratings, and movie popularity falling as a power
law. Unlike benchmarks/training.py's data (which only times training), which movies a user
rates and how they rate them follow a low-rank taste as well as popularity, so tuning has
something to find: a user picks movies with probability proportional to
popularity x exp(taste . movie), and rates them by a global mean, a movie and a user bias, the
same taste term and noise, on MovieLens's half-star scale. A seed fixes the whole set.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

RATINGS_PER_USER = 155
RATINGS_PER_MOVIE = 420
MIN_PER_USER = 20
TASTE_RANK = 16
USERS_PER_CHUNK = 1000
GENRES = ("Action", "Comedy", "Drama", "Romance", "Thriller", "Sci-Fi", "Horror", "Animation")


def user_counts(rng: np.random.Generator, ratings: int, users: int, movies: int) -> np.ndarray:
    """Ratings per user: MIN_PER_USER each, the rest spread by heavy-tailed (Pareto) weights,
    capped at half the catalogue; sums to `ratings` exactly."""
    cap = max(MIN_PER_USER, movies // 2)
    weights = rng.pareto(2.0, users) + 0.05
    counts = MIN_PER_USER + rng.multinomial(ratings - MIN_PER_USER * users, weights / weights.sum())
    counts = np.minimum(counts, cap)
    short = ratings - int(counts.sum())
    while short > 0:  # what the cap cut goes to users with room left, one each
        room = np.flatnonzero(counts < cap)
        take = room[: min(short, room.size)]
        counts[take] += 1
        short -= take.size
    return counts


def generate(ratings: int, out: Path, seed: int) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    users = max(MIN_PER_USER, round(ratings / RATINGS_PER_USER))
    movies = max(2 * MIN_PER_USER, round(ratings / RATINGS_PER_MOVIE))
    counts = user_counts(rng, ratings, users, movies)
    # Movie popularity: a power law over a shuffled order, so ids say nothing of popularity.
    log_pop = -1.1 * np.log1p(rng.permutation(movies)).astype(np.float32)
    taste_users = rng.normal(0, 1 / np.sqrt(TASTE_RANK), (users, TASTE_RANK)).astype(np.float32)
    taste_movies = rng.normal(0, 1, (movies, TASTE_RANK)).astype(np.float32)
    movie_bias = rng.normal(0, 0.45, movies).astype(np.float32)
    user_bias = rng.normal(0, 0.4, users).astype(np.float32)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "movies.csv", "w") as f:
        f.write("movieId,title,genres\n")
        for m in range(movies):
            genre = GENRES[m % len(GENRES)]
            f.write(f"{m + 1},Synthetic movie {m + 1} ({1950 + m % 70}),{genre}\n")
    with open(out / "ratings.csv", "w") as f:
        f.write("userId,movieId,rating,timestamp\n")
        for start in range(0, users, USERS_PER_CHUNK):
            stop = min(users, start + USERS_PER_CHUNK)
            affinity = taste_users[start:stop] @ taste_movies.T
            # Sampling without replacement in proportion to exp(key): the Gumbel top-k trick.
            keys = log_pop + 1.5 * affinity + rng.gumbel(size=affinity.shape).astype(np.float32)
            rows = []
            for i, u in enumerate(range(start, stop)):
                n = int(counts[u])
                picked = np.argpartition(-keys[i], n - 1)[:n]
                score = (
                    3.0 + movie_bias[picked] + user_bias[u] + 0.6 * affinity[i, picked]
                    + rng.normal(0, 0.8, n)
                )  # fmt: skip
                stars = np.clip(np.round(score * 2) / 2, 0.5, 5.0)
                when = 1_200_000_000 + np.sort(rng.integers(0, 400_000_000, n))
                rows.append(np.column_stack((np.full(n, u + 1), picked + 1, stars * 10, when)))
            block = np.concatenate(rows).astype(np.int64)
            # Ratings as tenths, written with integer formatting (fast), then the decimal point.
            f.writelines(f"{a},{b},{c // 10}.{c % 10},{d}\n" for a, b, c, d in block.tolist())
    return {"ratings": int(counts.sum()), "users": users, "movies": movies}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("ratings", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    shape = generate(args.ratings, args.out, args.seed)
    print(f"{shape} in {time.perf_counter() - started:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
