package tripsync

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
)

// span is a stored trip's id and time span.
type span struct {
	ID     string          `json:"_id"`
	Server trip.ServerInfo `json:"openpath"`
}

// errNoChange tells vault.Update that there is nothing to write.
var errNoChange = errors.New("no change")

// readLabels reads a window's label entries; those that cannot be read are reported.
func (r *run) readLabels(entries []openpath.Entry) []accounts.PendingLabel {
	var labels []accounts.PendingLabel
	for _, e := range entries {
		l, err := e.Label()
		if err != nil {
			r.sum.Errors = append(r.sum.Errors, TripError{Kind: ErrorLabel, TripID: e.ID, Error: err.Error()})
			r.log.Warn("label skipped", "entry", e.ID, "error", err)
			continue
		}
		labels = append(labels, accounts.PendingLabel{Key: e.Metadata.Key, Value: trip.CapText(l.Value), StartTS: l.StartTS,
			EndTS: l.EndTS, WriteTS: e.Metadata.WriteTS, EntryID: e.ID})
	}
	return labels
}

// storedNear reads the device's stored trips that labels may land on: those starting from
// labelReach before the first label to the end of the last.
func (r *run) storedNear(ctx context.Context, labels []accounts.PendingLabel) ([]span, error) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, l := range labels {
		lo, hi = min(lo, l.StartTS), max(hi, l.EndTS)
	}
	trips, err := vault.FindAll[span](ctx, r.trips, vault.Query{
		Selector: map[string]any{
			"captureDevice":    r.origin.Device,
			"openpath.startTs": map[string]any{"$gte": lo - labelReach, "$lte": hi},
		},
		Sort:   []vault.SortField{vault.Asc("captureDevice"), vault.Asc("openpath.startTs")},
		Fields: []string{"_id", "openpath"},
	})
	if err != nil {
		return nil, fmt.Errorf("read the vault's trips: %w", err)
	}
	return trips, nil
}
