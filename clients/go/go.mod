module github.com/movierec/movierec/clients/go

go 1.19

// The versions CI builds and tests with (Debian 12's golang-google-grpc-dev and
// golang-google-protobuf-dev); newer releases of both work with the generated code too.
require (
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)
