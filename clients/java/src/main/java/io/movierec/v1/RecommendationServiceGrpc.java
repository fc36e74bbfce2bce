package io.movierec.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * RecommendationService answers recommendation reads for backend services.
 * Every read is served from process memory: a user's precomputed list is
 * served as is while it is fresh, and recomputed from the current model,
 * written back and served when the user has acted since it was computed
 * (lazy update). No read waits for a Spark job.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: movierec/v1/movierec.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class RecommendationServiceGrpc {

  private RecommendationServiceGrpc() {}

  public static final String SERVICE_NAME = "movierec.v1.RecommendationService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.movierec.v1.GetTopNRequest,
      io.movierec.v1.GetTopNResponse> getGetTopNMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetTopN",
      requestType = io.movierec.v1.GetTopNRequest.class,
      responseType = io.movierec.v1.GetTopNResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.movierec.v1.GetTopNRequest,
      io.movierec.v1.GetTopNResponse> getGetTopNMethod() {
    io.grpc.MethodDescriptor<io.movierec.v1.GetTopNRequest, io.movierec.v1.GetTopNResponse> getGetTopNMethod;
    if ((getGetTopNMethod = RecommendationServiceGrpc.getGetTopNMethod) == null) {
      synchronized (RecommendationServiceGrpc.class) {
        if ((getGetTopNMethod = RecommendationServiceGrpc.getGetTopNMethod) == null) {
          RecommendationServiceGrpc.getGetTopNMethod = getGetTopNMethod =
              io.grpc.MethodDescriptor.<io.movierec.v1.GetTopNRequest, io.movierec.v1.GetTopNResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetTopN"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.GetTopNRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.GetTopNResponse.getDefaultInstance()))
              .setSchemaDescriptor(new RecommendationServiceMethodDescriptorSupplier("GetTopN"))
              .build();
        }
      }
    }
    return getGetTopNMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.movierec.v1.BatchGetTopNRequest,
      io.movierec.v1.BatchGetTopNResponse> getBatchGetTopNMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "BatchGetTopN",
      requestType = io.movierec.v1.BatchGetTopNRequest.class,
      responseType = io.movierec.v1.BatchGetTopNResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.movierec.v1.BatchGetTopNRequest,
      io.movierec.v1.BatchGetTopNResponse> getBatchGetTopNMethod() {
    io.grpc.MethodDescriptor<io.movierec.v1.BatchGetTopNRequest, io.movierec.v1.BatchGetTopNResponse> getBatchGetTopNMethod;
    if ((getBatchGetTopNMethod = RecommendationServiceGrpc.getBatchGetTopNMethod) == null) {
      synchronized (RecommendationServiceGrpc.class) {
        if ((getBatchGetTopNMethod = RecommendationServiceGrpc.getBatchGetTopNMethod) == null) {
          RecommendationServiceGrpc.getBatchGetTopNMethod = getBatchGetTopNMethod =
              io.grpc.MethodDescriptor.<io.movierec.v1.BatchGetTopNRequest, io.movierec.v1.BatchGetTopNResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "BatchGetTopN"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.BatchGetTopNRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.BatchGetTopNResponse.getDefaultInstance()))
              .setSchemaDescriptor(new RecommendationServiceMethodDescriptorSupplier("BatchGetTopN"))
              .build();
        }
      }
    }
    return getBatchGetTopNMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.movierec.v1.GetSimilarMoviesRequest,
      io.movierec.v1.GetSimilarMoviesResponse> getGetSimilarMoviesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetSimilarMovies",
      requestType = io.movierec.v1.GetSimilarMoviesRequest.class,
      responseType = io.movierec.v1.GetSimilarMoviesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.movierec.v1.GetSimilarMoviesRequest,
      io.movierec.v1.GetSimilarMoviesResponse> getGetSimilarMoviesMethod() {
    io.grpc.MethodDescriptor<io.movierec.v1.GetSimilarMoviesRequest, io.movierec.v1.GetSimilarMoviesResponse> getGetSimilarMoviesMethod;
    if ((getGetSimilarMoviesMethod = RecommendationServiceGrpc.getGetSimilarMoviesMethod) == null) {
      synchronized (RecommendationServiceGrpc.class) {
        if ((getGetSimilarMoviesMethod = RecommendationServiceGrpc.getGetSimilarMoviesMethod) == null) {
          RecommendationServiceGrpc.getGetSimilarMoviesMethod = getGetSimilarMoviesMethod =
              io.grpc.MethodDescriptor.<io.movierec.v1.GetSimilarMoviesRequest, io.movierec.v1.GetSimilarMoviesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetSimilarMovies"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.GetSimilarMoviesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.GetSimilarMoviesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new RecommendationServiceMethodDescriptorSupplier("GetSimilarMovies"))
              .build();
        }
      }
    }
    return getGetSimilarMoviesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.movierec.v1.PredictRatingRequest,
      io.movierec.v1.PredictRatingResponse> getPredictRatingMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "PredictRating",
      requestType = io.movierec.v1.PredictRatingRequest.class,
      responseType = io.movierec.v1.PredictRatingResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.movierec.v1.PredictRatingRequest,
      io.movierec.v1.PredictRatingResponse> getPredictRatingMethod() {
    io.grpc.MethodDescriptor<io.movierec.v1.PredictRatingRequest, io.movierec.v1.PredictRatingResponse> getPredictRatingMethod;
    if ((getPredictRatingMethod = RecommendationServiceGrpc.getPredictRatingMethod) == null) {
      synchronized (RecommendationServiceGrpc.class) {
        if ((getPredictRatingMethod = RecommendationServiceGrpc.getPredictRatingMethod) == null) {
          RecommendationServiceGrpc.getPredictRatingMethod = getPredictRatingMethod =
              io.grpc.MethodDescriptor.<io.movierec.v1.PredictRatingRequest, io.movierec.v1.PredictRatingResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "PredictRating"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.PredictRatingRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.PredictRatingResponse.getDefaultInstance()))
              .setSchemaDescriptor(new RecommendationServiceMethodDescriptorSupplier("PredictRating"))
              .build();
        }
      }
    }
    return getPredictRatingMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.movierec.v1.IngestRatingsRequest,
      io.movierec.v1.IngestRatingsResponse> getIngestRatingsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "IngestRatings",
      requestType = io.movierec.v1.IngestRatingsRequest.class,
      responseType = io.movierec.v1.IngestRatingsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.CLIENT_STREAMING)
  public static io.grpc.MethodDescriptor<io.movierec.v1.IngestRatingsRequest,
      io.movierec.v1.IngestRatingsResponse> getIngestRatingsMethod() {
    io.grpc.MethodDescriptor<io.movierec.v1.IngestRatingsRequest, io.movierec.v1.IngestRatingsResponse> getIngestRatingsMethod;
    if ((getIngestRatingsMethod = RecommendationServiceGrpc.getIngestRatingsMethod) == null) {
      synchronized (RecommendationServiceGrpc.class) {
        if ((getIngestRatingsMethod = RecommendationServiceGrpc.getIngestRatingsMethod) == null) {
          RecommendationServiceGrpc.getIngestRatingsMethod = getIngestRatingsMethod =
              io.grpc.MethodDescriptor.<io.movierec.v1.IngestRatingsRequest, io.movierec.v1.IngestRatingsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.CLIENT_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "IngestRatings"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.IngestRatingsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.IngestRatingsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new RecommendationServiceMethodDescriptorSupplier("IngestRatings"))
              .build();
        }
      }
    }
    return getIngestRatingsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.movierec.v1.StreamRatingsRequest,
      io.movierec.v1.StreamRatingsResponse> getStreamRatingsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "StreamRatings",
      requestType = io.movierec.v1.StreamRatingsRequest.class,
      responseType = io.movierec.v1.StreamRatingsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
  public static io.grpc.MethodDescriptor<io.movierec.v1.StreamRatingsRequest,
      io.movierec.v1.StreamRatingsResponse> getStreamRatingsMethod() {
    io.grpc.MethodDescriptor<io.movierec.v1.StreamRatingsRequest, io.movierec.v1.StreamRatingsResponse> getStreamRatingsMethod;
    if ((getStreamRatingsMethod = RecommendationServiceGrpc.getStreamRatingsMethod) == null) {
      synchronized (RecommendationServiceGrpc.class) {
        if ((getStreamRatingsMethod = RecommendationServiceGrpc.getStreamRatingsMethod) == null) {
          RecommendationServiceGrpc.getStreamRatingsMethod = getStreamRatingsMethod =
              io.grpc.MethodDescriptor.<io.movierec.v1.StreamRatingsRequest, io.movierec.v1.StreamRatingsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "StreamRatings"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.StreamRatingsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.StreamRatingsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new RecommendationServiceMethodDescriptorSupplier("StreamRatings"))
              .build();
        }
      }
    }
    return getStreamRatingsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static RecommendationServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<RecommendationServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<RecommendationServiceStub>() {
        @java.lang.Override
        public RecommendationServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new RecommendationServiceStub(channel, callOptions);
        }
      };
    return RecommendationServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static RecommendationServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<RecommendationServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<RecommendationServiceBlockingStub>() {
        @java.lang.Override
        public RecommendationServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new RecommendationServiceBlockingStub(channel, callOptions);
        }
      };
    return RecommendationServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static RecommendationServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<RecommendationServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<RecommendationServiceFutureStub>() {
        @java.lang.Override
        public RecommendationServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new RecommendationServiceFutureStub(channel, callOptions);
        }
      };
    return RecommendationServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * RecommendationService answers recommendation reads for backend services.
   * Every read is served from process memory: a user's precomputed list is
   * served as is while it is fresh, and recomputed from the current model,
   * written back and served when the user has acted since it was computed
   * (lazy update). No read waits for a Spark job.
   * </pre>
   */
  public static abstract class RecommendationServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * GetTopN returns the user's best movies, excluding movies the user has
     * already rated. Unknown users get the popularity ranking, labelled as such.
     * </pre>
     */
    public void getTopN(io.movierec.v1.GetTopNRequest request,
        io.grpc.stub.StreamObserver<io.movierec.v1.GetTopNResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetTopNMethod(), responseObserver);
    }

    /**
     * <pre>
     * BatchGetTopN answers several GetTopN requests in one call (at most 100),
     * in request order. One invalid request makes the whole call
     * INVALID_ARGUMENT, with the field named as requests[i].field.
     * </pre>
     */
    public void batchGetTopN(io.movierec.v1.BatchGetTopNRequest request,
        io.grpc.stub.StreamObserver<io.movierec.v1.BatchGetTopNResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getBatchGetTopNMethod(), responseObserver);
    }

    /**
     * <pre>
     * GetSimilarMovies returns the movies most similar to one movie, by the
     * ranker's own structure: its Item-CF neighbours (movies rated by the same
     * users), or, for a movie without neighbours, the nearest item factors of
     * the ranking model. Unknown movie: NOT_FOUND.
     * </pre>
     */
    public void getSimilarMovies(io.movierec.v1.GetSimilarMoviesRequest request,
        io.grpc.stub.StreamObserver<io.movierec.v1.GetSimilarMoviesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetSimilarMoviesMethod(), responseObserver);
    }

    /**
     * <pre>
     * PredictRating returns the predicted rating of one movie by one user on the
     * data set's rating scale. Unknown movie: NOT_FOUND. Unknown user: the
     * movie's damped mean rating, labelled as a fallback.
     * </pre>
     */
    public void predictRating(io.movierec.v1.PredictRatingRequest request,
        io.grpc.stub.StreamObserver<io.movierec.v1.PredictRatingResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getPredictRatingMethod(), responseObserver);
    }

    /**
     * <pre>
     * IngestRatings takes a stream of rating events and answers once, when the
     * stream ends: how many were accepted and, for each rejected event, its
     * position and why. Accepted events are in the server's append-only log and
     * synced to disk before the answer is sent, and each user's next read
     * reflects them. Use it for batches and short-lived producers.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<io.movierec.v1.IngestRatingsRequest> ingestRatings(
        io.grpc.stub.StreamObserver<io.movierec.v1.IngestRatingsResponse> responseObserver) {
      return io.grpc.stub.ServerCalls.asyncUnimplementedStreamingCall(getIngestRatingsMethod(), responseObserver);
    }

    /**
     * <pre>
     * StreamRatings is IngestRatings for long-lived producers: the server
     * answers with an acknowledgement after every durable batch, so a producer
     * knows what is safe without closing its stream.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<io.movierec.v1.StreamRatingsRequest> streamRatings(
        io.grpc.stub.StreamObserver<io.movierec.v1.StreamRatingsResponse> responseObserver) {
      return io.grpc.stub.ServerCalls.asyncUnimplementedStreamingCall(getStreamRatingsMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getGetTopNMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.movierec.v1.GetTopNRequest,
                io.movierec.v1.GetTopNResponse>(
                  this, METHODID_GET_TOP_N)))
          .addMethod(
            getBatchGetTopNMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.movierec.v1.BatchGetTopNRequest,
                io.movierec.v1.BatchGetTopNResponse>(
                  this, METHODID_BATCH_GET_TOP_N)))
          .addMethod(
            getGetSimilarMoviesMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.movierec.v1.GetSimilarMoviesRequest,
                io.movierec.v1.GetSimilarMoviesResponse>(
                  this, METHODID_GET_SIMILAR_MOVIES)))
          .addMethod(
            getPredictRatingMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.movierec.v1.PredictRatingRequest,
                io.movierec.v1.PredictRatingResponse>(
                  this, METHODID_PREDICT_RATING)))
          .addMethod(
            getIngestRatingsMethod(),
            io.grpc.stub.ServerCalls.asyncClientStreamingCall(
              new MethodHandlers<
                io.movierec.v1.IngestRatingsRequest,
                io.movierec.v1.IngestRatingsResponse>(
                  this, METHODID_INGEST_RATINGS)))
          .addMethod(
            getStreamRatingsMethod(),
            io.grpc.stub.ServerCalls.asyncBidiStreamingCall(
              new MethodHandlers<
                io.movierec.v1.StreamRatingsRequest,
                io.movierec.v1.StreamRatingsResponse>(
                  this, METHODID_STREAM_RATINGS)))
          .build();
    }
  }

  /**
   * <pre>
   * RecommendationService answers recommendation reads for backend services.
   * Every read is served from process memory: a user's precomputed list is
   * served as is while it is fresh, and recomputed from the current model,
   * written back and served when the user has acted since it was computed
   * (lazy update). No read waits for a Spark job.
   * </pre>
   */
  public static final class RecommendationServiceStub extends io.grpc.stub.AbstractAsyncStub<RecommendationServiceStub> {
    private RecommendationServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected RecommendationServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new RecommendationServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * GetTopN returns the user's best movies, excluding movies the user has
     * already rated. Unknown users get the popularity ranking, labelled as such.
     * </pre>
     */
    public void getTopN(io.movierec.v1.GetTopNRequest request,
        io.grpc.stub.StreamObserver<io.movierec.v1.GetTopNResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetTopNMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * BatchGetTopN answers several GetTopN requests in one call (at most 100),
     * in request order. One invalid request makes the whole call
     * INVALID_ARGUMENT, with the field named as requests[i].field.
     * </pre>
     */
    public void batchGetTopN(io.movierec.v1.BatchGetTopNRequest request,
        io.grpc.stub.StreamObserver<io.movierec.v1.BatchGetTopNResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getBatchGetTopNMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * GetSimilarMovies returns the movies most similar to one movie, by the
     * ranker's own structure: its Item-CF neighbours (movies rated by the same
     * users), or, for a movie without neighbours, the nearest item factors of
     * the ranking model. Unknown movie: NOT_FOUND.
     * </pre>
     */
    public void getSimilarMovies(io.movierec.v1.GetSimilarMoviesRequest request,
        io.grpc.stub.StreamObserver<io.movierec.v1.GetSimilarMoviesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetSimilarMoviesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * PredictRating returns the predicted rating of one movie by one user on the
     * data set's rating scale. Unknown movie: NOT_FOUND. Unknown user: the
     * movie's damped mean rating, labelled as a fallback.
     * </pre>
     */
    public void predictRating(io.movierec.v1.PredictRatingRequest request,
        io.grpc.stub.StreamObserver<io.movierec.v1.PredictRatingResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getPredictRatingMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * IngestRatings takes a stream of rating events and answers once, when the
     * stream ends: how many were accepted and, for each rejected event, its
     * position and why. Accepted events are in the server's append-only log and
     * synced to disk before the answer is sent, and each user's next read
     * reflects them. Use it for batches and short-lived producers.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<io.movierec.v1.IngestRatingsRequest> ingestRatings(
        io.grpc.stub.StreamObserver<io.movierec.v1.IngestRatingsResponse> responseObserver) {
      return io.grpc.stub.ClientCalls.asyncClientStreamingCall(
          getChannel().newCall(getIngestRatingsMethod(), getCallOptions()), responseObserver);
    }

    /**
     * <pre>
     * StreamRatings is IngestRatings for long-lived producers: the server
     * answers with an acknowledgement after every durable batch, so a producer
     * knows what is safe without closing its stream.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<io.movierec.v1.StreamRatingsRequest> streamRatings(
        io.grpc.stub.StreamObserver<io.movierec.v1.StreamRatingsResponse> responseObserver) {
      return io.grpc.stub.ClientCalls.asyncBidiStreamingCall(
          getChannel().newCall(getStreamRatingsMethod(), getCallOptions()), responseObserver);
    }
  }

  /**
   * <pre>
   * RecommendationService answers recommendation reads for backend services.
   * Every read is served from process memory: a user's precomputed list is
   * served as is while it is fresh, and recomputed from the current model,
   * written back and served when the user has acted since it was computed
   * (lazy update). No read waits for a Spark job.
   * </pre>
   */
  public static final class RecommendationServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<RecommendationServiceBlockingStub> {
    private RecommendationServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected RecommendationServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new RecommendationServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * GetTopN returns the user's best movies, excluding movies the user has
     * already rated. Unknown users get the popularity ranking, labelled as such.
     * </pre>
     */
    public io.movierec.v1.GetTopNResponse getTopN(io.movierec.v1.GetTopNRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetTopNMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * BatchGetTopN answers several GetTopN requests in one call (at most 100),
     * in request order. One invalid request makes the whole call
     * INVALID_ARGUMENT, with the field named as requests[i].field.
     * </pre>
     */
    public io.movierec.v1.BatchGetTopNResponse batchGetTopN(io.movierec.v1.BatchGetTopNRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getBatchGetTopNMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * GetSimilarMovies returns the movies most similar to one movie, by the
     * ranker's own structure: its Item-CF neighbours (movies rated by the same
     * users), or, for a movie without neighbours, the nearest item factors of
     * the ranking model. Unknown movie: NOT_FOUND.
     * </pre>
     */
    public io.movierec.v1.GetSimilarMoviesResponse getSimilarMovies(io.movierec.v1.GetSimilarMoviesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetSimilarMoviesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * PredictRating returns the predicted rating of one movie by one user on the
     * data set's rating scale. Unknown movie: NOT_FOUND. Unknown user: the
     * movie's damped mean rating, labelled as a fallback.
     * </pre>
     */
    public io.movierec.v1.PredictRatingResponse predictRating(io.movierec.v1.PredictRatingRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getPredictRatingMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * RecommendationService answers recommendation reads for backend services.
   * Every read is served from process memory: a user's precomputed list is
   * served as is while it is fresh, and recomputed from the current model,
   * written back and served when the user has acted since it was computed
   * (lazy update). No read waits for a Spark job.
   * </pre>
   */
  public static final class RecommendationServiceFutureStub extends io.grpc.stub.AbstractFutureStub<RecommendationServiceFutureStub> {
    private RecommendationServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected RecommendationServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new RecommendationServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * GetTopN returns the user's best movies, excluding movies the user has
     * already rated. Unknown users get the popularity ranking, labelled as such.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.movierec.v1.GetTopNResponse> getTopN(
        io.movierec.v1.GetTopNRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetTopNMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * BatchGetTopN answers several GetTopN requests in one call (at most 100),
     * in request order. One invalid request makes the whole call
     * INVALID_ARGUMENT, with the field named as requests[i].field.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.movierec.v1.BatchGetTopNResponse> batchGetTopN(
        io.movierec.v1.BatchGetTopNRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getBatchGetTopNMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * GetSimilarMovies returns the movies most similar to one movie, by the
     * ranker's own structure: its Item-CF neighbours (movies rated by the same
     * users), or, for a movie without neighbours, the nearest item factors of
     * the ranking model. Unknown movie: NOT_FOUND.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.movierec.v1.GetSimilarMoviesResponse> getSimilarMovies(
        io.movierec.v1.GetSimilarMoviesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetSimilarMoviesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * PredictRating returns the predicted rating of one movie by one user on the
     * data set's rating scale. Unknown movie: NOT_FOUND. Unknown user: the
     * movie's damped mean rating, labelled as a fallback.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.movierec.v1.PredictRatingResponse> predictRating(
        io.movierec.v1.PredictRatingRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getPredictRatingMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_GET_TOP_N = 0;
  private static final int METHODID_BATCH_GET_TOP_N = 1;
  private static final int METHODID_GET_SIMILAR_MOVIES = 2;
  private static final int METHODID_PREDICT_RATING = 3;
  private static final int METHODID_INGEST_RATINGS = 4;
  private static final int METHODID_STREAM_RATINGS = 5;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final RecommendationServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(RecommendationServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_GET_TOP_N:
          serviceImpl.getTopN((io.movierec.v1.GetTopNRequest) request,
              (io.grpc.stub.StreamObserver<io.movierec.v1.GetTopNResponse>) responseObserver);
          break;
        case METHODID_BATCH_GET_TOP_N:
          serviceImpl.batchGetTopN((io.movierec.v1.BatchGetTopNRequest) request,
              (io.grpc.stub.StreamObserver<io.movierec.v1.BatchGetTopNResponse>) responseObserver);
          break;
        case METHODID_GET_SIMILAR_MOVIES:
          serviceImpl.getSimilarMovies((io.movierec.v1.GetSimilarMoviesRequest) request,
              (io.grpc.stub.StreamObserver<io.movierec.v1.GetSimilarMoviesResponse>) responseObserver);
          break;
        case METHODID_PREDICT_RATING:
          serviceImpl.predictRating((io.movierec.v1.PredictRatingRequest) request,
              (io.grpc.stub.StreamObserver<io.movierec.v1.PredictRatingResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_INGEST_RATINGS:
          return (io.grpc.stub.StreamObserver<Req>) serviceImpl.ingestRatings(
              (io.grpc.stub.StreamObserver<io.movierec.v1.IngestRatingsResponse>) responseObserver);
        case METHODID_STREAM_RATINGS:
          return (io.grpc.stub.StreamObserver<Req>) serviceImpl.streamRatings(
              (io.grpc.stub.StreamObserver<io.movierec.v1.StreamRatingsResponse>) responseObserver);
        default:
          throw new AssertionError();
      }
    }
  }

  private static abstract class RecommendationServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    RecommendationServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.movierec.v1.MovierecProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("RecommendationService");
    }
  }

  private static final class RecommendationServiceFileDescriptorSupplier
      extends RecommendationServiceBaseDescriptorSupplier {
    RecommendationServiceFileDescriptorSupplier() {}
  }

  private static final class RecommendationServiceMethodDescriptorSupplier
      extends RecommendationServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    RecommendationServiceMethodDescriptorSupplier(String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (RecommendationServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new RecommendationServiceFileDescriptorSupplier())
              .addMethod(getGetTopNMethod())
              .addMethod(getBatchGetTopNMethod())
              .addMethod(getGetSimilarMoviesMethod())
              .addMethod(getPredictRatingMethod())
              .addMethod(getIngestRatingsMethod())
              .addMethod(getStreamRatingsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
