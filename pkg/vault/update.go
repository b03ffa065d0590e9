package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/coachco2/coachco2/pkg/retry"
)

// UpdateBudget bounds the time [Update] and [DB.PutLocal] spend retrying a
// write that keeps conflicting. Only a document that many writers hammer at
// once comes near it; without conflicts there is no pause at all.
const UpdateBudget = 30 * time.Second

// Update reads the document id into a T, lets merge change it, and writes it
// back with the revision it read (optimistic concurrency). When someone else
// wrote the document in between (409 conflict), it reads it again and
// re-applies merge, after a random pause (full jitter) whose ceiling doubles
// with each conflict, starting from the time an attempt took, up to 2 s a
// pause. It gives up with an error matching [ErrConflict] when the next pause
// would end past [UpdateBudget] or past ctx's deadline; a cancelled ctx ends
// it at once.
//
// merge receives the zero T and found == false when the document does not
// exist (Update then creates it); it must be safe to call several times and
// must not keep the pointer. An error from merge stops Update and is
// returned as is, with nothing written. The "_id" and "_rev" of the written
// document are set by Update, so T needs neither field. Update returns the
// new revision. With a [Policy], Update needs GET and PUT on the doctype.
func Update[T any](ctx context.Context, db *DB, id string, merge func(doc *T, found bool) error) (rev string, err error) {
	return update(ctx, db, id, merge, defaultRetry())
}

func update[T any](ctx context.Context, db *DB, id string, merge func(doc *T, found bool) error, r conflictRetry) (rev string, err error) {
	if id == "" {
		return "", fmt.Errorf("vault: update in %s: empty document id", db.name)
	}
	if err := db.allow(http.MethodGet); err != nil {
		return "", err
	}
	if err := db.allow(http.MethodPut); err != nil {
		return "", err
	}
	var mergeErr error
	err = r.run(ctx, fmt.Sprintf("vault: %s: update %q in %s", db.v.loc, id, db.name), func() error {
		var doc T
		current, err := db.get(ctx, id, &doc)
		found := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := merge(&doc, found); err != nil {
			mergeErr = err
			return errMerge // never retried, even if it matches ErrConflict
		}
		body, err := withIDRev(doc, id, current)
		if err != nil {
			return fmt.Errorf("vault: update %q in %s: %w", id, db.name, err)
		}
		rev, err = db.put(ctx, id, json.RawMessage(body))
		return err
	})
	if mergeErr != nil {
		return "", mergeErr
	}
	if err != nil {
		return "", err
	}
	return rev, nil
}

// errMerge stops [conflictRetry.run] when merge failed.
var errMerge = errors.New("merge failed")

// conflictRetry is how [Update] and [DB.PutLocal] retry a write that
// conflicts: full jitter over an exponential ceiling, so that concurrent
// writers spread out, within a time budget.
type conflictRetry struct {
	// budget is the total time before giving up.
	budget time.Duration
	// clock is the real one unless a test replaces it.
	clock retry.Clock
}

// The pauses of a conflicting write: the first ceiling is the time the
// attempt took, at least firstPause, so that pauses grow with the machine's
// load; a pause is at most maxPause.
const (
	firstPause = 10 * time.Millisecond
	maxPause   = 2 * time.Second
)

func defaultRetry() conflictRetry { return conflictRetry{budget: UpdateBudget} }

// run calls try until it returns anything but a conflict, and returns that.
// When it gives up, its error starts with op, says after how many attempts
// and matches [ErrConflict]; when ctx ends during a pause, it matches ctx's
// error.
func (r conflictRetry) run(ctx context.Context, op string, try func() error) error {
	now := time.Now
	if r.clock != nil {
		now = r.clock.Now
	}
	start := now()
	attempts := 0
	err := retry.Do(ctx, retry.Policy{
		Initial:        firstPause,
		Max:            maxPause,
		Jitter:         retry.FullJitter,
		ScaleToAttempt: true,
		Budget:         r.budget,
		Retryable:      func(err error) bool { return errors.Is(err, ErrConflict) },
		Clock:          r.clock,
	}, func(attempt int) error {
		attempts = attempt
		return try()
	})
	var in *retry.Interrupted
	switch {
	case errors.As(err, &in):
		return fmt.Errorf("%s: conflicting, then %w", op, in.Cause)
	case errors.Is(err, ErrConflict):
		return fmt.Errorf("%s: still conflicting after %d attempts in %v: %w", op, attempts,
			now().Sub(start).Round(time.Millisecond), ErrConflict)
	}
	return err
}
