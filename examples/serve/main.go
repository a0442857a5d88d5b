// Command serve answers prediction requests for a saved Keragon model over
// HTTP, from many clients at once (package serving):
//
//	go run ./examples/mnist_mlp -epochs 1 -save mnist.keragon
//	go run ./examples/serve -model mnist.keragon -addr 127.0.0.1:8080
//	curl -s localhost:8080/v1/predict -d '{"instances": [[0, 0, ...784 values...]]}'
//
// POST /v1/predict takes {"instances": [sample, ...]}, each sample nested
// arrays of the model's input shape or one flat array, and answers
// {"predictions": [...]}; GET /v1/model gives the shapes; GET /healthz is
// 200 until shutdown starts. Requests that queue while the workers are busy
// run as one batch (dynamic batching). Bad requests get 400 with a message,
// oversized ones 413, and a request past -timeout 503. SIGINT or SIGTERM
// stops taking connections, answers the requests under way and exits; the
// last line printed is one JSON object with what was served.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/serving"
)

func main() {
	path := flag.String("model", "", "saved model (keras.Save) to serve; required")
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	maxBatch := flag.Int("max-batch", 64, "most samples per Predict call (1: no dynamic batching)")
	maxDelay := flag.Duration("max-delay", 0, "how long a batch waits for more requests (0: never waits)")
	workers := flag.Int("workers", 0, "concurrent Predict calls (0: GOMAXPROCS)")
	timeout := flag.Duration("timeout", 30*time.Second, "per-request timeout")
	maxBody := flag.Int64("max-body", 8<<20, "largest request body in bytes")
	flag.Parse()
	if *path == "" {
		fmt.Fprintln(os.Stderr, "serve: -model is required (save one with: go run ./examples/mnist_mlp -epochs 1 -save mnist.keragon)")
		os.Exit(2)
	}

	model, err := keras.Load(*path)
	check(err)
	srv, err := serving.NewServer(model, serving.Config{MaxBatch: *maxBatch, MaxDelay: *maxDelay,
		Workers: *workers, Timeout: *timeout, MaxRequestBytes: *maxBody})
	check(err)
	ln, err := net.Listen("tcp", *addr)
	check(err)
	log.Printf("serving %s (%v) on http://%s: POST /v1/predict, GET /v1/model, GET /healthz", *path, model, ln.Addr())

	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	start := time.Now()
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			check(err)
		}
	case <-ctx.Done():
		log.Print("shutting down: answering the requests under way")
		sctx, cancel := context.WithTimeout(context.Background(), serving.ShutdownTimeout)
		defer cancel()
		check(srv.Shutdown(sctx, hs))
	}
	calls, samples, largest := srv.Batcher().Stats()
	out, err := json.Marshal(map[string]any{"predict_calls": calls, "samples": samples, "largest_batch": largest,
		"seconds": float64(int64(time.Since(start).Seconds()*10)) / 10})
	check(err)
	fmt.Println(string(out))
}

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "serve: %+v\n", err)
		os.Exit(1)
	}
}
