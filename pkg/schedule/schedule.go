// Package schedule runs periodic jobs: one job ([Periodic]), or one for each of a changing set of
// keys (the accounts of a vault, say), each key in its own loop, so that a job that is slow or
// hangs delays only its own key: the others keep their interval ([Every]).
package schedule

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// Job does one run for key. deadline is when the key's next run is due: a job should stop by
// then (a job still running then is not cancelled, its next run just waits for it).
type Job func(ctx context.Context, key string, deadline time.Time)

// Keys returns the keys to run; Every calls it at each interval, so that added keys start and
// removed keys stop. An error is reported to onErr, and the keys running go on.
type Keys func(ctx context.Context) ([]string, error)

// Every runs job for every key at once, then again every interval plus a random jitter of up to a
// tenth of it (so that many keys, or many machines, do not hit a server together), each key on
// its own schedule. A removed key's context is cancelled. Every returns when ctx ends, once the
// running jobs have returned.
func Every(ctx context.Context, interval time.Duration, keys Keys, job Job, onErr func(error)) {
	var wg sync.WaitGroup
	defer wg.Wait()
	running := map[string]context.CancelFunc{}
	defer func() {
		for _, cancel := range running {
			cancel()
		}
	}()
	for {
		ks, err := keys(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			onErr(err)
		default:
			present := make(map[string]bool, len(ks))
			for _, k := range ks {
				present[k] = true
				if _, ok := running[k]; ok {
					continue
				}
				kctx, cancel := context.WithCancel(ctx)
				running[k] = cancel
				wg.Go(func() { loop(kctx, interval, k, job) })
			}
			for k, cancel := range running {
				if !present[k] {
					cancel()
					delete(running, k)
				}
			}
		}
		if !wait(ctx, interval) {
			return
		}
	}
}

// Periodic runs job at once, then again every interval plus a random jitter of up to a tenth of
// it, until ctx ends; deadline is when the next run is due (see [Job]). It returns when ctx ends,
// once the running job has returned.
func Periodic(ctx context.Context, interval time.Duration, job func(ctx context.Context, deadline time.Time)) {
	loop(ctx, interval, "", func(ctx context.Context, _ string, deadline time.Time) { job(ctx, deadline) })
}

// loop runs one key's job at its interval until ctx ends.
func loop(ctx context.Context, interval time.Duration, key string, job Job) {
	for {
		next := time.Now().Add(interval + jitter(interval))
		job(ctx, key, next)
		if !wait(ctx, time.Until(next)) {
			return
		}
	}
}

func jitter(interval time.Duration) time.Duration {
	return time.Duration(rand.Int64N(int64(interval/10) + 1))
}

// wait waits for d, and reports false when ctx ended first.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
