package io.movierec.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.movierec.v1.AdminServiceGrpc;
import io.movierec.v1.RecommendationServiceGrpc;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One connection to a movierec server with what callers otherwise write themselves: a default
 * deadline per unary call, retries of read-only calls while the server is UNAVAILABLE (gRPC's own
 * retry policy), TLS, and the admin token. The generated stubs are built on {@link #channel()}.
 *
 * <pre>{@code
 * try (MovierecClient client = MovierecClient.builder("127.0.0.1:50051").build()) {
 *   GetTopNResponse top = client.recommendations()
 *       .getTopN(GetTopNRequest.newBuilder().setUserId("1").setPageSize(10).build());
 * }
 * }</pre>
 */
public final class MovierecClient implements AutoCloseable {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final ManagedChannel managedChannel;
  private final Channel channel;

  private MovierecClient(Builder builder) {
    ManagedChannelBuilder<?> channelBuilder = ManagedChannelBuilder.forTarget(builder.address);
    if (builder.tls) {
      channelBuilder.useTransportSecurity();
    } else {
      channelBuilder.usePlaintext();
    }
    managedChannel =
        channelBuilder
            .defaultServiceConfig(retryConfig(builder.maxAttempts))
            .enableRetry()
            .build();
    channel =
        ClientInterceptors.intercept(
            managedChannel, new DefaultDeadline(builder.timeout), new BearerToken(builder.token));
  }

  /** Starts a builder for the server at {@code host:port}. */
  public static Builder builder(String address) {
    return new Builder(address);
  }

  /** The channel the stubs use, with the deadline and token interceptors applied. */
  public Channel channel() {
    return channel;
  }

  /** Blocking stub for GetTopN and PredictRating. */
  public RecommendationServiceGrpc.RecommendationServiceBlockingStub recommendations() {
    return RecommendationServiceGrpc.newBlockingStub(channel);
  }

  /** Async stub, needed for the streaming rating RPCs. */
  public RecommendationServiceGrpc.RecommendationServiceStub recommendationsAsync() {
    return RecommendationServiceGrpc.newStub(channel);
  }

  /** Blocking stub for AdminService; the builder's token must be set. */
  public AdminServiceGrpc.AdminServiceBlockingStub admin() {
    return AdminServiceGrpc.newBlockingStub(channel);
  }

  @Override
  public void close() throws InterruptedException {
    managedChannel.shutdown().awaitTermination(5, TimeUnit.SECONDS);
  }

  /**
   * Read-only calls are tried again on UNAVAILABLE (a restarting server). Rating ingestion is left
   * out: resending a half-sent stream is the caller's decision.
   */
  private static Map<String, ?> retryConfig(int maxAttempts) {
    Map<String, ?> policy =
        Map.of(
            "maxAttempts", (double) maxAttempts,
            "initialBackoff", "0.1s",
            "maxBackoff", "2s",
            "backoffMultiplier", 2.0,
            "retryableStatusCodes", List.of("UNAVAILABLE"));
    List<Map<String, ?>> names =
        List.of(
            Map.of("service", "movierec.v1.RecommendationService", "method", "GetTopN"),
            Map.of("service", "movierec.v1.RecommendationService", "method", "PredictRating"),
            Map.of("service", "movierec.v1.AdminService", "method", "GetModelInfo"),
            Map.of("service", "movierec.v1.AdminService", "method", "GetRetrainStatus"),
            Map.of("service", "movierec.v1.AdminService", "method", "QuerySql"));
    return Map.of("methodConfig", List.of(Map.of("name", names, "retryPolicy", policy)));
  }

  /** Gives unary calls without a deadline this one; streams keep theirs open-ended. */
  private static final class DefaultDeadline implements ClientInterceptor {
    private final Duration timeout;

    DefaultDeadline(Duration timeout) {
      this.timeout = timeout;
    }

    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
        MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
      if (method.getType() == MethodDescriptor.MethodType.UNARY && options.getDeadline() == null) {
        options = options.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
      }
      return next.newCall(method, options);
    }
  }

  /** Sends {@code authorization: Bearer <token>} on every call when a token is set. */
  private static final class BearerToken implements ClientInterceptor {
    private final String token;

    BearerToken(String token) {
      this.token = token;
    }

    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
        MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
      return new SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<RespT> listener, Metadata headers) {
          if (token != null && !token.isEmpty()) {
            headers.put(AUTHORIZATION, "Bearer " + token);
          }
          super.start(listener, headers);
        }
      };
    }
  }

  /** Settings for a {@link MovierecClient}; only the address is required. */
  public static final class Builder {
    private final String address;
    private boolean tls;
    private String token = "";
    private Duration timeout = Duration.ofSeconds(5);
    private int maxAttempts = 3;

    private Builder(String address) {
      this.address = address;
    }

    /** Dial with TLS (the JDK's trust store); the default is plaintext. */
    public Builder useTls() {
      this.tls = true;
      return this;
    }

    /** Admin token, sent as a bearer token on every call. */
    public Builder token(String token) {
      this.token = token;
      return this;
    }

    /** Deadline for unary calls that set none. Default 5 s. */
    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /** Tries of a read-only call that fails with UNAVAILABLE. Default 3. */
    public Builder maxAttempts(int maxAttempts) {
      this.maxAttempts = maxAttempts;
      return this;
    }

    public MovierecClient build() {
      return new MovierecClient(this);
    }
  }
}
