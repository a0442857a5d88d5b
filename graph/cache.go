package graph

import (
	"runtime"
	"sync"

	"github.com/pkg/errors"
)

// Mode says what a program is for.
type Mode int

const (
	// Predict programs compute the outputs only.
	Predict Mode = iota
	// Evaluate programs also compute the loss, in the inference phase.
	Evaluate
	// Fit programs compute the loss and its gradient in the training phase.
	Fit
)

// Phase is the phase layers see in a program of this mode.
func (m Mode) Phase() Phase {
	if m == Fit {
		return Train
	}
	return Infer
}

func (m Mode) String() string {
	if m < Predict || m > Fit {
		return "mode(?)"
	}
	return [...]string{"predict", "evaluate", "fit"}[m]
}

// Key names one program of a model.
type Key struct {
	Mode  Mode
	Batch int
}

// Default bounds of a Cache.
const (
	// DefaultMaxKeys is the number of (mode, batch size) keys whose idle
	// programs a Cache keeps; the least recently used key's are closed
	// beyond it.
	DefaultMaxKeys = 16
)

// DefaultMaxIdle is the number of idle programs a Cache keeps per key:
// GOMAXPROCS at start, at least 2.
var DefaultMaxIdle = max(2, runtime.GOMAXPROCS(0))

// A Cache builds programs on demand and lends them out: a program Get
// returns belongs to the caller alone until it gives it back with Put, so
// several goroutines can run programs of the same key at once, each its own.
// What a Cache keeps is bounded: at most MaxIdle idle programs per key, and
// idle programs for at most MaxKeys keys (the least recently used key's
// programs are closed first). Programs lent out are not counted: their
// number is that of the callers holding one.
//
// A Cache is safe for concurrent use.
type Cache struct {
	build func(Key) (*Program, error)

	mu      sync.Mutex
	maxKeys int
	maxIdle int
	gen     uint64 // bumped by Clear: older programs are closed when put back
	clock   uint64
	entries map[Key]*entry
	builds  int
}

type entry struct {
	idle    []*Program
	lastUse uint64
}

// NewCache returns a cache that builds missing programs with build, with the
// default bounds.
func NewCache(build func(Key) (*Program, error)) *Cache {
	return &Cache{build: build, maxKeys: DefaultMaxKeys, maxIdle: DefaultMaxIdle,
		entries: map[Key]*entry{}}
}

// SetLimits changes the bounds: idle programs kept per key (≥ 1) and keys
// kept (≥ 1). Programs beyond the new bounds are closed.
func (c *Cache) SetLimits(maxIdle, maxKeys int) error {
	if maxIdle < 1 || maxKeys < 1 {
		return errors.Errorf("graph: cache limits must be at least 1, got %d idle programs per key and %d keys", maxIdle, maxKeys)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.maxIdle, c.maxKeys = maxIdle, maxKeys
	for _, e := range c.entries {
		for len(e.idle) > maxIdle {
			closeProgram(e.idle[len(e.idle)-1])
			e.idle = e.idle[:len(e.idle)-1]
		}
	}
	c.evict()
	return nil
}

// Get lends the program for k, building one when none is idle. Give it back
// with Put when done; a program never put back is simply not reused.
func (c *Cache) Get(k Key) (*Program, error) {
	if k.Batch <= 0 {
		return nil, errors.Errorf("graph: batch size must be positive, got %d", k.Batch)
	}
	c.mu.Lock()
	c.clock++
	e := c.entries[k]
	if e != nil {
		e.lastUse = c.clock
		if n := len(e.idle); n > 0 {
			p := e.idle[n-1]
			e.idle[n-1] = nil
			e.idle = e.idle[:n-1]
			p.lent = true
			c.mu.Unlock()
			return p, nil
		}
	}
	gen := c.gen
	c.builds++
	c.mu.Unlock()
	// Build outside the lock: other keys (and other idle programs) stay
	// available meanwhile.
	p, err := c.build(k)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errors.Errorf("graph: building the %s program for batch %d returned nothing", k.Mode, k.Batch)
	}
	c.mu.Lock()
	p.key, p.owner, p.gen, p.lent = k, c, gen, true
	c.mu.Unlock()
	return p, nil
}

// Put gives back a program Get lent. It is kept for the next Get of its key
// unless the cache was cleared since, or already keeps enough; then it is
// closed.
func (c *Cache) Put(p *Program) {
	if p == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p.owner != c || !p.lent {
		return // not ours, or put back twice
	}
	p.lent = false
	if p.gen != c.gen {
		closeProgram(p)
		return
	}
	c.clock++
	e := c.entries[p.key]
	if e == nil {
		e = &entry{}
		c.entries[p.key] = e
	}
	e.lastUse = c.clock
	if len(e.idle) >= c.maxIdle {
		closeProgram(p)
		return
	}
	e.idle = append(e.idle, p)
	c.evict()
}

// evict closes the idle programs of the least recently used keys beyond
// maxKeys. c.mu is held.
func (c *Cache) evict() {
	for len(c.entries) > c.maxKeys {
		var oldest Key
		var found bool
		var when uint64
		for k, e := range c.entries {
			if !found || e.lastUse < when {
				oldest, when, found = k, e.lastUse, true
			}
		}
		for _, p := range c.entries[oldest].idle {
			closeProgram(p)
		}
		delete(c.entries, oldest)
	}
}

// Len is the number of idle programs kept.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, e := range c.entries {
		n += len(e.idle)
	}
	return n
}

// Builds is the number of programs built so far.
func (c *Cache) Builds() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.builds
}

// Clear closes and forgets every idle program (after the model changes);
// programs lent out are closed when they are put back.
func (c *Cache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, e := range c.entries {
		for _, p := range e.idle {
			closeProgram(p)
		}
		delete(c.entries, k)
	}
}

func closeProgram(p *Program) {
	_ = p.Close() // a TapeMachine's Close releases memory; it cannot fail
}
