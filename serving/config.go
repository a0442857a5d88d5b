package serving

import (
	"math"
	"runtime"
	"time"

	"github.com/pkg/errors"
)

// Config sets a server's limits. The zero value of a field means its
// default.
type Config struct {
	// MaxBatch is the most samples one Predict call takes (default 64):
	// queued requests are joined up to it, and larger requests are split
	// into batches of it. 1 turns dynamic batching off.
	MaxBatch int
	// MaxDelay is how long a worker holding fewer than MaxBatch samples
	// waits for more requests before predicting (default 0: it never
	// waits; requests still join when they queue while workers are busy).
	MaxDelay time.Duration
	// Workers is the number of Predict calls running at once (default
	// GOMAXPROCS).
	Workers int
	// MaxRequestBytes bounds a request body (default 8 MiB); a larger one
	// is answered 413.
	MaxRequestBytes int64
	// MaxInstances bounds the samples of one request (default 1024).
	MaxInstances int
	// Timeout bounds the handling of one request, queueing included
	// (default 30 s); past it the answer is 503.
	Timeout time.Duration
}

func (c *Config) fill() error {
	if c.MaxBatch < 0 || c.Workers < 0 || c.MaxRequestBytes < 0 || c.MaxInstances < 0 || c.MaxDelay < 0 || c.Timeout < 0 {
		return errors.Errorf("serving: negative limit in %+v", *c)
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = 64
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = 8 << 20
	}
	if c.MaxInstances == 0 {
		c.MaxInstances = 1024
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.MaxBatch > math.MaxInt32 || c.MaxInstances > math.MaxInt32 {
		return errors.Errorf("serving: MaxBatch %d or MaxInstances %d is too large", c.MaxBatch, c.MaxInstances)
	}
	return nil
}
