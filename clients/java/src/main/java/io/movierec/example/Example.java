package io.movierec.example;

import com.google.gson.GsonBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.movierec.client.MovierecClient;
import io.movierec.v1.GetTopNRequest;
import io.movierec.v1.PredictRatingRequest;
import io.movierec.v1.RatingEvent;
import io.movierec.v1.RecommendedMovie;
import io.movierec.v1.StreamRatingsRequest;
import io.movierec.v1.StreamRatingsResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Calls a movierec server the way a backend service would: top-N lists and rating predictions
 * for some users, a few ratings streamed for one user (then that user's list again, which no
 * longer holds the rated movies), and one bad request, which the server refuses with
 * INVALID_ARGUMENT. Prints what it got as one JSON object, so the answers can be compared with
 * the other languages' clients.
 *
 * <p>{@code java io.movierec.example.Example --addr 127.0.0.1:50051 --users 1,2 --predict 1:1}
 */
public final class Example {
  private Example() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new HashMap<>();
    opts.put("addr", "127.0.0.1:50051");
    opts.put("users", "1,2,3");
    opts.put("predict", "1:1,1:50");
    opts.put("rate-user", "java-example");
    opts.put("ratings", "1:5,260:4.5,1196:4");
    opts.put("page-size", "10");
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--") || !opts.containsKey(args[i].substring(2))) {
        throw new IllegalArgumentException("unknown option " + args[i]);
      }
      opts.put(args[i].substring(2), args[i + 1]);
    }
    int pageSize = Integer.parseInt(opts.get("page-size"));

    Map<String, Object> out = new LinkedHashMap<>();
    out.put("language", "java");
    try (MovierecClient client = MovierecClient.builder(opts.get("addr")).build()) {
      List<Object> topN = new ArrayList<>();
      for (String user : opts.get("users").split(",")) {
        topN.add(Map.of("user_id", user, "movie_ids", movieIds(client, user, pageSize)));
      }
      out.put("top_n", topN);

      List<Object> predictions = new ArrayList<>();
      for (String pair : opts.get("predict").split(",")) {
        String[] parts = pair.split(":", 2);
        double rating =
            client
                .recommendations()
                .predictRating(
                    PredictRatingRequest.newBuilder()
                        .setUserId(parts[0])
                        .setMovieId(parts[1])
                        .build())
                .getRating();
        predictions.add(Map.of("user_id", parts[0], "movie_id", parts[1], "rating", rating));
      }
      out.put("predictions", predictions);

      Map<String, Object> stream = streamRatings(client, opts.get("rate-user"), opts.get("ratings"));
      stream.put("top_n_after", movieIds(client, opts.get("rate-user"), pageSize));
      out.put("stream", stream);

      // A negative page size is a caller's bug: the server refuses it rather than guess.
      Map<String, Object> bad = new LinkedHashMap<>();
      try {
        client
            .recommendations()
            .getTopN(GetTopNRequest.newBuilder().setUserId("1").setPageSize(-1).build());
        bad.put("invalid_argument", false);
        bad.put("code", "OK");
      } catch (StatusRuntimeException e) {
        bad.put("invalid_argument", e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT);
        bad.put("code", e.getStatus().getCode().name());
        bad.put("message", e.getStatus().getDescription());
      }
      out.put("bad_input", bad);
    }
    System.out.println(new GsonBuilder().setPrettyPrinting().create().toJson(out));
  }

  private static List<String> movieIds(MovierecClient client, String user, int pageSize) {
    List<String> ids = new ArrayList<>();
    for (RecommendedMovie movie :
        client
            .recommendations()
            .getTopN(GetTopNRequest.newBuilder().setUserId(user).setPageSize(pageSize).build())
            .getMoviesList()) {
      ids.add(movie.getMovieId());
    }
    return ids;
  }

  /**
   * Sends one rating per message and waits for the acknowledgement of each: an ack means the
   * rating is on the server's disk and in the user's model.
   */
  private static Map<String, Object> streamRatings(
      MovierecClient client, String user, String ratings) throws Exception {
    BlockingQueue<Object> replies = new LinkedBlockingQueue<>();
    StreamObserver<StreamRatingsRequest> requests =
        client
            .recommendationsAsync()
            .streamRatings(
                new StreamObserver<StreamRatingsResponse>() {
                  @Override
                  public void onNext(StreamRatingsResponse ack) {
                    replies.add(ack);
                  }

                  @Override
                  public void onError(Throwable t) {
                    replies.add(t);
                  }

                  @Override
                  public void onCompleted() {
                    replies.add("completed");
                  }
                });
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("user_id", user);
    for (String item : ratings.split(",")) {
      String[] parts = item.split(":", 2);
      requests.onNext(
          StreamRatingsRequest.newBuilder()
              .addEvents(
                  RatingEvent.newBuilder()
                      .setUserId(user)
                      .setMovieId(parts[0])
                      .setRating(Double.parseDouble(parts[1])))
              .build());
      StreamRatingsResponse ack = (StreamRatingsResponse) expect(replies.poll(10, TimeUnit.SECONDS));
      result.put("handled_through", ack.getHandledThrough());
      result.put("accepted", ack.getAcceptedCount());
    }
    requests.onCompleted();
    if (!"completed".equals(expect(replies.poll(10, TimeUnit.SECONDS)))) {
      throw new IllegalStateException("stream did not end cleanly");
    }
    return result;
  }

  private static Object expect(Object reply) throws Exception {
    if (reply == null) {
      throw new IllegalStateException("no reply from the server within 10 s");
    }
    if (reply instanceof Exception) {
      throw (Exception) reply;
    }
    return reply;
  }
}
