package ratelimit_test

import (
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/coachco2/coachco2/pkg/ratelimit"
)

func TestKeyed(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := ratelimit.New(1, 2)
	for i, want := range []bool{true, true, false} {
		if ok, _ := l.Allow("a", now); ok != want {
			t.Fatalf("request %d: %v, want %v", i, ok, want)
		}
	}
	if ok, _ := l.Allow("b", now); !ok {
		t.Fatal("another key shares the bucket")
	}
	// Refused requests take no token: the wait stays one token away.
	for range 3 {
		if ok, wait := l.Allow("a", now); ok || wait != time.Second {
			t.Fatalf("empty bucket: %v, wait %v; want refused, 1s", ok, wait)
		}
	}
	now = now.Add(500 * time.Millisecond)
	if _, wait := l.Allow("a", now); wait != 500*time.Millisecond {
		t.Fatalf("half a token: wait %v", wait)
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.Allow("a", now); !ok {
		t.Fatal("a token after 1s at 1/s: refused")
	}
	l.Forget("a")
	for i := range 2 {
		if ok, _ := l.Allow("a", now); !ok {
			t.Fatalf("after Forget, request %d refused", i)
		}
	}
}

// TestKeyedForgetsIdleKeys: buckets that have refilled are dropped, the others kept.
func TestKeyedForgetsIdleKeys(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := ratelimit.New(rate.Every(time.Hour), 1) // a bucket refills in an hour
	l.Allow("a", now)
	l.Allow("b", now.Add(50*time.Minute))
	l.Allow("c", now.Add(61*time.Minute)) // sweeps: a has refilled, b has not
	if n := l.Len(); n != 2 {
		t.Fatalf("%d buckets kept, want 2 (b and c)", n)
	}
	if ok, _ := l.Allow("b", now.Add(61*time.Minute)); ok {
		t.Fatal("b's bucket was forgotten before it refilled")
	}
}
