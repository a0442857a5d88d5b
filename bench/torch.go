package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// torchPackage is the Debian package that gives /usr/bin/python3 torch.
const torchPackage = "python3-torch"

// probeTorch reports whether python can import torch, and if not, why, in
// a few words (the last line of Python's error, or the exec failure).
func probeTorch(python string) (ok bool, why string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, python, "-c", "import torch")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if msg := lastLines(strings.TrimSpace(stderr.String()), 1); msg != "" {
			return false, msg
		}
		return false, err.Error()
	}
	return true, ""
}

// torchAvailable probes python for torch; when it is missing it installs
// python3-torch if install is set, else writes one line to w saying what
// to install, and reports whether the PyTorch side can run.
func torchAvailable(python string, install bool, w io.Writer) bool {
	ok, why := probeTorch(python)
	if ok {
		return true
	}
	if install {
		fmt.Fprintf(w, "bench: %s cannot import torch (%s): installing %s with apt-get\n", python, why, torchPackage)
		if err := aptInstall(torchPackage); err != nil {
			fmt.Fprintf(w, "bench: installing %s failed (%v); measuring Keragon only\n", torchPackage, err)
			return false
		}
		if ok, why = probeTorch(python); ok {
			return true
		}
		fmt.Fprintf(w, "bench: %s still cannot import torch (%s); measuring Keragon only\n", python, why)
		return false
	}
	fmt.Fprintf(w, "bench: %s cannot import torch (%s): install it with `sudo apt-get install %s` or rerun with -install-torch; measuring Keragon only (-notorch skips this check)\n", python, why, torchPackage)
	return false
}

// aptInstall installs Debian packages, through sudo unless root.
func aptInstall(pkgs ...string) error {
	var prefix []string
	if os.Geteuid() != 0 {
		prefix = []string{"sudo"}
	}
	run := func(args ...string) error {
		args = append(prefix, args...)
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	}
	if err := run("apt-get", "update", "-qq"); err != nil {
		return err
	}
	return run(append([]string{"apt-get", "install", "-y", "-qq", "--no-install-recommends"}, pkgs...)...)
}
