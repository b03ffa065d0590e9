package figures

import (
	"context"

	"github.com/coachco2/coachco2/pkg/vault"
)

// ChangedSince returns the trips changed after seq, as Refresh reads them, batch changes at a
// time.
func ChangedSince(ctx context.Context, trips *vault.DB, seq string, batch int) ([]string, error) {
	cs, err := changesSince(ctx, trips, seq, batch)
	return cs.changed, err
}
