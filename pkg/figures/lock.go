package figures

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/coachco2/coachco2/pkg/retry"
	"github.com/coachco2/coachco2/pkg/vault"
)

// The figures cache has writers in several processes: the app's Refresh, and the connector's
// Feed as it writes trips. Each writes under the trips database's lease "figures" (see
// vault.PutLeaseIf), taken with a write at the revision read: of two processes taking it at once,
// one gets a conflict. The holder renews it while it works, so that a process that died holding
// it blocks the others for one lease at most. Through a Cozy stack there is no lease
// (vault.ErrNoLease): there the app's service is the cache's only writer, and Refresh goes on
// without it.

const (
	lockName = "figures"
	// lockLease is how long a lease lasts unless renewed; lockRenew how often the holder renews it.
	lockLease = 30 * time.Second
	lockRenew = lockLease / 3
)

// ErrCacheBusy is returned when another process held the figures cache's lease for longer than
// the caller would wait.
var ErrCacheBusy = errors.New("figures cache: another process is writing it")

// lockDoc is the lease: who holds it, and until when (Unix milliseconds; in the past, free).
type lockDoc struct {
	Owner string `json:"owner"`
	Until int64  `json:"until"`
}

// cacheLock is a lease held; nil where there is none (through a Cozy stack).
type cacheLock struct {
	trips *vault.DB
	owner string
	stop  chan struct{}
	done  chan struct{}

	mu    sync.Mutex
	rev   string    // of the lease document as last written
	until time.Time // the lease's end as last written
	lost  bool      // another process took it
}

// lockCache takes the figures cache's lease, waiting (with backoff) up to wait for a holder to
// give it up or its lease to run out. Through a Cozy stack it returns a nil lock, and
// vault.ErrNoLease.
func lockCache(ctx context.Context, trips *vault.DB, wait time.Duration) (*cacheLock, error) {
	l := &cacheLock{trips: trips, owner: newOwner(), stop: make(chan struct{}), done: make(chan struct{})}
	var holder string
	p := retry.Policy{Initial: 20 * time.Millisecond, Max: time.Second, Jitter: retry.FullJitter, Budget: wait,
		Retryable: func(err error) bool { return errors.Is(err, ErrCacheBusy) }}
	err := retry.Do(ctx, p, func(int) error {
		var err error
		holder, err = l.try(ctx)
		return err
	})
	if errors.Is(err, vault.ErrNoLease) {
		return nil, err
	}
	if errors.Is(err, ErrCacheBusy) {
		return nil, fmt.Errorf("%w (%s has held it for over %v; it is given up %v after its holder stops)", ErrCacheBusy, holder, wait, lockLease)
	}
	if err != nil {
		return nil, fmt.Errorf("figures cache: take its lock: %w", err)
	}
	go l.renewing()
	return l, nil
}

// try takes the lease if it is free or ran out, and otherwise returns ErrCacheBusy and who holds it.
func (l *cacheLock) try(ctx context.Context) (holder string, err error) {
	var cur lockDoc
	rev, err := l.trips.GetLease(ctx, lockName, &cur)
	if err != nil && !errors.Is(err, vault.ErrNotFound) {
		return "", err
	}
	now := time.Now()
	if rev != "" && cur.Until > now.UnixMilli() {
		return cur.Owner, ErrCacheBusy
	}
	until := now.Add(lockLease)
	rev, err = l.trips.PutLeaseIf(ctx, lockName, rev, lockDoc{Owner: l.owner, Until: until.UnixMilli()})
	if errors.Is(err, vault.ErrConflict) {
		return "another process", ErrCacheBusy // it took the lease first
	}
	if err != nil {
		return "", err
	}
	l.rev, l.until = rev, until
	return "", nil
}

// renewing renews the lease every lockRenew until unlock.
func (l *cacheLock) renewing() {
	defer close(l.done)
	t := time.NewTicker(lockRenew)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			if !l.renew(context.Background()) {
				return
			}
		}
	}
}

// renew extends the lease, and says whether it is still held. A failed write leaves it held
// until its end: the next tick tries again.
func (l *cacheLock) renew(ctx context.Context) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost {
		return false
	}
	until := time.Now().Add(lockLease)
	rev, err := l.trips.PutLeaseIf(ctx, lockName, l.rev, lockDoc{Owner: l.owner, Until: until.UnixMilli()})
	switch {
	case errors.Is(err, vault.ErrConflict):
		l.lost = true
	case err == nil:
		l.rev, l.until = rev, until
	}
	return !l.lost
}

// held says whether the lease is still this process's (always, without a lease): a writer checks
// it before what makes its writes count (a checkpoint).
func (l *cacheLock) held() bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.lost && time.Now().Before(l.until)
}

// unlock gives the lease up (even when ctx is done: others should not wait for it to run out).
func (l *cacheLock) unlock(ctx context.Context) {
	if l == nil {
		return
	}
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.lost {
		// A conflict means another took it over: nothing to give up.
		_, _ = l.trips.PutLeaseIf(context.WithoutCancel(ctx), lockName, l.rev, lockDoc{Owner: l.owner})
	}
}

// newOwner names a lease holder: the host and process, for whoever finds the cache busy, and a
// random part, so that two holders never share a name.
func newOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s pid %d (%s)", host, os.Getpid(), hex.EncodeToString(b))
}
