"""The gRPC edge: servicers, interceptors, the admin token, TLS, server wiring and the CLI."""
