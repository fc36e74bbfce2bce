package io.movierec.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * AdminService is for operators: model information, retraining and read-only
 * Spark SQL over the live tables. Every call must carry the metadata
 * "authorization: Bearer &lt;admin_token&gt;" with the server's configured token:
 * without it the answer is UNAUTHENTICATED, with a wrong one
 * PERMISSION_DENIED; when the server has no token set, admin is disabled and
 * every call is PERMISSION_DENIED.
 * </pre>
 */
@javax.annotation.Generated(
    value = "by gRPC proto compiler",
    comments = "Source: movierec/v1/admin.proto")
@io.grpc.stub.annotations.GrpcGenerated
public final class AdminServiceGrpc {

  private AdminServiceGrpc() {}

  public static final String SERVICE_NAME = "movierec.v1.AdminService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.movierec.v1.GetModelInfoRequest,
      io.movierec.v1.GetModelInfoResponse> getGetModelInfoMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetModelInfo",
      requestType = io.movierec.v1.GetModelInfoRequest.class,
      responseType = io.movierec.v1.GetModelInfoResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.movierec.v1.GetModelInfoRequest,
      io.movierec.v1.GetModelInfoResponse> getGetModelInfoMethod() {
    io.grpc.MethodDescriptor<io.movierec.v1.GetModelInfoRequest, io.movierec.v1.GetModelInfoResponse> getGetModelInfoMethod;
    if ((getGetModelInfoMethod = AdminServiceGrpc.getGetModelInfoMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getGetModelInfoMethod = AdminServiceGrpc.getGetModelInfoMethod) == null) {
          AdminServiceGrpc.getGetModelInfoMethod = getGetModelInfoMethod =
              io.grpc.MethodDescriptor.<io.movierec.v1.GetModelInfoRequest, io.movierec.v1.GetModelInfoResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetModelInfo"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.GetModelInfoRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.GetModelInfoResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("GetModelInfo"))
              .build();
        }
      }
    }
    return getGetModelInfoMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.movierec.v1.TriggerRetrainRequest,
      io.movierec.v1.TriggerRetrainResponse> getTriggerRetrainMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "TriggerRetrain",
      requestType = io.movierec.v1.TriggerRetrainRequest.class,
      responseType = io.movierec.v1.TriggerRetrainResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.movierec.v1.TriggerRetrainRequest,
      io.movierec.v1.TriggerRetrainResponse> getTriggerRetrainMethod() {
    io.grpc.MethodDescriptor<io.movierec.v1.TriggerRetrainRequest, io.movierec.v1.TriggerRetrainResponse> getTriggerRetrainMethod;
    if ((getTriggerRetrainMethod = AdminServiceGrpc.getTriggerRetrainMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getTriggerRetrainMethod = AdminServiceGrpc.getTriggerRetrainMethod) == null) {
          AdminServiceGrpc.getTriggerRetrainMethod = getTriggerRetrainMethod =
              io.grpc.MethodDescriptor.<io.movierec.v1.TriggerRetrainRequest, io.movierec.v1.TriggerRetrainResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "TriggerRetrain"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.TriggerRetrainRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.TriggerRetrainResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("TriggerRetrain"))
              .build();
        }
      }
    }
    return getTriggerRetrainMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.movierec.v1.GetRetrainStatusRequest,
      io.movierec.v1.GetRetrainStatusResponse> getGetRetrainStatusMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetRetrainStatus",
      requestType = io.movierec.v1.GetRetrainStatusRequest.class,
      responseType = io.movierec.v1.GetRetrainStatusResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.movierec.v1.GetRetrainStatusRequest,
      io.movierec.v1.GetRetrainStatusResponse> getGetRetrainStatusMethod() {
    io.grpc.MethodDescriptor<io.movierec.v1.GetRetrainStatusRequest, io.movierec.v1.GetRetrainStatusResponse> getGetRetrainStatusMethod;
    if ((getGetRetrainStatusMethod = AdminServiceGrpc.getGetRetrainStatusMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getGetRetrainStatusMethod = AdminServiceGrpc.getGetRetrainStatusMethod) == null) {
          AdminServiceGrpc.getGetRetrainStatusMethod = getGetRetrainStatusMethod =
              io.grpc.MethodDescriptor.<io.movierec.v1.GetRetrainStatusRequest, io.movierec.v1.GetRetrainStatusResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetRetrainStatus"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.GetRetrainStatusRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.GetRetrainStatusResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("GetRetrainStatus"))
              .build();
        }
      }
    }
    return getGetRetrainStatusMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.movierec.v1.QuerySqlRequest,
      io.movierec.v1.QuerySqlResponse> getQuerySqlMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "QuerySql",
      requestType = io.movierec.v1.QuerySqlRequest.class,
      responseType = io.movierec.v1.QuerySqlResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.movierec.v1.QuerySqlRequest,
      io.movierec.v1.QuerySqlResponse> getQuerySqlMethod() {
    io.grpc.MethodDescriptor<io.movierec.v1.QuerySqlRequest, io.movierec.v1.QuerySqlResponse> getQuerySqlMethod;
    if ((getQuerySqlMethod = AdminServiceGrpc.getQuerySqlMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getQuerySqlMethod = AdminServiceGrpc.getQuerySqlMethod) == null) {
          AdminServiceGrpc.getQuerySqlMethod = getQuerySqlMethod =
              io.grpc.MethodDescriptor.<io.movierec.v1.QuerySqlRequest, io.movierec.v1.QuerySqlResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "QuerySql"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.QuerySqlRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.movierec.v1.QuerySqlResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("QuerySql"))
              .build();
        }
      }
    }
    return getQuerySqlMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static AdminServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminServiceStub>() {
        @java.lang.Override
        public AdminServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminServiceStub(channel, callOptions);
        }
      };
    return AdminServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static AdminServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminServiceBlockingStub>() {
        @java.lang.Override
        public AdminServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminServiceBlockingStub(channel, callOptions);
        }
      };
    return AdminServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static AdminServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminServiceFutureStub>() {
        @java.lang.Override
        public AdminServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminServiceFutureStub(channel, callOptions);
        }
      };
    return AdminServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * AdminService is for operators: model information, retraining and read-only
   * Spark SQL over the live tables. Every call must carry the metadata
   * "authorization: Bearer &lt;admin_token&gt;" with the server's configured token:
   * without it the answer is UNAUTHENTICATED, with a wrong one
   * PERMISSION_DENIED; when the server has no token set, admin is disabled and
   * every call is PERMISSION_DENIED.
   * </pre>
   */
  public static abstract class AdminServiceImplBase implements io.grpc.BindableService {

    /**
     * <pre>
     * GetModelInfo describes the model serving now and the live data beside it.
     * </pre>
     */
    public void getModelInfo(io.movierec.v1.GetModelInfoRequest request,
        io.grpc.stub.StreamObserver<io.movierec.v1.GetModelInfoResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetModelInfoMethod(), responseObserver);
    }

    /**
     * <pre>
     * TriggerRetrain starts a full Spark retrain on the base data plus every
     * logged rating, in the background, and returns its job at once. While one
     * runs, it returns that job instead of starting another.
     * </pre>
     */
    public void triggerRetrain(io.movierec.v1.TriggerRetrainRequest request,
        io.grpc.stub.StreamObserver<io.movierec.v1.TriggerRetrainResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getTriggerRetrainMethod(), responseObserver);
    }

    /**
     * <pre>
     * GetRetrainStatus returns the running retrain job, or the last one.
     * </pre>
     */
    public void getRetrainStatus(io.movierec.v1.GetRetrainStatusRequest request,
        io.grpc.stub.StreamObserver<io.movierec.v1.GetRetrainStatusResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetRetrainStatusMethod(), responseObserver);
    }

    /**
     * <pre>
     * QuerySql runs one read-only Spark SQL query (SELECT, WITH ... SELECT,
     * VALUES, TABLE) against the live tables ratings, movies, user_activity,
     * rec_lists and rating_log. Anything else is INVALID_ARGUMENT with the
     * reason.
     * </pre>
     */
    public void querySql(io.movierec.v1.QuerySqlRequest request,
        io.grpc.stub.StreamObserver<io.movierec.v1.QuerySqlResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getQuerySqlMethod(), responseObserver);
    }

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
          .addMethod(
            getGetModelInfoMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.movierec.v1.GetModelInfoRequest,
                io.movierec.v1.GetModelInfoResponse>(
                  this, METHODID_GET_MODEL_INFO)))
          .addMethod(
            getTriggerRetrainMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.movierec.v1.TriggerRetrainRequest,
                io.movierec.v1.TriggerRetrainResponse>(
                  this, METHODID_TRIGGER_RETRAIN)))
          .addMethod(
            getGetRetrainStatusMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.movierec.v1.GetRetrainStatusRequest,
                io.movierec.v1.GetRetrainStatusResponse>(
                  this, METHODID_GET_RETRAIN_STATUS)))
          .addMethod(
            getQuerySqlMethod(),
            io.grpc.stub.ServerCalls.asyncUnaryCall(
              new MethodHandlers<
                io.movierec.v1.QuerySqlRequest,
                io.movierec.v1.QuerySqlResponse>(
                  this, METHODID_QUERY_SQL)))
          .build();
    }
  }

  /**
   * <pre>
   * AdminService is for operators: model information, retraining and read-only
   * Spark SQL over the live tables. Every call must carry the metadata
   * "authorization: Bearer &lt;admin_token&gt;" with the server's configured token:
   * without it the answer is UNAUTHENTICATED, with a wrong one
   * PERMISSION_DENIED; when the server has no token set, admin is disabled and
   * every call is PERMISSION_DENIED.
   * </pre>
   */
  public static final class AdminServiceStub extends io.grpc.stub.AbstractAsyncStub<AdminServiceStub> {
    private AdminServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * GetModelInfo describes the model serving now and the live data beside it.
     * </pre>
     */
    public void getModelInfo(io.movierec.v1.GetModelInfoRequest request,
        io.grpc.stub.StreamObserver<io.movierec.v1.GetModelInfoResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetModelInfoMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * TriggerRetrain starts a full Spark retrain on the base data plus every
     * logged rating, in the background, and returns its job at once. While one
     * runs, it returns that job instead of starting another.
     * </pre>
     */
    public void triggerRetrain(io.movierec.v1.TriggerRetrainRequest request,
        io.grpc.stub.StreamObserver<io.movierec.v1.TriggerRetrainResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getTriggerRetrainMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * GetRetrainStatus returns the running retrain job, or the last one.
     * </pre>
     */
    public void getRetrainStatus(io.movierec.v1.GetRetrainStatusRequest request,
        io.grpc.stub.StreamObserver<io.movierec.v1.GetRetrainStatusResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetRetrainStatusMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * QuerySql runs one read-only Spark SQL query (SELECT, WITH ... SELECT,
     * VALUES, TABLE) against the live tables ratings, movies, user_activity,
     * rec_lists and rating_log. Anything else is INVALID_ARGUMENT with the
     * reason.
     * </pre>
     */
    public void querySql(io.movierec.v1.QuerySqlRequest request,
        io.grpc.stub.StreamObserver<io.movierec.v1.QuerySqlResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getQuerySqlMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * <pre>
   * AdminService is for operators: model information, retraining and read-only
   * Spark SQL over the live tables. Every call must carry the metadata
   * "authorization: Bearer &lt;admin_token&gt;" with the server's configured token:
   * without it the answer is UNAUTHENTICATED, with a wrong one
   * PERMISSION_DENIED; when the server has no token set, admin is disabled and
   * every call is PERMISSION_DENIED.
   * </pre>
   */
  public static final class AdminServiceBlockingStub extends io.grpc.stub.AbstractBlockingStub<AdminServiceBlockingStub> {
    private AdminServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * GetModelInfo describes the model serving now and the live data beside it.
     * </pre>
     */
    public io.movierec.v1.GetModelInfoResponse getModelInfo(io.movierec.v1.GetModelInfoRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetModelInfoMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * TriggerRetrain starts a full Spark retrain on the base data plus every
     * logged rating, in the background, and returns its job at once. While one
     * runs, it returns that job instead of starting another.
     * </pre>
     */
    public io.movierec.v1.TriggerRetrainResponse triggerRetrain(io.movierec.v1.TriggerRetrainRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getTriggerRetrainMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * GetRetrainStatus returns the running retrain job, or the last one.
     * </pre>
     */
    public io.movierec.v1.GetRetrainStatusResponse getRetrainStatus(io.movierec.v1.GetRetrainStatusRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetRetrainStatusMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * QuerySql runs one read-only Spark SQL query (SELECT, WITH ... SELECT,
     * VALUES, TABLE) against the live tables ratings, movies, user_activity,
     * rec_lists and rating_log. Anything else is INVALID_ARGUMENT with the
     * reason.
     * </pre>
     */
    public io.movierec.v1.QuerySqlResponse querySql(io.movierec.v1.QuerySqlRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getQuerySqlMethod(), getCallOptions(), request);
    }
  }

  /**
   * <pre>
   * AdminService is for operators: model information, retraining and read-only
   * Spark SQL over the live tables. Every call must carry the metadata
   * "authorization: Bearer &lt;admin_token&gt;" with the server's configured token:
   * without it the answer is UNAUTHENTICATED, with a wrong one
   * PERMISSION_DENIED; when the server has no token set, admin is disabled and
   * every call is PERMISSION_DENIED.
   * </pre>
   */
  public static final class AdminServiceFutureStub extends io.grpc.stub.AbstractFutureStub<AdminServiceFutureStub> {
    private AdminServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * GetModelInfo describes the model serving now and the live data beside it.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.movierec.v1.GetModelInfoResponse> getModelInfo(
        io.movierec.v1.GetModelInfoRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetModelInfoMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * TriggerRetrain starts a full Spark retrain on the base data plus every
     * logged rating, in the background, and returns its job at once. While one
     * runs, it returns that job instead of starting another.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.movierec.v1.TriggerRetrainResponse> triggerRetrain(
        io.movierec.v1.TriggerRetrainRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getTriggerRetrainMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * GetRetrainStatus returns the running retrain job, or the last one.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.movierec.v1.GetRetrainStatusResponse> getRetrainStatus(
        io.movierec.v1.GetRetrainStatusRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetRetrainStatusMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * QuerySql runs one read-only Spark SQL query (SELECT, WITH ... SELECT,
     * VALUES, TABLE) against the live tables ratings, movies, user_activity,
     * rec_lists and rating_log. Anything else is INVALID_ARGUMENT with the
     * reason.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.movierec.v1.QuerySqlResponse> querySql(
        io.movierec.v1.QuerySqlRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getQuerySqlMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_GET_MODEL_INFO = 0;
  private static final int METHODID_TRIGGER_RETRAIN = 1;
  private static final int METHODID_GET_RETRAIN_STATUS = 2;
  private static final int METHODID_QUERY_SQL = 3;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final AdminServiceImplBase serviceImpl;
    private final int methodId;

    MethodHandlers(AdminServiceImplBase serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_GET_MODEL_INFO:
          serviceImpl.getModelInfo((io.movierec.v1.GetModelInfoRequest) request,
              (io.grpc.stub.StreamObserver<io.movierec.v1.GetModelInfoResponse>) responseObserver);
          break;
        case METHODID_TRIGGER_RETRAIN:
          serviceImpl.triggerRetrain((io.movierec.v1.TriggerRetrainRequest) request,
              (io.grpc.stub.StreamObserver<io.movierec.v1.TriggerRetrainResponse>) responseObserver);
          break;
        case METHODID_GET_RETRAIN_STATUS:
          serviceImpl.getRetrainStatus((io.movierec.v1.GetRetrainStatusRequest) request,
              (io.grpc.stub.StreamObserver<io.movierec.v1.GetRetrainStatusResponse>) responseObserver);
          break;
        case METHODID_QUERY_SQL:
          serviceImpl.querySql((io.movierec.v1.QuerySqlRequest) request,
              (io.grpc.stub.StreamObserver<io.movierec.v1.QuerySqlResponse>) responseObserver);
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
        default:
          throw new AssertionError();
      }
    }
  }

  private static abstract class AdminServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    AdminServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.movierec.v1.AdminProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("AdminService");
    }
  }

  private static final class AdminServiceFileDescriptorSupplier
      extends AdminServiceBaseDescriptorSupplier {
    AdminServiceFileDescriptorSupplier() {}
  }

  private static final class AdminServiceMethodDescriptorSupplier
      extends AdminServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final String methodName;

    AdminServiceMethodDescriptorSupplier(String methodName) {
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
      synchronized (AdminServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new AdminServiceFileDescriptorSupplier())
              .addMethod(getGetModelInfoMethod())
              .addMethod(getTriggerRetrainMethod())
              .addMethod(getGetRetrainStatusMethod())
              .addMethod(getQuerySqlMethod())
              .build();
        }
      }
    }
    return result;
  }
}
