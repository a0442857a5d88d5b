package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakePython writes a shell script standing in for Python: it exits with
// code after writing stderr.
func fakePython(t *testing.T, stderr string, code int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "python3")
	script := "#!/bin/sh\nprintf '%s' '" + stderr + "' >&2\nexit " + strconv.Itoa(code) + "\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProbeTorch(t *testing.T) {
	traceback := "Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\nModuleNotFoundError: No module named torch\n"
	for _, c := range []struct {
		name    string
		python  string
		ok      bool
		wantWhy string
	}{
		{"torch imports", fakePython(t, "", 0), true, ""},
		{"no torch module", fakePython(t, traceback, 1), false, "ModuleNotFoundError: No module named torch"},
		{"no python", filepath.Join(t.TempDir(), "python3"), false, "no such file"},
	} {
		ok, why := probeTorch(c.python)
		if ok != c.ok || !strings.Contains(why, c.wantWhy) || (c.ok && why != "") {
			t.Errorf("%s: probeTorch = %v, %q; want %v and a reason containing %q", c.name, ok, why, c.ok, c.wantWhy)
		}
	}
}

// TestTorchMissingSaysWhatToInstall checks that a missing torch gives one
// line naming the package, no traceback, and a Keragon-only run.
func TestTorchMissingSaysWhatToInstall(t *testing.T) {
	python := fakePython(t, "Traceback (most recent call last):\nModuleNotFoundError: No module named torch\n", 1)
	var buf bytes.Buffer
	if torchAvailable(python, false, &buf) {
		t.Fatal("torchAvailable = true for a Python without torch")
	}
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "apt-get install python3-torch") ||
		!strings.Contains(out, "Keragon only") || strings.Contains(out, "Traceback") {
		t.Errorf("message %q: want one line naming python3-torch, saying Keragon only, without the traceback", out)
	}
	buf.Reset()
	if !torchAvailable(fakePython(t, "", 0), false, &buf) || buf.Len() != 0 {
		t.Errorf("Python with torch: torchAvailable false or a message %q", buf.String())
	}
}
