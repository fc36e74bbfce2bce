import type { Client } from "@connectrpc/connect";
import { AdminService } from "./gen/movierec/v1/admin_pb.js";
import { RecommendationService } from "./gen/movierec/v1/movierec_pb.js";

export * from "./gen/movierec/v1/admin_pb.js";
export * from "./gen/movierec/v1/movierec_pb.js";
export { Code, ConnectError } from "@connectrpc/connect";

export interface MovierecClientOptions {
  /** host:port of the server. */
  address: string;
  /** Dial with TLS (Node's trust store) instead of plaintext. Default false. */
  tls?: boolean;
  /** Sent as "authorization: Bearer <token>"; AdminService needs it. */
  token?: string;
  /** Deadline of calls that pass none; a rating stream passes { timeoutMs: 0 }. Default 5000. */
  timeoutMs?: number;
  /** Tries of a read-only call that fails with UNAVAILABLE. Default 3. */
  maxAttempts?: number;
  /** Wait before the first retry, doubled for each further one. Default 100. */
  backoffMs?: number;
}

export interface MovierecClient {
  recommendations: Client<typeof RecommendationService>;
  admin: Client<typeof AdminService>;
}

export declare function createMovierecClient(options: MovierecClientOptions): MovierecClient;
