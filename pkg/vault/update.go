package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
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
	// minUnit is the smallest first ceiling; the time the last attempt took
	// is used when longer, so that pauses grow with the machine's load.
	minUnit time.Duration
	// maxPause caps one pause.
	maxPause time.Duration
	// now and sleep are the clock; tests replace them.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

func defaultRetry() conflictRetry {
	return conflictRetry{budget: UpdateBudget, minUnit: 5 * time.Millisecond, maxPause: 2 * time.Second,
		now: time.Now, sleep: sleepCtx}
}

// sleepCtx waits for d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// run calls try until it returns anything but a conflict, and returns that.
// When it gives up, its error starts with op, says after how many attempts
// and matches [ErrConflict]; when ctx ends during a pause, it matches ctx's
// error.
func (r conflictRetry) run(ctx context.Context, op string, try func() error) error {
	start := r.now()
	giveUp := start.Add(r.budget)
	if d, ok := ctx.Deadline(); ok && d.Before(giveUp) {
		giveUp = d
	}
	for attempt := 1; ; attempt++ {
		began := r.now()
		err := try()
		if !errors.Is(err, ErrConflict) {
			return err
		}
		ended := r.now()
		unit := max(r.minUnit, ended.Sub(began))
		ceiling := min(r.maxPause, unit<<min(attempt, 16))
		pause := time.Duration(rand.Int64N(int64(ceiling))) + 1
		if ended.Add(pause).After(giveUp) {
			return fmt.Errorf("%s: still conflicting after %d attempts in %v: %w", op, attempt,
				ended.Sub(start).Round(time.Millisecond), ErrConflict)
		}
		if err := r.sleep(ctx, pause); err != nil {
			return fmt.Errorf("%s: conflicting, then %w", op, err)
		}
	}
}
