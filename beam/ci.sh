#!/usr/bin/env bash
# CI for the Beam adapter, a Go module of its own (github.com/keragon/keragon/beam):
# vet (staticcheck: run it by hand, it analyses all of Beam), then the tests on Apache Beam's Prism runner — in this process and with
# worker processes (they build Beam's boot program with the go command).
# Needs only Go 1.26 and the module proxy: no Docker, JVM or cgo.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="/usr/local/go/bin:$PATH"
go version
go mod download
go vet ./...
go test -timeout 15m ./...
