// Calls a movierec server the way a backend service would: top-N lists and rating predictions
// for some users, a few ratings streamed for one user (then that user's list again, which no
// longer holds the rated movies), and one bad request, which the server refuses with
// INVALID_ARGUMENT. Prints what it got as one JSON object, so the answers can be compared with
// the other languages' clients.
//
//   node example.js --addr 127.0.0.1:50051 --users 1,2 --predict 1:1,2:50 --rate-user node-demo
import { parseArgs } from "node:util";
import { Code, ConnectError, createMovierecClient } from "./src/index.js";

const { values: opts } = parseArgs({
  options: {
    addr: { type: "string", default: "127.0.0.1:50051" },
    users: { type: "string", default: "1,2,3" },
    predict: { type: "string", default: "1:1,1:50" },
    "rate-user": { type: "string", default: "node-example" },
    ratings: { type: "string", default: "1:5,260:4.5,1196:4" },
    "page-size": { type: "string", default: "10" },
  },
});
const pageSize = Number(opts["page-size"]);
const client = createMovierecClient({ address: opts.addr });

async function movieIds(userId) {
  const response = await client.recommendations.getTopN({ userId, pageSize });
  return response.movies.map((movie) => movie.movieId);
}

// One rating per message; each acknowledgement means the rating is on the server's disk and in
// the user's model. The request stream is an async generator that waits for the previous ack.
async function streamRatings(userId, ratings) {
  const result = { user_id: userId };
  let acked = () => {};
  async function* requests() {
    for (const item of ratings.split(",")) {
      const [movieId, rating] = item.split(":");
      const ack = new Promise((resolve) => (acked = resolve));
      yield { events: [{ userId, movieId, rating: Number(rating) }] };
      await ack;
    }
  }
  for await (const ack of client.recommendations.streamRatings(requests(), { timeoutMs: 0 })) {
    result.handled_through = Number(ack.handledThrough);
    result.accepted = Number(ack.acceptedCount);
    acked();
  }
  return result;
}

const out = { language: "node", top_n: [], predictions: [] };
for (const userId of opts.users.split(",")) {
  out.top_n.push({ user_id: userId, movie_ids: await movieIds(userId) });
}
for (const pair of opts.predict.split(",")) {
  const [userId, movieId] = pair.split(":");
  const { rating } = await client.recommendations.predictRating({ userId, movieId });
  out.predictions.push({ user_id: userId, movie_id: movieId, rating });
}
out.stream = await streamRatings(opts["rate-user"], opts.ratings);
out.stream.top_n_after = await movieIds(opts["rate-user"]);

// A negative page size is a caller's bug: the server refuses it rather than guess.
try {
  await client.recommendations.getTopN({ userId: "1", pageSize: -1 });
  out.bad_input = { invalid_argument: false, code: "OK" };
} catch (err) {
  const error = ConnectError.from(err);
  out.bad_input = {
    invalid_argument: error.code === Code.InvalidArgument,
    code: Code[error.code],
    message: error.rawMessage,
  };
}
console.log(JSON.stringify(out, null, 2));
