package vault

import (
	"context"
	"time"
)

// UpdateWithin is [Update] with a budget of its own, so that tests of giving
// up do not wait for [UpdateBudget].
func UpdateWithin[T any](ctx context.Context, db *DB, id string, merge func(doc *T, found bool) error, budget time.Duration) (string, error) {
	r := defaultRetry()
	r.budget = budget
	return update(ctx, db, id, merge, r)
}
