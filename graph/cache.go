package graph

import (
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
	return [...]string{"predict", "evaluate", "fit"}[m]
}

// Key names one program of a model.
type Key struct {
	Mode  Mode
	Batch int
}

// A Cache builds each program once and keeps it.
type Cache struct {
	build func(Key) (*Program, error)
	mu    sync.Mutex
	progs map[Key]*Program
}

// NewCache returns a cache that builds missing programs with build.
func NewCache(build func(Key) (*Program, error)) *Cache {
	return &Cache{build: build, progs: map[Key]*Program{}}
}

// Get returns the program for k, building it on first use.
func (c *Cache) Get(k Key) (*Program, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.progs[k]; ok {
		return p, nil
	}
	if k.Batch <= 0 {
		return nil, errors.Errorf("graph: batch size must be positive, got %d", k.Batch)
	}
	p, err := c.build(k)
	if err != nil {
		return nil, err
	}
	c.progs[k] = p
	return p, nil
}

// Len is the number of programs built.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.progs)
}

// Clear closes and forgets every program (after the model changes).
func (c *Cache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, p := range c.progs {
		p.Close()
		delete(c.progs, k)
	}
}
