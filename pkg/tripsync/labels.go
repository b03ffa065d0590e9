package tripsync

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

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

// applyLabelWindow puts a window's labels on their trips, parks the others, and moves the label
// cursor.
func (r *run) applyLabelWindow(ctx context.Context, entries []openpath.Entry, end float64) error {
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
	byTrip, waiting, err := r.placeLabels(ctx, labels)
	if err != nil {
		return err
	}
	for id, ls := range byTrip {
		if err := r.labelTrip(ctx, id, ls); err != nil {
			return err
		}
	}
	for _, w := range waiting {
		if !slices.ContainsFunc(r.pending, func(p accounts.PendingLabel) bool { return p.EntryID == w.EntryID && p.Key == w.Key }) {
			r.pending = append(r.pending, w)
		}
	}
	r.sum.Cursor.Labels = end
	if len(entries) == 0 {
		return nil // flushCursors saves the cursor once at the end
	}
	return r.saveAccount(ctx, func(d *accounts.Data) {
		d.Cursors.Labels = end
		for _, w := range waiting {
			if !slices.ContainsFunc(d.PendingLabels, func(p accounts.PendingLabel) bool { return p.EntryID == w.EntryID && p.Key == w.Key }) {
				d.PendingLabels = append(d.PendingLabels, w)
			}
		}
	})
}

// placeLabels finds each label's trip: the device's trip its span overlaps most.
func (r *run) placeLabels(ctx context.Context, labels []accounts.PendingLabel) (map[string][]accounts.PendingLabel, []accounts.PendingLabel, error) {
	if len(labels) == 0 {
		return nil, nil, nil
	}
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
		return nil, nil, fmt.Errorf("read the vault's trips: %w", err)
	}
	byTrip := map[string][]accounts.PendingLabel{}
	var waiting []accounts.PendingLabel
	for _, l := range labels {
		best, bestOverlap := "", 0.0
		for _, t := range trips {
			if o := overlap(l.StartTS, l.EndTS, t.Server.StartTS, t.Server.EndTS); o > bestOverlap {
				best, bestOverlap = t.ID, o
			}
		}
		if best == "" {
			waiting = append(waiting, l)
			continue
		}
		byTrip[best] = append(byTrip[best], l)
	}
	return byTrip, waiting, nil
}

// labelTrip applies labels to one stored trip; the latest label of each key wins.
func (r *run) labelTrip(ctx context.Context, id string, labels []accounts.PendingLabel) error {
	applied := 0
	apply := func(doc *trip.Doc) {
		applied = 0
		for _, l := range labels {
			if changed, _ := doc.Labels.Apply(l.Key, trip.Label{Value: l.Value, WriteTS: l.WriteTS, EntryID: l.EntryID}); changed {
				applied++
			}
		}
	}
	if r.opts.DryRun {
		var doc trip.Doc
		if _, err := r.trips.Get(ctx, id, &doc); err != nil {
			return err
		}
		apply(&doc)
		r.sum.LabelsApplied += applied
		return nil
	}
	_, err := vault.Update(ctx, r.trips, id, func(doc *trip.Doc, found bool) error {
		if !found {
			return fmt.Errorf("trip %s disappeared while its labels were applied: %w", id, vault.ErrNotFound)
		}
		apply(doc)
		if applied == 0 {
			return errNoChange
		}
		doc.Aggregation = nil // computed with other labels: the app recomputes it
		doc.ID, doc.Rev = "", ""
		return nil
	})
	if err != nil && !errors.Is(err, errNoChange) {
		return fmt.Errorf("label trip %s: %w", id, err)
	}
	r.sum.LabelsApplied += applied
	return nil
}
