"""The Go, Java, Node and Python clients' example programs against a real server on the demo
data: each must give the same answers as the Python stubs for the same users (movie ids in the
same order, predictions to 1e-6), have its streamed ratings acknowledged and reflected in the
next read, and see bad input as INVALID_ARGUMENT in its own language's error type.

The toolchains come from `scripts/clients install`, which scripts/test runs (and which sets
MOVIEREC_REQUIRE_CLIENTS=1, so a missing toolchain fails CI instead of skipping)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator

import grpc
import pytest
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

from rec_service.app.config import PROJECT_ROOT
from rec_service.app.service import Service
from tests.conftest import second_server

CLIENTS = PROJECT_ROOT / "scripts" / "clients"
TOOLCHAIN = {"go": "go", "java": "javac", "node": "node", "python": None}
# Known users, a user the model has never seen (popularity), movies with and without much data.
USERS = ["1", "2", "414", "no-such-user"]
PAIRS = [("1", "1"), ("1", "50"), ("2", "260"), ("414", "1196"), ("no-such-user", "1")]
RATINGS = [("1", 5.0), ("260", 4.5), ("1196", 4.0)]
PAGE_SIZE = 10


@pytest.fixture(scope="module")
def server(
    demo_state: Service, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, pb_grpc.RecommendationServiceStub]]:
    """A server of its own, since the examples stream ratings into it."""
    with (
        second_server(demo_state, tmp_path_factory.mktemp("clients")) as (_, port),
        grpc.insecure_channel(f"127.0.0.1:{port}") as channel,
    ):
        yield port, pb_grpc.RecommendationServiceStub(channel)


def top_n(stub: pb_grpc.RecommendationServiceStub, user: str) -> list[str]:
    response = stub.GetTopN(pb.GetTopNRequest(user_id=user, page_size=PAGE_SIZE))
    return [m.movie_id for m in response.movies]


def run_example(language: str, port: int, rate_user: str, *extra: str) -> dict:
    if (tool := TOOLCHAIN[language]) and shutil.which(tool) is None:
        if os.environ.get("MOVIEREC_REQUIRE_CLIENTS"):
            pytest.fail(f"{tool} is missing; scripts/clients install installs it")
        pytest.skip(f"{tool} is not installed (scripts/clients install)")
    subprocess.run([CLIENTS, "build", language], check=True, capture_output=True, timeout=300)
    args = [
        *("--addr", f"127.0.0.1:{port}", "--users", ",".join(USERS)),
        *("--predict", ",".join(f"{u}:{m}" for u, m in PAIRS)),
        *("--rate-user", rate_user, "--page-size", str(PAGE_SIZE)),
        *("--ratings", ",".join(f"{m}:{r}" for m, r in RATINGS)),
        *extra,
    ]
    done = subprocess.run(
        [CLIENTS, "run", language, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("language", ["python", "go", "java", "node"])
def test_example_matches_the_python_stubs(
    language: str, server: tuple[int, pb_grpc.RecommendationServiceStub]
) -> None:
    port, stub = server
    rate_user = f"{language}-example"
    expected_lists = {user: top_n(stub, user) for user in USERS}
    expected_ratings = [
        stub.PredictRating(pb.PredictRatingRequest(user_id=u, movie_id=m)).rating for u, m in PAIRS
    ]
    assert all(expected_lists.values())

    out = run_example(language, port, rate_user)

    assert out["language"] == language
    assert {t["user_id"]: t["movie_ids"] for t in out["top_n"]} == expected_lists
    got = [(p["user_id"], p["movie_id"]) for p in out["predictions"]]
    assert got == PAIRS
    for prediction, expected in zip(out["predictions"], expected_ratings, strict=True):
        assert prediction["rating"] == pytest.approx(expected, abs=1e-6)

    stream = out["stream"]
    assert stream["user_id"] == rate_user
    assert stream["accepted"] == len(RATINGS)
    assert stream["handled_through"] == len(RATINGS)  # every event of the stream handled
    # The streamed ratings were folded in before they were acknowledged: the example's next read
    # no longer offers the rated movies, and it is the list the Python stub now gets.
    assert stream["top_n_after"] == top_n(stub, rate_user)
    assert not {m for m, _ in RATINGS} & set(stream["top_n_after"])

    assert out["bad_input"]["invalid_argument"] is True
    assert "page_size" in out["bad_input"]["message"]
