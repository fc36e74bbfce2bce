"""Python client package for movierec: generated gRPC code under movierec.v1."""
