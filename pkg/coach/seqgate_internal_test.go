package coach

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestSeqGateAsksAfterArrival: a request arriving while a question is out waits for the next
// one, asked after it arrived: the answer then covers a write made before the request, which the
// question out may have missed.
func TestSeqGateAsksAfterArrival(t *testing.T) {
	var mu sync.Mutex
	seq := 0 // the store's update sequence
	asked := make(chan struct{}, 10)
	release := make(chan struct{})
	g := &seqGate{read: func() (string, error) {
		mu.Lock()
		s := seq
		mu.Unlock()
		asked <- struct{}{}
		<-release
		return strconv.Itoa(s), nil
	}}
	ctx := t.Context()
	first := make(chan string)
	go func() {
		s, _ := g.seq(ctx)
		first <- s
	}()
	<-asked // the first question is out, and read 0
	mu.Lock()
	seq++ // a write, then requests
	mu.Unlock()
	later := make(chan string, 1)
	bound, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	go func() {
		s, _ := g.seq(ctx)
		later <- s
	}()
	for joined := false; !joined; runtime.Gosched() { // until the request waits for an answer
		select {
		case s := <-later:
			t.Fatalf("a request after the write answered %s with the question out before it", s)
		case <-bound.Done(): // only when broken: a correct gate sets next at once
			t.Fatal("the request after the write never waited for a question of its own")
		default:
		}
		g.mu.Lock()
		joined = g.next != nil
		g.mu.Unlock()
	}
	release <- struct{}{}
	if s := <-first; s != "0" {
		t.Errorf("the first request: %s, want 0", s)
	}
	<-asked // the next question
	release <- struct{}{}
	if s := <-later; s != "1" {
		t.Errorf("a request after the write: sequence %s, want 1", s)
	}
}
