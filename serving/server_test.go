package serving

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keragon/keragon/keras"
	"gorgonia.org/tensor"
)

// mlp is Input(2, 3) → Flatten → Dense(8, relu) → Dense(3, softmax).
func mlp(t testing.TB) *keras.Model {
	t.Helper()
	m := keras.NewSequential(&keras.Input{Shape: []int{2, 3}}, &keras.Flatten{},
		&keras.Dense{Units: 8, Activation: "relu"}, &keras.Dense{Units: 3, Activation: "softmax"})
	m.SetSeed(1)
	if err := m.Compile(keras.CompileConfig{Loss: "sparse_categorical_crossentropy"}); err != nil {
		t.Fatal(err)
	}
	return m
}

// twoHeads has a class head and a (2, 2) map head.
func twoHeads(t testing.TB) *keras.Model {
	t.Helper()
	x := keras.NewInput(4)
	h := keras.Apply(&keras.Dense{Units: 6, Activation: "tanh"}, x)
	cls := keras.Apply(&keras.Dense{Units: 2, Activation: "softmax", Name: "class"}, h)
	grid := keras.Apply(&keras.Reshape{TargetShape: []int{2, 2}}, keras.Apply(&keras.Dense{Units: 4, Name: "grid"}, h))
	m, err := keras.NewModel([]*keras.Tensor{x}, []*keras.Tensor{cls, grid})
	if err != nil {
		t.Fatal(err)
	}
	m.SetSeed(2)
	return m
}

func samples(seed uint64, n, size int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	v := make([]float32, n*size)
	for i := range v {
		v[i] = rng.Float32()*2 - 1
	}
	return v
}

// body writes instances nested as (2, 3) samples.
func body(v []float32, n int) string {
	var sb strings.Builder
	sb.WriteString(`{"instances": [`)
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		s := v[i*6 : (i+1)*6]
		fmt.Fprintf(&sb, "[[%v, %v, %v], [%v, %v, %v]]", s[0], s[1], s[2], s[3], s[4], s[5])
	}
	sb.WriteString("]}")
	return sb.String()
}

func post(t testing.TB, url, b string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url+"/v1/predict", "application/json", strings.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func direct(t testing.TB, m *keras.Model, v []float32, n int, sample ...int) []*tensor.Dense {
	t.Helper()
	x := tensor.New(tensor.WithShape(append([]int{n}, sample...)...), tensor.WithBacking(append([]float32(nil), v...)))
	outs, err := m.PredictMulti([]*tensor.Dense{x})
	if err != nil {
		t.Fatal(err)
	}
	return outs
}

// flatFloats flattens decoded JSON numbers in order.
func flatFloats(v any, out []float32) []float32 {
	switch x := v.(type) {
	case float64:
		return append(out, float32(x))
	case []any:
		for _, e := range x {
			out = flatFloats(e, out)
		}
	}
	return out
}

// TestPredictMatchesModel: the server's answers are bitwise the model's.
func TestPredictMatchesModel(t *testing.T) {
	m := mlp(t)
	srv, err := NewServer(m, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	v := samples(1, 5, 6)
	code, out := post(t, ts.URL, body(v, 5))
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, out)
	}
	var resp struct{ Predictions [][]float64 }
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	want := direct(t, m, v, 5, 2, 3)[0].Data().([]float32)
	got := flatFloats(toAny(resp.Predictions), nil)
	if len(resp.Predictions) != 5 || len(got) != len(want) {
		t.Fatalf("got %d predictions, %d values; want 5, %d", len(resp.Predictions), len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("value %d: %v, want %v", i, got[i], want[i])
		}
	}
	// A flat sample means the same.
	flat := fmt.Sprintf(`{"instances": [[%v, %v, %v, %v, %v, %v]]}`, v[0], v[1], v[2], v[3], v[4], v[5])
	code, out = post(t, ts.URL, flat)
	if code != http.StatusOK {
		t.Fatalf("flat sample: status %d: %s", code, out)
	}
	var one struct{ Predictions [][]float64 }
	if err := json.Unmarshal(out, &one); err != nil {
		t.Fatal(err)
	}
	for j, x := range one.Predictions[0] {
		if float32(x) != want[j] {
			t.Fatalf("flat sample: value %d = %v, want %v", j, x, want[j])
		}
	}
}

func toAny(p [][]float64) any {
	out := make([]any, len(p))
	for i, r := range p {
		row := make([]any, len(r))
		for j, x := range r {
			row[j] = x
		}
		out[i] = row
	}
	return out
}

// TestTwoOutputs: several outputs come back as an object by output name,
// each nested by its shape.
func TestTwoOutputs(t *testing.T) {
	m := twoHeads(t)
	srv, err := NewServer(m, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	v := samples(3, 2, 4)
	code, out := post(t, ts.URL, fmt.Sprintf(`{"instances": [[%v, %v, %v, %v], [%v, %v, %v, %v]]}`, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]))
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, out)
	}
	var resp struct{ Predictions []map[string]any }
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := direct(t, m, v, 2, 4)
	for i, p := range resp.Predictions {
		for o, name := range []string{"class", "reshape"} {
			got := flatFloats(p[name], nil)
			w := want[o].Data().([]float32)
			row := len(w) / 2
			if len(got) != row {
				t.Fatalf("sample %d output %q: %v (response %s)", i, name, got, out)
			}
			for j := range got {
				if got[j] != w[i*row+j] {
					t.Fatalf("sample %d output %q value %d: %v, want %v", i, name, j, got[j], w[i*row+j])
				}
			}
		}
	}
	if !bytes.Contains(out, []byte(`"reshape":[[`)) {
		t.Errorf("the (2, 2) output is not nested: %s", out)
	}
}

// TestBadRequests: each mistake is answered with its status and a message
// that says what is wrong.
func TestBadRequests(t *testing.T) {
	srv, err := NewServer(mlp(t), Config{MaxRequestBytes: 4096, MaxInstances: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	ok := "[[1, 2, 3], [4, 5, 6]]"
	cases := []struct {
		name, body string
		code       int
		want       string
	}{
		{"not JSON", "hello", 400, "must be a JSON object"},
		{"an unknown field", `{"inputs": [` + ok + `]}`, 400, `unknown field "inputs"`},
		{"no instances", `{}`, 400, `no "instances"`},
		{"empty instances", `{"instances": []}`, 400, `"instances" is empty`},
		{"instances not an array", `{"instances": 3}`, 400, `"instances" must be an array`},
		{"a row too short", `{"instances": [[[1, 2], [4, 5, 6]]]}`, 400, "instance 0"},
		{"a row too long", `{"instances": [[[1, 2, 3, 4], [4, 5, 6]]]}`, 400, "more than 3 elements"},
		{"a flat sample too short", `{"instances": [[1, 2, 3, 4, 5]]}`, 400, "instance 0"},
		{"a string", `{"instances": [[[1, "2", 3], [4, 5, 6]]]}`, 400, `want a number at byte`},
		{"beyond float32", `{"instances": [[[1, 1e40, 3], [4, 5, 6]]]}`, 400, "1e40 at byte 6 is not a finite float32"},
		{"NaN", `{"instances": [[[1, NaN, 3], [4, 5, 6]]]}`, 400, "invalid character 'N'"},
		{"a bad number", `{"instances": [[[1, 2.5.1, 3], [4, 5, 6]]]}`, 400, "invalid character '.'"},
		{"too many instances", `{"instances": [` + ok + "," + ok + "," + ok + "," + ok + `]}`, 400, "more than 3 instances"},
		{"data after the object", `{"instances": [` + ok + `]} {}`, 400, "data after the JSON object"},
		{"too large", `{"instances": [` + strings.Repeat(ok+",", 400) + ok + `]}`, 413, "over 4096 bytes"},
	}
	for _, c := range cases {
		code, out := post(t, ts.URL, c.body)
		var e struct{ Error string }
		_ = json.Unmarshal(out, &e)
		if code != c.code || !strings.Contains(e.Error, c.want) {
			t.Errorf("%s: %d %q, want %d and an error containing %q", c.name, code, out, c.code, c.want)
		}
	}
	resp, err := http.Get(ts.URL + "/v1/predict")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /v1/predict: %d, want 405", resp.StatusCode)
	}
}

// TestConcurrentRequests: many clients at once (run with -race) each get
// the model's answer for their own sample, and waiting requests are
// joined into fewer Predict calls.
func TestConcurrentRequests(t *testing.T) {
	m := mlp(t)
	srv, err := NewServer(m, Config{Workers: 1, MaxDelay: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	const clients, each = 16, 5
	v := samples(7, clients*each, 6)
	want := direct(t, m, v, clients*each, 2, 3)[0].Data().([]float32)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < each; r++ {
				i := c*each + r
				code, out := post(t, ts.URL, body(v[i*6:(i+1)*6], 1))
				var resp struct{ Predictions [][]float64 }
				if err := json.Unmarshal(out, &resp); code != 200 || err != nil || len(resp.Predictions) != 1 {
					errs <- fmt.Errorf("client %d: %d %s", c, code, out)
					return
				}
				for j, x := range resp.Predictions[0] {
					if float32(x) != want[i*3+j] {
						errs <- fmt.Errorf("sample %d value %d: %v, want %v", i, j, x, want[i*3+j])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	calls, n, largest := srv.Batcher().Stats()
	t.Logf("%d requests in %d Predict calls, largest batch %d", n, calls, largest)
	if n != clients*each {
		t.Errorf("%d samples predicted, want %d", n, clients*each)
	}
	if largest < 2 {
		t.Errorf("no two requests were joined (largest batch %d)", largest)
	}
}

// TestTimeoutHealthAndClose: a request past its timeout is answered 503;
// the health check turns 503 on Drain; after Close predictions are 503.
func TestTimeoutHealthAndClose(t *testing.T) {
	srv, err := NewServer(mlp(t), Config{Timeout: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	code, out := post(t, ts.URL, body(samples(1, 1, 6), 1))
	if code != http.StatusServiceUnavailable || !strings.Contains(string(out), "timed out") {
		t.Errorf("timeout: %d %s, want 503 timed out", code, out)
	}
	get := func(path string) int {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := get("/healthz"); c != 200 {
		t.Errorf("healthz: %d, want 200", c)
	}
	if c := get("/v1/model"); c != 200 {
		t.Errorf("/v1/model: %d, want 200", c)
	}
	srv.Drain()
	if c := get("/healthz"); c != 503 {
		t.Errorf("healthz while draining: %d, want 503", c)
	}
	srv.Close()
	srv.Close() // twice is fine
	if _, err := srv.Batcher().Predict(context.Background(), samples(1, 1, 6), 1); err != ErrClosed {
		t.Errorf("Predict after Close: %v, want ErrClosed", err)
	}
}

// TestGracefulShutdown: requests under way when Shutdown starts are
// answered; the listener then refuses new ones.
func TestGracefulShutdown(t *testing.T) {
	srv, err := NewServer(mlp(t), Config{Workers: 1, MaxDelay: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	url := "http://" + ln.Addr().String()
	var wg sync.WaitGroup
	codes := make([]int, 4)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = post(t, url, body(samples(uint64(i), 1, 6), 1))
		}()
	}
	time.Sleep(30 * time.Millisecond) // the requests wait in the batcher
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx, hs); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Errorf("request %d under way at shutdown: %d, want 200", i, c)
		}
	}
	if _, err := http.Post(url+"/v1/predict", "application/json", strings.NewReader("{}")); err == nil {
		t.Error("a request after shutdown was accepted")
	}
}

// FuzzParseInstances: no body makes the parser panic or return values that
// do not fill whole samples.
func FuzzParseInstances(f *testing.F) {
	for _, s := range []string{`[[[1,2,3],[4,5,6]]]`, `[[1,2,3,4,5,6],[1,2,3,4,5,6]]`, `[[[1e3,-2.5e-1,0],[4,5,6]]]`, `[`, `[[[`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := parseInstances(b, []int{2, 3}, 100)
		if err != nil {
			return
		}
		if n < 1 || len(v) != 6*n {
			t.Fatalf("%q: %d values for %d samples", b, len(v), n)
		}
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("%q: non-finite %v accepted", b, x)
			}
		}
	})
}

// TestParseInstances checks the parser on its own, beyond what
// encoding/json lets through to it.
func TestParseInstances(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{`[[[1,2,3],[4,5,6]], [1,2,3,4,5,6]]`, 2, ""},
		{` [ [ [ -0.5e1 , 2 , 3 ] , [ 4 , 5 , 6 ] ] ] `, 1, ""},
		{`[[[1,2.5.1,3],[4,5,6]]]`, 0, `"2.5.1" at byte 5 is not a JSON number`},
		{`[[[1,01,3],[4,5,6]]]`, 0, `"01" at byte 5 is not a JSON number`},
		{`[[[1,-,3],[4,5,6]]]`, 0, `"-" at byte 5 is not a JSON number`},
		{`[[[1,2,3],[4,5,6]]] x`, 0, "unexpected data after the instances"},
		{`[[[1,2,3],[4,5,6]]`, 0, `want ']', got the end of the data`},
		{`[[[1,2,3],[4,5,6],[7,8,9]]]`, 0, "more than 2 elements"},
	}
	for _, c := range cases {
		v, n, err := parseInstances([]byte(c.in), []int{2, 3}, 10)
		switch {
		case c.want == "" && (err != nil || n != c.n || len(v) != 6*n):
			t.Errorf("%s: %d samples, %d values, %v; want %d samples", c.in, n, len(v), err, c.n)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want it to contain %q", c.in, err, c.want)
		}
	}
}
