"""Generated protobuf and gRPC modules for the movierec.v1 API (do not edit)."""
