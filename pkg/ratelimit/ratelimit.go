// Package ratelimit limits requests per client: a token bucket ([golang.org/x/time/rate]) per
// key, such as an IP address, kept in memory. Buckets that have refilled are forgotten, since a
// new one is the same: memory grows only with the clients active in the last minutes.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// sweepEvery is how often, at most, the refilled buckets are forgotten.
const sweepEvery = time.Minute

// Keyed is a token bucket per key: each key may make burst requests at once, and r per second
// on average. It is safe for concurrent use. The caller gives the time of each request, so that
// tests can run it on their own clock.
type Keyed struct {
	limit rate.Limit
	burst int

	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
	lastSweep time.Time
}

// New returns a limiter allowing each key burst requests at once (at least 1) and r per second
// on average.
func New(r rate.Limit, burst int) *Keyed {
	return &Keyed{limit: r, burst: max(burst, 1), buckets: map[string]*rate.Limiter{}}
}

// Allow takes a token from key's bucket at now. When there is none, it takes nothing and
// returns false and how long until there is one.
func (k *Keyed) Allow(key string, now time.Time) (ok bool, wait time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sweep(now)
	b, found := k.buckets[key]
	if !found {
		b = rate.NewLimiter(k.limit, k.burst)
		k.buckets[key] = b
	}
	r := b.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now) // a refused request costs no token
		return false, wait
	}
	return true, 0
}

// Forget drops key's bucket: its next request finds a full one.
func (k *Keyed) Forget(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.buckets, key)
}

// Len returns how many keys have a bucket.
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}

// sweep forgets, at most once per sweepEvery, the buckets that have refilled; k.mu is held.
func (k *Keyed) sweep(now time.Time) {
	if now.Sub(k.lastSweep) < sweepEvery {
		return
	}
	k.lastSweep = now
	for key, b := range k.buckets {
		if b.TokensAt(now) >= float64(k.burst) {
			delete(k.buckets, key)
		}
	}
}
