// Package syncbuf provides [Buffer], a bytes.Buffer that goroutines may write to while others
// read it: for tests that read what a server or a command writes from goroutines of its own, and
// wait for a line to appear without polling.
package syncbuf

import (
	"bytes"
	"slices"
	"sync"
)

// Buffer is a bytes.Buffer safe for concurrent use. The zero value is an empty buffer ready to use.
type Buffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	waiters []waiter
}

// waiter is a channel to close once the buffer holds s.
type waiter struct {
	s    string
	held chan struct{}
}

// Write appends p to the buffer, and closes the channels of [Buffer.Holds] that it now satisfies.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	b.waiters = slices.DeleteFunc(b.waiters, func(w waiter) bool {
		if !bytes.Contains(b.buf.Bytes(), []byte(w.s)) {
			return false
		}
		close(w.held)
		return true
	})
	return n, err
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Holds returns a channel that is closed once the buffer holds s: at once if it already does.
func (b *Buffer) Holds(s string) <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	held := make(chan struct{})
	if bytes.Contains(b.buf.Bytes(), []byte(s)) {
		close(held)
		return held
	}
	b.waiters = append(b.waiters, waiter{s: s, held: held})
	return held
}
