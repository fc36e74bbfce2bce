// Package movierec is a small client for the movierec gRPC service. It wraps one connection with
// what callers otherwise write themselves: a default deadline per call, retries of read-only
// calls while the server is UNAVAILABLE (restarting, not yet serving), TLS, and the admin token.
// The generated stubs stay reachable as Client.Recommendations and Client.Admin.
package movierec

import (
	"context"
	"crypto/tls"
	"errors"
	"time"

	movierecv1 "github.com/movierec/movierec/clients/go/movierec/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Config says where the server is and how to call it. Only Address is required.
type Config struct {
	// Address is host:port of the movierec server.
	Address string
	// TLS, when set, dials with TLS; nil dials plaintext (a sidecar or a trusted network).
	TLS *tls.Config
	// Token is sent as "authorization: Bearer <Token>" on every call; AdminService needs it.
	Token string
	// Timeout is the deadline given to a unary call whose context has none. Default 5s.
	Timeout time.Duration
	// MaxAttempts bounds tries of a read-only call that fails with UNAVAILABLE. Default 3.
	MaxAttempts int
	// Backoff is the wait before the first retry; it doubles for each further one. Default 100ms.
	Backoff time.Duration
}

// Client is one connection to movierec. It is safe for concurrent use; Close it when done.
type Client struct {
	conn            *grpc.ClientConn
	Recommendations movierecv1.RecommendationServiceClient
	Admin           movierecv1.AdminServiceClient
}

// readOnlyMethods may be sent again after UNAVAILABLE without changing the outcome. Rating
// ingestion is left out: retrying a half-sent stream is the caller's decision.
var readOnlyMethods = map[string]bool{
	"/movierec.v1.RecommendationService/GetTopN":       true,
	"/movierec.v1.RecommendationService/PredictRating": true,
	"/movierec.v1.AdminService/GetModelInfo":           true,
	"/movierec.v1.AdminService/GetRetrainStatus":       true,
	"/movierec.v1.AdminService/QuerySql":               true,
}

// Dial connects to the server described by cfg. Like grpc.Dial it does not wait for the server:
// the first call does, within its deadline.
func Dial(cfg Config) (*Client, error) {
	if cfg.Address == "" {
		return nil, errors.New("movierec: Config.Address is required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 100 * time.Millisecond
	}
	transport := grpc.WithInsecure()
	if cfg.TLS != nil {
		transport = grpc.WithTransportCredentials(credentials.NewTLS(cfg.TLS))
	}
	conn, err := grpc.Dial(cfg.Address, transport,
		grpc.WithUnaryInterceptor(cfg.unaryInterceptor),
		grpc.WithStreamInterceptor(cfg.streamInterceptor))
	if err != nil {
		return nil, err
	}
	return &Client{
		conn:            conn,
		Recommendations: movierecv1.NewRecommendationServiceClient(conn),
		Admin:           movierecv1.NewAdminServiceClient(conn),
	}, nil
}

// Close releases the connection.
func (c *Client) Close() error { return c.conn.Close() }

func (cfg Config) withToken(ctx context.Context) context.Context {
	if cfg.Token == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+cfg.Token)
}

func (cfg Config) unaryInterceptor(ctx context.Context, method string, req, reply interface{},
	cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	ctx = cfg.withToken(ctx)
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	attempts := 1
	if readOnlyMethods[method] {
		attempts = cfg.MaxAttempts
	}
	wait := cfg.Backoff
	for attempt := 1; ; attempt++ {
		err := invoker(ctx, method, req, reply, cc, opts...)
		if err == nil || attempt >= attempts || status.Code(err) != codes.Unavailable {
			return err
		}
		select {
		case <-time.After(wait):
			wait *= 2
		case <-ctx.Done():
			return err
		}
	}
}

// Streams get the token but no default deadline: a rating stream lives as long as its producer.
func (cfg Config) streamInterceptor(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn,
	method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return streamer(cfg.withToken(ctx), desc, cc, method, opts...)
}
