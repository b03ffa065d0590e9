package tripsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
)

// stored is the part of a trip document a merge needs: everything but the series.
type stored struct {
	ID           string            `json:"_id"`
	Rev          string            `json:"_rev"`
	Server       trip.ServerInfo   `json:"openpath"`
	Labels       trip.Labels       `json:"labels"`
	Manual       json.RawMessage   `json:"manual"`
	Aggregation  json.RawMessage   `json:"aggregation"`
	CozyMetadata trip.CozyMetadata `json:"cozyMetadata"`
}

var storedFields = []string{"_id", "_rev", "openpath", "labels", "manual", "aggregation", "cozyMetadata"}

// merge writes the window's trips: new ones created, changed ones updated, the rest left alone.
// It returns the pending labels it applied.
func (r *run) merge(ctx context.Context, docs []*trip.Doc) ([]accounts.PendingLabel, error) {
	if len(docs) == 0 {
		return nil, nil
	}
	docs = latestPerID(docs)
	existing, err := r.storedAround(ctx, docs)
	if err != nil {
		return nil, err
	}
	var writes []*trip.Doc
	var applied []accounts.PendingLabel
	taken := map[string]bool{}
	for _, doc := range docs {
		old := match(existing, doc, taken)
		if old != nil {
			taken[old.ID] = true
			carryOver(doc, old)
		}
		for _, p := range r.pendingFor(doc) {
			if changed, _ := doc.Labels.Apply(p.Key, trip.Label{Value: p.Value, WriteTS: p.WriteTS, EntryID: p.EntryID}); changed {
				r.sum.LabelsApplied++
			}
			applied = append(applied, p)
		}
		if old != nil && !doc.Labels.Equal(old.Labels) {
			doc.Aggregation = nil // computed with other labels: the app recomputes it
		}
		switch {
		case old == nil:
			r.sum.Created++
		case unchanged(doc, old):
			r.sum.Unchanged++
			continue
		default:
			r.sum.Updated++
		}
		writes = append(writes, doc)
	}
	r.pending = removeLabels(r.pending, applied)
	if r.opts.DryRun || len(writes) == 0 {
		return applied, nil
	}
	results, err := vault.SaveMany(ctx, r.trips, writes, 0)
	if err != nil {
		return nil, fmt.Errorf("save trips: %w", err)
	}
	for i, res := range results {
		if res.Err == nil {
			continue
		}
		if !errors.Is(res.Err, vault.ErrConflict) {
			return nil, fmt.Errorf("save trip %s: %w", writes[i].ID, res.Err)
		}
		// Someone wrote the trip meanwhile (another run, the app): merge again on the current copy.
		if err := r.remerge(ctx, writes[i]); err != nil {
			return nil, err
		}
	}
	return applied, nil
}

// latestPerID keeps one document per id, the last one (entries come in write order).
func latestPerID(docs []*trip.Doc) []*trip.Doc {
	seen := map[string]int{}
	var out []*trip.Doc
	for _, d := range docs {
		if i, ok := seen[d.ID]; ok {
			out[i] = d
			continue
		}
		seen[d.ID] = len(out)
		out = append(out, d)
	}
	return out
}

// storedAround reads the device's trips whose start is near the window's trips.
func (r *run) storedAround(ctx context.Context, docs []*trip.Doc) ([]stored, error) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, d := range docs {
		lo, hi = min(lo, d.Server.StartTS), max(hi, d.Server.StartTS)
	}
	q := vault.Query{
		Selector: map[string]any{
			"captureDevice":    r.origin.Device,
			"openpath.startTs": map[string]any{"$gte": lo - sameTripSlack, "$lte": hi + sameTripSlack},
		},
		Sort:   []vault.SortField{vault.Asc("captureDevice"), vault.Asc("openpath.startTs")},
		Fields: storedFields,
	}
	found, err := vault.FindAll[stored](ctx, r.trips, q)
	if err != nil {
		return nil, fmt.Errorf("read the vault's trips: %w", err)
	}
	return found, nil
}

// match finds the stored trip a fetched one is: the same id, else the same time span within
// sameTripSlack (the server re-processed it under a new trip id).
func match(existing []stored, doc *trip.Doc, taken map[string]bool) *stored {
	var best *stored
	for i := range existing {
		s := &existing[i]
		if s.ID == doc.ID {
			return s
		}
		if taken[s.ID] || math.Abs(s.Server.StartTS-doc.Server.StartTS) > sameTripSlack || math.Abs(s.Server.EndTS-doc.Server.EndTS) > sameTripSlack {
			continue
		}
		if best == nil || math.Abs(s.Server.StartTS-doc.Server.StartTS) < math.Abs(best.Server.StartTS-doc.Server.StartTS) {
			best = s
		}
	}
	return best
}

// carryOver keeps in the fetched document what belongs to the vault's copy: its id and revision,
// the person's labels and corrections, its creation date, and its aggregate while the content
// it was computed from is the same.
func carryOver(doc *trip.Doc, old *stored) {
	doc.ID, doc.Rev = old.ID, old.Rev
	doc.Labels = old.Labels
	doc.Manual = old.Manual
	if old.Server.Hash == doc.Server.Hash {
		doc.Aggregation = old.Aggregation
	}
	doc.CozyMetadata.CreatedAt = old.CozyMetadata.CreatedAt
	if old.CozyMetadata.CreatedByApp != "" {
		doc.CozyMetadata.CreatedByApp = old.CozyMetadata.CreatedByApp
		doc.CozyMetadata.CreatedByAppVersion = old.CozyMetadata.CreatedByAppVersion
	}
}

// unchanged reports whether writing doc over old would change nothing the server or the labels
// decide.
func unchanged(doc *trip.Doc, old *stored) bool {
	return doc.Server == old.Server && doc.Labels.Equal(old.Labels)
}

// remerge applies a fetched trip on the vault's current copy after a conflict.
func (r *run) remerge(ctx context.Context, doc *trip.Doc) error {
	_, err := vault.Update(ctx, r.trips, doc.ID, func(cur *trip.Doc, found bool) error {
		fresh := *doc
		if found {
			old := &stored{ID: doc.ID, Server: cur.Server, Labels: cur.Labels, Manual: cur.Manual,
				Aggregation: cur.Aggregation, CozyMetadata: cur.CozyMetadata}
			carryOver(&fresh, old)
			if unchanged(&fresh, old) {
				fresh = *cur
			}
		}
		fresh.ID, fresh.Rev = "", ""
		*cur = fresh
		return nil
	})
	if err != nil {
		return fmt.Errorf("save trip %s: %w", doc.ID, err)
	}
	return nil
}

// pendingFor returns the waiting labels whose span overlaps doc's trip more than any other label
// of the same key would need: overlap with this trip.
func (r *run) pendingFor(doc *trip.Doc) []accounts.PendingLabel {
	var out []accounts.PendingLabel
	for _, p := range r.pending {
		if overlap(p.StartTS, p.EndTS, doc.Server.StartTS, doc.Server.EndTS) > 0 {
			out = append(out, p)
		}
	}
	return out
}

func overlap(aStart, aEnd, bStart, bEnd float64) float64 {
	return max(0, min(aEnd, bEnd)-max(aStart, bStart))
}

// removeLabels drops from list the labels in done (by entry id and key).
func removeLabels(list, done []accounts.PendingLabel) []accounts.PendingLabel {
	if len(done) == 0 {
		return list
	}
	return slices.DeleteFunc(slices.Clone(list), func(p accounts.PendingLabel) bool {
		return slices.ContainsFunc(done, func(d accounts.PendingLabel) bool { return d.EntryID == p.EntryID && d.Key == p.Key })
	})
}
