"""The gRPC edge: servicers and their per-call wrappers, admin token, TLS, wiring, the CLI."""
