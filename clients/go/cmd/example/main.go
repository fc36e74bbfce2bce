// Command example calls a movierec server the way a backend service would: top-N lists and
// rating predictions for some users, a few ratings streamed for one user (then that user's list
// again, which no longer holds the rated movies), and one bad request, which the server refuses
// with INVALID_ARGUMENT. It prints what it got as one JSON object, so the answers can be compared
// with the other languages' clients.
//
//	go run ./cmd/example -addr 127.0.0.1:50051 -users 1,2 -predict 1:1,2:50 -rate-user go-demo
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"strings"

	"github.com/movierec/movierec/clients/go/movierec"
	movierecv1 "github.com/movierec/movierec/clients/go/movierec/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type topN struct {
	UserID   string   `json:"user_id"`
	MovieIDs []string `json:"movie_ids"`
}

type prediction struct {
	UserID  string  `json:"user_id"`
	MovieID string  `json:"movie_id"`
	Rating  float64 `json:"rating"`
}

type streamed struct {
	UserID         string   `json:"user_id"`
	HandledThrough int64    `json:"handled_through"`
	Accepted       int64    `json:"accepted"`
	TopNAfter      []string `json:"top_n_after"`
}

type badInput struct {
	InvalidArgument bool   `json:"invalid_argument"`
	Code            string `json:"code"`
	Message         string `json:"message"`
}

type report struct {
	Language    string       `json:"language"`
	TopN        []topN       `json:"top_n"`
	Predictions []prediction `json:"predictions"`
	Stream      streamed     `json:"stream"`
	BadInput    badInput     `json:"bad_input"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "movierec server host:port")
	users := flag.String("users", "1,2,3", "comma-separated users to get top-N lists for")
	pairs := flag.String("predict", "1:1,1:50", "comma-separated user:movie pairs to predict")
	rateUser := flag.String("rate-user", "go-example", "user who streams the ratings")
	ratings := flag.String("ratings", "1:5,260:4.5,1196:4", "comma-separated movie:rating to stream")
	pageSize := flag.Int("page-size", 10, "top-N list length")
	caFile := flag.String("ca", "", "PEM CA to trust: dial with TLS (plaintext when empty)")
	certFile := flag.String("cert", "", "PEM client certificate, for a server with mutual TLS")
	keyFile := flag.String("key", "", "PEM key of -cert")
	flag.Parse()

	tlsConfig, err := tlsFrom(*caFile, *certFile, *keyFile)
	if err != nil {
		log.Fatal(err)
	}
	client, err := movierec.Dial(movierec.Config{Address: *addr, TLS: tlsConfig})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()
	out := report{Language: "go"}

	for _, user := range strings.Split(*users, ",") {
		ids, err := movieIDs(ctx, client, user, *pageSize)
		if err != nil {
			log.Fatalf("GetTopN %s: %v", user, err)
		}
		out.TopN = append(out.TopN, topN{UserID: user, MovieIDs: ids})
	}

	for _, pair := range strings.Split(*pairs, ",") {
		user, movie := split(pair)
		resp, err := client.Recommendations.PredictRating(ctx,
			&movierecv1.PredictRatingRequest{UserId: user, MovieId: movie})
		if err != nil {
			log.Fatalf("PredictRating %s: %v", pair, err)
		}
		out.Predictions = append(out.Predictions,
			prediction{UserID: user, MovieID: movie, Rating: resp.Rating})
	}

	out.Stream, err = streamRatings(ctx, client, *rateUser, *ratings)
	if err != nil {
		log.Fatalf("StreamRatings: %v", err)
	}
	if out.Stream.TopNAfter, err = movieIDs(ctx, client, *rateUser, *pageSize); err != nil {
		log.Fatalf("GetTopN %s: %v", *rateUser, err)
	}

	// A negative page size is a caller's bug: the server refuses it rather than guess.
	_, err = client.Recommendations.GetTopN(ctx,
		&movierecv1.GetTopNRequest{UserId: "1", PageSize: -1})
	st, _ := status.FromError(err)
	out.BadInput = badInput{
		InvalidArgument: st.Code() == codes.InvalidArgument,
		Code:            st.Code().String(),
		Message:         st.Message(),
	}

	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(out); err != nil {
		log.Fatal(err)
	}
}

func movieIDs(ctx context.Context, client *movierec.Client, user string, size int) ([]string, error) {
	resp, err := client.Recommendations.GetTopN(ctx,
		&movierecv1.GetTopNRequest{UserId: user, PageSize: int32(size)})
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, movie := range resp.Movies {
		ids = append(ids, movie.MovieId)
	}
	return ids, nil
}

// streamRatings sends one rating per message and reads the acknowledgement of each: an ack means
// the rating is on the server's disk and in the user's model.
func streamRatings(ctx context.Context, client *movierec.Client, user, ratings string) (streamed, error) {
	result := streamed{UserID: user}
	stream, err := client.Recommendations.StreamRatings(ctx)
	if err != nil {
		return result, err
	}
	for _, item := range strings.Split(ratings, ",") {
		movie, value := split(item)
		rating, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return result, fmt.Errorf("rating %q: %w", item, err)
		}
		event := &movierecv1.RatingEvent{UserId: user, MovieId: movie, Rating: &rating}
		if err := stream.Send(&movierecv1.StreamRatingsRequest{Events: []*movierecv1.RatingEvent{event}}); err != nil {
			return result, err
		}
		ack, err := stream.Recv()
		if err != nil {
			return result, err
		}
		result.HandledThrough, result.Accepted = ack.HandledThrough, ack.AcceptedCount
	}
	if err := stream.CloseSend(); err != nil {
		return result, err
	}
	if _, err := stream.Recv(); err != io.EOF {
		return result, fmt.Errorf("stream did not end cleanly: %v", err)
	}
	return result, nil
}

func split(pair string) (string, string) {
	parts := strings.SplitN(pair, ":", 2)
	if len(parts) != 2 {
		log.Fatalf("%q is not of the form a:b", pair)
	}
	return parts[0], parts[1]
}

// tlsFrom is the TLS configuration the flags ask for, or nil for plaintext.
func tlsFrom(caFile, certFile, keyFile string) (*tls.Config, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", caFile)
	}
	config := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return config, nil
}
