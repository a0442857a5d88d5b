package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/serving"
	"github.com/pkg/errors"
)

// The serving workloads (Keragon only: PyTorch has no serving counterpart
// in torch_bench.py): the model behind serving.Server on a loopback
// listener, clients in this process each sending one image per request,
// as many requests as they can for a fixed time; requests per second and
// the latency's median and 99th percentile at 1, 8 and 64 clients, with
// dynamic batching and, at 64 clients, without it (MaxBatch 1); and beside
// them the same model's Predict throughput at batch p.batch. Clients and
// server share the machine's cores.

// serveLevels are the client counts measured.
var serveLevels = []int{1, 8, 64}

func runServe(p params, m *keras.Model, shape []int) (map[string]any, error) {
	if err := m.Compile(keras.CompileConfig{Loss: "sparse_categorical_crossentropy"}); err != nil {
		return nil, err
	}
	res, err := runInfer(params{samples: min(p.samples, 10000), batch: p.batch, seed: p.seed}, m, shape)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"predict_images_per_second": res["images_per_second"]}
	// p.samples sets the time per level: 1 s per 1,000 (at least 2 s).
	dur := time.Duration(max(2000, p.samples)) * time.Millisecond
	bodies := requestBodies(64, shape, p.seed)
	for _, batching := range []bool{true, false} {
		for _, clients := range serveLevels {
			if !batching && clients != 64 {
				continue
			}
			cfg := serving.Config{}
			suffix := fmt.Sprintf("c%d", clients)
			if !batching {
				cfg.MaxBatch = 1
				suffix += "_nobatch"
			}
			r, err := loadServer(m, cfg, bodies, clients, dur)
			if err != nil {
				return nil, errors.WithMessagef(err, "%d clients", clients)
			}
			for k, v := range r {
				out[k+"_"+suffix] = v
			}
		}
	}
	out["requests_per_second"] = out["requests_per_second_c64"]
	return out, nil
}

// requestBodies makes n one-image request bodies of random pixels.
func requestBodies(n int, shape []int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 9))
	size := 1
	for _, d := range shape {
		size *= d
	}
	out := make([][]byte, n)
	for i := range out {
		b := []byte(`{"instances":[[`)
		for j := 0; j < size; j++ {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendFloat(b, float64(rng.Float32()), 'g', 4, 32)
		}
		out[i] = append(b, "]]}"...)
	}
	return out
}

// loadServer serves m and runs clients for dur, each sending one request
// at a time; it returns requests per second and latency percentiles in ms.
func loadServer(m *keras.Model, cfg serving.Config, bodies [][]byte, clients int, dur time.Duration) (map[string]any, error) {
	srv, err := serving.NewServer(m, cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return nil, errors.Wrap(err, "bench: listening on loopback")
	}
	hs := &http.Server{Handler: srv}
	go func() { _ = hs.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), serving.ShutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx, hs)
	}()
	url := "http://" + ln.Addr().String() + "/v1/predict"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	send := func(body []byte) error {
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return errors.Errorf("bench: the server answered %d", resp.StatusCode)
		}
		return nil
	}
	// Warm up: every program size the batcher may use gets built.
	for i := 0; i < clients; i++ {
		if err := send(bodies[i%len(bodies)]); err != nil {
			return nil, err
		}
	}
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(dur)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := c; time.Now().Before(deadline); i++ {
				t0 := time.Now()
				if err := send(bodies[i%len(bodies)]); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return nil, firstErr
	}
	if len(lat) == 0 {
		return nil, errors.New("bench: no request completed")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))]) / float64(time.Millisecond)
	}
	calls, samples, _ := srv.Batcher().Stats()
	return map[string]any{
		"requests_per_second": float64(len(lat)) / elapsed.Seconds(),
		"p50_ms":              pct(0.50), "p99_ms": pct(0.99),
		"mean_batch": float64(samples) / float64(max(calls, 1)),
	}, nil
}

// serveKeys are the serving figures the report lists, by client count.
var serveKeys = func() []string {
	keys := []string{"predict_images_per_second"}
	for _, c := range []string{"c1", "c8", "c64", "c64_nobatch"} {
		for _, k := range []string{"requests_per_second", "p50_ms", "p99_ms", "mean_batch"} {
			keys = append(keys, k+"_"+c)
		}
	}
	return keys
}()
