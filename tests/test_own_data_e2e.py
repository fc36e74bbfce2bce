"""A team's own catalogue end to end, in a server process of its own: a ratings file in a
non-MovieLens layout (`;`, string ids with leading zeros, a continuous -10..+10 scale, text
dates, "seen" rows without a rating) is trained on at first start and served; PredictRating
stays on that scale and a live rating anywhere on it is accepted."""

from __future__ import annotations

import random
from pathlib import Path

import grpc
import pytest
from movierec.v1 import admin_pb2 as apb
from movierec.v1 import admin_pb2_grpc as apb_grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

from .test_crash import AUTH, Server

pytestmark = pytest.mark.spark  # the server process starts a JVM


# Rows of the viewer who interacted with these but rated none ("seen": no rating).
VIEWED = [f"{i:04d}" for i in range(1, 11)]


def write_data(root: Path) -> list[str]:
    """200 users rating 60 of 0001..0120 (two taste groups), scores in -10..+10 with decimals,
    each also having seen 5 other things without rating them; one viewer who rated nothing."""
    rng = random.Random(7)
    items = [f"{i:04d}" for i in range(1, 121)]
    lines = ["member;thing;score;when;note"]
    for u in range(200):
        liked = items[:60] if u % 2 else items[60:]
        rated = rng.sample(liked, 40) + rng.sample(items, 20)
        for item in rated:
            score = round(rng.uniform(-10, 10), 2)
            lines.append(f"m{u:03d};{item};{score};2024-01-{1 + u % 28:02d} 10:00:00;x")
        for item in rng.sample([i for i in items if i not in rated], 5):
            lines.append(f"m{u:03d};{item};seen;2024-01-{1 + u % 28:02d} 11:00:00;x")
    lines += [f"viewer;{item};seen;2024-02-01 10:00:00;x" for item in VIEWED]
    (root / "scores.csv").write_text("\n".join(lines) + "\n")
    (root / "things.csv").write_text(
        "thing;label;kind\n"
        + "".join(f"{i};Thing {i};{'odd' if int(i) % 2 else 'even'}\n" for i in items)
    )
    return items


def test_a_non_movielens_data_set_is_trained_and_served(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    items = write_data(data)
    server = Server(
        tmp_path,
        "--data-dir", str(data), "--data-format", "csv", "--ratings-file", "scores.csv",
        "--separator", ";", "--user-column", "member", "--item-column", "thing",
        "--rating-column", "score", "--timestamp-column", "when",
        "--timestamp-format", "yyyy-MM-dd HH:mm:ss", "--items-file", "things.csv",
        "--title-column", "label", "--genres-column", "kind", "--rating-scale=-10,10,0",
        "--implicit-value", "seen", "--als-rank", "8", "--rating-rank", "8",
    )  # fmt: skip
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = pb_grpc.RecommendationServiceStub(channel)
            info = apb_grpc.AdminServiceStub(channel).GetModelInfo(
                apb.GetModelInfoRequest(), metadata=AUTH
            )
            assert (info.min_rating, info.max_rating, info.rating_step) == (-10, 10, 0)
            assert (info.user_count, info.movie_count) == (201, 120)
            assert info.rating_count == 200 * 65 + len(VIEWED)  # interactions included
            # Who only interacted gets a list from those interactions, without them.
            viewed = stub.GetTopN(pb.GetTopNRequest(user_id="viewer", page_size=10))
            assert len(viewed.movies) == 10
            assert not {m.movie_id for m in viewed.movies} & set(VIEWED)
            # ... and a prediction from the biases alone (they rated nothing), on the scale;
            # a first real rating folds in over the interactions.
            before = stub.PredictRating(pb.PredictRatingRequest(user_id="viewer", movie_id="0050"))
            assert -10 <= before.rating <= 10
            stub.IngestRatings(
                iter([pb.IngestRatingsRequest(
                    events=[pb.RatingEvent(user_id="viewer", movie_id="0011", rating=9.5)]
                )])
            )  # fmt: skip
            after = stub.PredictRating(pb.PredictRatingRequest(user_id="viewer", movie_id="0050"))
            assert -10 <= after.rating <= 10 and after.rating != before.rating
            top = stub.GetTopN(pb.GetTopNRequest(user_id="m001", page_size=5))
            assert len(top.movies) == 5 and all(m.movie_id in items for m in top.movies)
            assert top.movies[0].title.startswith("Thing 0") and top.movies[0].genres[0] in (
                "odd", "even",
            )  # fmt: skip
            predicted = stub.PredictRating(pb.PredictRatingRequest(user_id="m001", movie_id="0007"))
            assert -10 <= predicted.rating <= 10
            assert (predicted.min_rating, predicted.max_rating) == (-10, 10)
            answer = stub.IngestRatings(
                iter([pb.IngestRatingsRequest(events=[
                    pb.RatingEvent(user_id="m001", movie_id="0007", rating=-3.217),
                    pb.RatingEvent(user_id="m001", movie_id="0008", rating=10.5),
                ])])
            )  # fmt: skip
            assert answer.accepted_count == 1
            assert [r.index for r in answer.rejected] == [1]
    finally:
        server.stop()
