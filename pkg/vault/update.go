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

// UpdateAttempts is how many times [Update] reads, merges and writes a
// document before it gives up on conflicts.
const UpdateAttempts = 10

// Update reads the document id into a T, lets merge change it, and writes it
// back with the revision it read (optimistic concurrency). When someone else
// wrote the document in between (409 conflict), it reads it again and
// re-applies merge, up to [UpdateAttempts] times with a random pause that
// grows with each attempt (at most a second), then returns an error matching [ErrConflict].
//
// merge receives the zero T and found == false when the document does not
// exist (Update then creates it); it must be safe to call several times and
// must not keep the pointer. An error from merge stops Update and is
// returned as is, with nothing written. The "_id" and "_rev" of the written
// document are set by Update, so T needs neither field. Update returns the
// new revision. With a [Policy], Update needs GET and PUT on the doctype.
func Update[T any](ctx context.Context, db *DB, id string, merge func(doc *T, found bool) error) (rev string, err error) {
	if id == "" {
		return "", fmt.Errorf("vault: update in %s: empty document id", db.name)
	}
	if err := db.allow(http.MethodGet); err != nil {
		return "", err
	}
	if err := db.allow(http.MethodPut); err != nil {
		return "", err
	}
	for attempt := 1; ; attempt++ {
		var doc T
		current, err := db.get(ctx, id, &doc)
		found := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", err
		}
		if err := merge(&doc, found); err != nil {
			return "", err
		}
		body, err := withIDRev(doc, id, current)
		if err != nil {
			return "", fmt.Errorf("vault: update %q in %s: %w", id, db.name, err)
		}
		rev, err = db.put(ctx, id, json.RawMessage(body))
		if !errors.Is(err, ErrConflict) {
			return rev, err
		}
		if attempt == UpdateAttempts {
			return "", fmt.Errorf("vault: %s: update %q in %s: still conflicting after %d attempts: %w",
				db.v.loc, id, db.name, UpdateAttempts, ErrConflict)
		}
		// Random exponential backoff, so that concurrent writers spread out.
		pause := time.Duration(rand.Int64N(int64(min(5*time.Millisecond<<attempt, time.Second))))
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("vault: update %q in %s: %w", id, db.name, ctx.Err())
		case <-time.After(pause):
		}
	}
}
