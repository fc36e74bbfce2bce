// A small client for the movierec gRPC service on Connect-ES, speaking the gRPC protocol over
// HTTP/2. It adds what callers otherwise write themselves: a default deadline, retries of
// read-only calls while the server is UNAVAILABLE (restarting, not yet serving), TLS and the
// admin token. The generated message schemas and services are re-exported from ./gen.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AdminService } from "./gen/movierec/v1/admin_pb.js";
import { RecommendationService } from "./gen/movierec/v1/movierec_pb.js";

export * from "./gen/movierec/v1/admin_pb.js";
export * from "./gen/movierec/v1/movierec_pb.js";
export { Code, ConnectError };

// Safe to send again after UNAVAILABLE. Rating ingestion is left out: resending a half-sent
// stream is the caller's decision.
const READ_ONLY = new Set([
  "movierec.v1.RecommendationService/GetTopN",
  "movierec.v1.RecommendationService/PredictRating",
  "movierec.v1.AdminService/GetModelInfo",
  "movierec.v1.AdminService/GetRetrainStatus",
  "movierec.v1.AdminService/QuerySql",
]);

/**
 * Connects to a movierec server.
 *
 * @param {object} options
 * @param {string} options.address host:port of the server.
 * @param {boolean} [options.tls=false] dial with TLS (Node's trust store) instead of plaintext.
 * @param {string} [options.token] sent as "authorization: Bearer <token>"; AdminService needs it.
 * @param {number} [options.timeoutMs=5000] deadline of every call that passes no timeoutMs of
 *   its own; a long-lived rating stream passes { timeoutMs: 0 } for none.
 * @param {number} [options.maxAttempts=3] tries of a read-only call that fails with UNAVAILABLE.
 * @param {number} [options.backoffMs=100] wait before the first retry, doubled for each further one.
 */
export function createMovierecClient({
  address,
  tls = false,
  token,
  timeoutMs = 5000,
  maxAttempts = 3,
  backoffMs = 100,
}) {
  if (!address) throw new Error("movierec: address is required");
  const transport = createGrpcTransport({
    baseUrl: `${tls ? "https" : "http"}://${address}`,
    defaultTimeoutMs: timeoutMs,
    interceptors: [bearerToken(token), retryUnavailable(maxAttempts, backoffMs)],
  });
  return {
    recommendations: createClient(RecommendationService, transport),
    admin: createClient(AdminService, transport),
  };
}

function bearerToken(token) {
  return (next) => async (req) => {
    if (token) req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}

function retryUnavailable(maxAttempts, backoffMs) {
  return (next) => async (req) => {
    const retryable = !req.stream && READ_ONLY.has(`${req.service.typeName}/${req.method.name}`);
    for (let attempt = 1, wait = backoffMs; ; attempt++, wait *= 2) {
      try {
        return await next(req);
      } catch (err) {
        const code = ConnectError.from(err).code;
        if (!retryable || attempt >= maxAttempts || code !== Code.Unavailable) throw err;
        await new Promise((resolve) => setTimeout(resolve, wait));
        if (req.signal.aborted) throw err;
      }
    }
  };
}
