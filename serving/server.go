// Package serving answers prediction requests for a Keragon model over
// HTTP, from any number of clients at once.
//
// # Overview
//
// A Server wraps a loaded keras.Model with one input:
//
//	model, err := keras.Load("mnist.keragon")
//	srv, err := serving.NewServer(model, serving.Config{})
//	http.ListenAndServe(":8080", srv)
//
// It answers
//
//	POST /v1/predict   {"instances": [sample, ...]} → {"predictions": [output, ...]}
//	GET  /v1/model     the input and output shapes
//	GET  /healthz      200 {"status": "ok"}, 503 once Drain is called
//
// A sample is nested arrays of the model's input shape (TensorFlow
// Serving's row format) or one flat array of its values. Bad requests — a
// body over the size limit, malformed JSON, a sample of the wrong shape, a
// number that is not a finite float32 — are answered 400 (413 for size)
// with {"error": "..."} saying what is wrong.
//
// Requests are predicted by a Batcher: requests that queue while the
// workers are busy are joined into one Predict call, which is how a Go
// service gets a batch-128 throughput out of one-image requests.
package serving

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
)

// A Server is an http.Handler serving one model. It is safe for
// concurrent use.
type Server struct {
	batcher  *Batcher
	cfg      Config
	model    *keras.Model
	outNames []string
	draining atomic.Bool
	mux      *http.ServeMux
}

// NewServer starts the prediction workers for m (one input, float32);
// Close stops them.
func NewServer(m *keras.Model, cfg Config) (*Server, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	b, err := NewBatcher(m, cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{batcher: b, cfg: cfg, model: m, mux: http.NewServeMux()}
	for i, o := range m.Outputs() {
		name := "output_" + strconv.Itoa(i)
		if l, ok := o.Layer().(interface{ LayerName() string }); ok && l.LayerName() != "" {
			name = l.LayerName()
		}
		s.outNames = append(s.outNames, name)
	}
	s.mux.HandleFunc("/v1/predict", s.predict)
	s.mux.HandleFunc("/v1/model", s.metadata)
	s.mux.HandleFunc("/healthz", s.health)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Batcher returns the server's batcher.
func (s *Server) Batcher() *Batcher { return s.batcher }

// Drain makes the health check answer 503, so that a load balancer stops
// sending requests before shutdown; requests are still served.
func (s *Server) Drain() { s.draining.Store(true) }

// Close stops the prediction workers once the queued requests are
// answered; later predictions are answered 503. Call it after
// http.Server.Shutdown has returned.
func (s *Server) Close() { s.batcher.Close() }

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		fail(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		fail(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	type output struct {
		Name  string `json:"name"`
		Shape []int  `json:"shape"`
	}
	var outs []output
	for i, o := range s.model.Outputs() {
		outs = append(outs, output{s.outNames[i], o.Shape()})
	}
	trainable, other := s.model.CountParams()
	writeJSON(w, http.StatusOK, map[string]any{
		"name": s.model.Name(), "input_shape": s.batcher.SampleShape(), "outputs": outs,
		"parameters": trainable + other, "max_batch": s.cfg.MaxBatch, "max_instances": s.cfg.MaxInstances,
	})
}

func (s *Server) predict(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		fail(w, http.StatusMethodNotAllowed, "use POST with a JSON body {\"instances\": [...]}")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxRequestBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(w, http.StatusRequestEntityTooLarge, "the request body is over "+strconv.FormatInt(s.cfg.MaxRequestBytes, 10)+" bytes")
			return
		}
		fail(w, http.StatusBadRequest, "reading the request: "+err.Error())
		return
	}
	var req struct {
		Instances json.RawMessage `json:"instances"`
	}
	dec := json.NewDecoder(bytesReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "the body must be a JSON object {\"instances\": [...]}: "+err.Error())
		return
	}
	if dec.More() {
		fail(w, http.StatusBadRequest, "data after the JSON object")
		return
	}
	if len(req.Instances) == 0 {
		fail(w, http.StatusBadRequest, "the body has no \"instances\"")
		return
	}
	x, n, err := parseInstances(req.Instances, s.batcher.sample, s.cfg.MaxInstances)
	if err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	outs, err := s.batcher.Predict(ctx, x, n)
	switch {
	case err == nil:
	case errors.Is(err, context.DeadlineExceeded):
		fail(w, http.StatusServiceUnavailable, "timed out after "+s.cfg.Timeout.String())
		return
	case errors.Is(err, context.Canceled):
		return // the client is gone
	case errors.Is(err, ErrClosed):
		fail(w, http.StatusServiceUnavailable, "the server is shutting down")
		return
	default:
		fail(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(s.encode(outs, n))
}

// encode writes {"predictions": [...]}: per sample its output (nested by
// the output's shape) or, for several outputs, an object by output name.
func (s *Server) encode(outs [][]float32, n int) []byte {
	buf := make([]byte, 0, 64+n*len(outs)*16)
	buf = append(buf, `{"predictions":[`...)
	for i := 0; i < n; i++ {
		if i > 0 {
			buf = append(buf, ',')
		}
		if len(outs) > 1 {
			buf = append(buf, '{')
		}
		for o, vals := range outs {
			shape := s.batcher.outShape[o]
			row := len(vals) / n
			if len(outs) > 1 {
				if o > 0 {
					buf = append(buf, ',')
				}
				buf = strconv.AppendQuote(buf, s.outNames[o])
				buf = append(buf, ':')
			}
			buf = appendValues(buf, vals[i*row:(i+1)*row], shape)
		}
		if len(outs) > 1 {
			buf = append(buf, '}')
		}
	}
	return append(buf, "]}\n"...)
}

func fail(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Shutdown drains the server, stops the HTTP server srv gracefully (no new
// connections; requests under way finish, up to ctx's deadline) and then
// the prediction workers.
func (s *Server) Shutdown(ctx context.Context, srv *http.Server) error {
	s.Drain()
	err := srv.Shutdown(ctx)
	s.Close()
	return err
}

// ShutdownTimeout is a reasonable bound for Shutdown's context.
const ShutdownTimeout = 10 * time.Second
