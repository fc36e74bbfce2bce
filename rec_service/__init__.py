"""movierec's gRPC service: config, errors, validation, the recommender, servicers and server."""
