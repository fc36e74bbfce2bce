"""Calls a movierec server the way a backend service would: top-N lists and rating predictions for
some users, a few ratings streamed for one user (then that user's list again, which no longer
holds the rated movies), and one bad request, which the server refuses with INVALID_ARGUMENT.
Prints what it got as one JSON object, like the Go, Java and Node examples.

    python clients/python/example.py --addr 127.0.0.1:50051 --users 1,2 --predict 1:1,2:50
"""

from __future__ import annotations

import argparse
import json
import queue
from collections.abc import Iterator

import grpc
from movierec.v1 import movierec_pb2 as pb
from movierec.v1 import movierec_pb2_grpc as pb_grpc

TIMEOUT_S = 5.0


def movie_ids(stub: pb_grpc.RecommendationServiceStub, user: str, page_size: int) -> list[str]:
    request = pb.GetTopNRequest(user_id=user, page_size=page_size)
    return [m.movie_id for m in stub.GetTopN(request, timeout=TIMEOUT_S).movies]


def stream_ratings(stub: pb_grpc.RecommendationServiceStub, user: str, ratings: str) -> dict:
    """One rating per message, each sent after the previous one's acknowledgement: an ack means
    the rating is on the server's disk and in the user's model."""
    acked: queue.Queue[None] = queue.Queue()

    def requests() -> Iterator[pb.StreamRatingsRequest]:
        for item in ratings.split(","):
            movie, value = item.split(":")
            event = pb.RatingEvent(user_id=user, movie_id=movie, rating=float(value))
            yield pb.StreamRatingsRequest(events=[event])
            acked.get(timeout=TIMEOUT_S)

    result: dict = {"user_id": user}
    for ack in stub.StreamRatings(requests()):
        result["handled_through"] = ack.handled_through
        result["accepted"] = ack.accepted_count
        acked.put(None)
    return result


def open_channel(args: argparse.Namespace) -> grpc.Channel:
    """TLS when a CA is given (with a client certificate for mutual TLS), else plaintext."""
    if not args.ca:
        return grpc.insecure_channel(args.addr)

    def read(path: str) -> bytes | None:
        if not path:
            return None
        with open(path, "rb") as fh:
            return fh.read()

    credentials = grpc.ssl_channel_credentials(read(args.ca), read(args.key), read(args.cert))
    return grpc.secure_channel(args.addr, credentials)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default="127.0.0.1:50051")
    parser.add_argument("--users", default="1,2,3")
    parser.add_argument("--predict", default="1:1,1:50")
    parser.add_argument("--rate-user", default="python-example")
    parser.add_argument("--ratings", default="1:5,260:4.5,1196:4")
    parser.add_argument("--page-size", type=int, default=10)
    parser.add_argument("--ca", default="", help="PEM CA to trust: connect with TLS")
    parser.add_argument("--cert", default="", help="PEM client certificate (mutual TLS)")
    parser.add_argument("--key", default="", help="PEM key of --cert")
    args = parser.parse_args()

    with open_channel(args) as channel:
        stub = pb_grpc.RecommendationServiceStub(channel)
        out: dict = {"language": "python"}
        out["top_n"] = [
            {"user_id": u, "movie_ids": movie_ids(stub, u, args.page_size)}
            for u in args.users.split(",")
        ]
        out["predictions"] = []
        for pair in args.predict.split(","):
            user, movie = pair.split(":")
            request = pb.PredictRatingRequest(user_id=user, movie_id=movie)
            rating = stub.PredictRating(request, timeout=TIMEOUT_S).rating
            out["predictions"].append({"user_id": user, "movie_id": movie, "rating": rating})
        out["stream"] = stream_ratings(stub, args.rate_user, args.ratings)
        out["stream"]["top_n_after"] = movie_ids(stub, args.rate_user, args.page_size)

        # A negative page size is a caller's bug: the server refuses it rather than guess.
        try:
            stub.GetTopN(pb.GetTopNRequest(user_id="1", page_size=-1), timeout=TIMEOUT_S)
            out["bad_input"] = {"invalid_argument": False, "code": "OK"}
        except grpc.RpcError as err:
            out["bad_input"] = {
                "invalid_argument": err.code() == grpc.StatusCode.INVALID_ARGUMENT,
                "code": err.code().name,
                "message": err.details(),
            }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
