package figures

import (
	"context"
	"time"

	"github.com/coachco2/coachco2/pkg/vault"
)

// ChangedSince returns the trips changed after seq, as Refresh reads them, batch changes at a
// time.
func ChangedSince(ctx context.Context, trips *vault.DB, seq string, batch int) ([]string, error) {
	cs, err := changesSince(ctx, trips, seq, batch)
	return cs.changed, err
}

// LockCache takes the figures cache's lock as a writer does, waiting up to wait, and returns
// how to give it up.
func LockCache(ctx context.Context, trips *vault.DB, wait time.Duration) (unlock func(), err error) {
	l, err := lockCache(ctx, trips, wait)
	if err != nil {
		return nil, err
	}
	return func() { l.unlock(ctx) }, nil
}

// SetLockWait sets how long the feed waits for the cache's lock.
func (f *Feed) SetLockWait(d time.Duration) { f.lockWait = d }
