package experiment

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestExamples runs the README's example experiments (../examples) on
// Prism in this process.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	for _, f := range files {
		e, err := ReadFile(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		res, err := Run(ctx, e, t.TempDir())
		if err != nil {
			t.Errorf("%s: %+v", f, err)
			continue
		}
		if ok := res.Test != nil || res.CrossValidation != nil || res.GridSearch != nil; !ok || res.Kind != e.Kind() {
			t.Errorf("%s: a %s result without its figures: %+v", f, res.Kind, res)
		}
		t.Logf("%s: %d jobs in %.2fs", filepath.Base(f), len(res.Jobs), res.Seconds)
	}
}

// TestPrismBootScript: scripts/prism-boot.sh strips the quotes Prism puts
// around the worker id, keeps the other arguments, and adds the
// semi-persistent directory.
func TestPrismBootScript(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "boot")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join("..", "scripts", "prism-boot.sh"), "--id='job-001[go job 1]_go'", "--provision_endpoint=localhost:1")
	cmd.Env = append(os.Environ(), "BEAM_BOOT="+fake, "BEAM_SEMI_PERSIST_DIR="+dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "--id=job-001[go job 1]_go\n--provision_endpoint=localhost:1\n--semi_persist_dir=" + dir + "\n"
	if string(out) != want {
		t.Errorf("the boot program got\n%s\nwant\n%s", out, want)
	}
	if strings.Contains(string(out), "'") {
		t.Error("quotes left in the worker id")
	}
}
