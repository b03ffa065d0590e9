package tripsync

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
)

// Copies of one trip.
//
// A server that re-processes a day (a pipeline reset, a fix) sends its trips again under new trip
// ids, and a re-segmented trip may start or end a little earlier or later. Two trips of a device
// are copies of one trip when they have the same document id, or when their starts and their ends
// are both within sameTripSlack of each other. One rule applies wherever the other copy is (in the
// vault, in the same window, in the same answer) and whichever copy comes first:
//
//   - the copy the server processed last (the creation time of its ObjectId trip id; on a tie, the
//     copy read last) gives the server's content: series, times, trip id;
//   - the vault's copy keeps its document id, the person's labels and corrections, and its
//     creation date;
//   - every other copy is counted as merged, and nothing of it is written.
//
// Two trips that overlap in time but differ by more than the slack (a trip the server split in
// two, say) are not guessed to be one: both are kept, and [Engine.PossibleDuplicates] lists them.

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

// sameTrip reports whether two trips' spans are those of one trip processed twice.
func sameTrip(a, b trip.ServerInfo) bool {
	return math.Abs(a.StartTS-b.StartTS) <= sameTripSlack && math.Abs(a.EndTS-b.EndTS) <= sameTripSlack
}

// processedAt is when the server made this copy of the trip: the time in its ObjectId trip id,
// zero when the id is no ObjectId.
func processedAt(s trip.ServerInfo) time.Time {
	t, _ := openpath.ObjectIDTime(s.TripID)
	return t
}

// laterProcessing reports whether copy a was processed strictly after copy b.
func laterProcessing(a, b trip.ServerInfo) bool {
	return processedAt(a).After(processedAt(b))
}

// groupCopies splits a window's trips, in the order they were read, into groups of copies of one
// trip. Each group lists its copies in processing order, the one processed last at the end; groups
// come in the order of their first copy.
func groupCopies(docs []*trip.Doc) [][]*trip.Doc {
	parent := make([]int, len(docs))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	union := func(i, j int) {
		if ri, rj := find(i), find(j); ri != rj {
			parent[max(ri, rj)] = min(ri, rj) // the root is the earliest read
		}
	}
	byStart := make([]int, len(docs))
	for i := range byStart {
		byStart[i] = i
	}
	slices.SortFunc(byStart, func(a, b int) int { return cmp.Compare(docs[a].Server.StartTS, docs[b].Server.StartTS) })
	for k, i := range byStart {
		for _, j := range byStart[k+1:] {
			if docs[j].Server.StartTS-docs[i].Server.StartTS > sameTripSlack {
				break
			}
			if sameTrip(docs[i].Server, docs[j].Server) {
				union(i, j)
			}
		}
	}
	firstWithID := map[string]int{}
	for i, d := range docs {
		if j, ok := firstWithID[d.ID]; ok {
			union(i, j)
		} else {
			firstWithID[d.ID] = i
		}
	}
	index := map[int]int{} // root -> group
	var groups [][]*trip.Doc
	for i, d := range docs {
		root := find(i)
		g, ok := index[root]
		if !ok {
			g = len(groups)
			index[root] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], d)
	}
	for _, g := range groups {
		// Stable: copies with the same processing time stay in reading order.
		slices.SortStableFunc(g, func(a, b *trip.Doc) int { return processedAt(a.Server).Compare(processedAt(b.Server)) })
	}
	return groups
}

// outcome is what became of one trip of a window.
type outcome int

const (
	created outcome = iota
	updated
	unchangedTrip
	merged
	// relabelled is a trip of the vault that only the window's labels changed: not a trip of the
	// window, so not counted.
	relabelled
)

// count adds n trips with outcome o to the summary.
func (s *Summary) count(o outcome, n int) {
	switch o {
	case created:
		s.Created += n
	case updated:
		s.Updated += n
	case unchangedTrip:
		s.Unchanged += n
	case merged:
		s.Merged += n
	}
}

// target is a trip a window's labels may land on: a trip of the window, as it will be written, or a
// trip of the vault.
type target struct {
	id     string
	server trip.ServerInfo
	// doc is the window's trip to write (nil for a trip of the vault), old its vault copy.
	doc *trip.Doc
	old *stored
	// labels are the labels placed on a trip of the vault.
	labels []accounts.PendingLabel
}

// merge writes a window's trips (see "Copies of one trip" above) with the window's labels put on
// them before they are written, in one bulk write: new trips created, changed ones updated, the
// rest left alone, and the trips of the vault that labels land on updated in the same write. A
// label lands on the trip its span overlaps most, among the window's trips and, for the window's
// own labels, the vault's (waiting labels only ever wait for a new trip). The summary counts what
// this run wrote, once the vault accepted it. merge returns the labels it placed (applied, or
// already there) and the window's labels that found no trip (waiting).
func (r *run) merge(ctx context.Context, docs []*trip.Doc, labels []accounts.PendingLabel) (applied, waiting []accounts.PendingLabel, err error) {
	if len(docs) == 0 && len(labels) == 0 {
		return nil, nil, nil
	}
	var existing []stored
	if len(docs) > 0 {
		if existing, err = r.storedAround(ctx, docs); err != nil {
			return nil, nil, err
		}
	}
	var targets []*target
	taken := map[string]bool{}
	for _, copies := range groupCopies(docs) {
		doc := copies[len(copies)-1]
		r.sum.count(merged, len(copies)-1)
		old := match(existing, copies, taken)
		if old != nil {
			taken[old.ID] = true
			if laterProcessing(old.Server, doc.Server) {
				// The vault holds a later processing of this trip: keep it.
				r.sum.count(merged, 1)
				targets = append(targets, &target{id: old.ID, server: old.Server})
				continue
			}
			carryOver(doc, old)
		}
		targets = append(targets, &target{id: doc.ID, server: doc.Server, doc: doc, old: old})
	}
	windowTrips := targets[:len(targets):len(targets)]
	// The vault's trips the window's labels may land on, besides the window's.
	if len(labels) > 0 {
		near, err := r.storedNear(ctx, labels)
		if err != nil {
			return nil, nil, err
		}
		for _, s := range near {
			if !slices.ContainsFunc(targets, func(t *target) bool { return t.id == s.ID }) {
				targets = append(targets, &target{id: s.ID, server: s.Server})
			}
		}
	}
	place := func(l accounts.PendingLabel, among []*target) *target {
		var best *target
		bestOverlap := 0.0
		for _, t := range among {
			if o := overlap(l.StartTS, l.EndTS, t.server.StartTS, t.server.EndTS); o > bestOverlap {
				best, bestOverlap = t, o
			}
		}
		return best
	}
	for _, p := range r.pending {
		if t := place(p, windowTrips); t != nil {
			t.put(p, r)
			applied = append(applied, p)
		}
	}
	for _, l := range labels {
		if t := place(l, targets); t != nil {
			t.put(l, r)
			applied = append(applied, l)
		} else {
			waiting = append(waiting, l)
		}
	}
	r.pending = addLabels(removeLabels(r.pending, applied), waiting)

	var writes []*trip.Doc
	var planned []outcome // planned[i] is what writing writes[i] does
	var relabel []string  // the vault's trips that labels land on
	for _, t := range targets {
		if t.doc == nil {
			if len(t.labels) > 0 {
				relabel = append(relabel, t.id)
			}
			continue
		}
		doc, old := t.doc, t.old
		if old != nil && !doc.Labels.Equal(old.Labels) {
			doc.Aggregation = nil // computed with other labels: the app recomputes it
		}
		switch {
		case old == nil:
			planned = append(planned, created)
		case unchanged(doc, old):
			r.sum.count(unchangedTrip, 1)
			continue
		default:
			planned = append(planned, updated)
		}
		writes = append(writes, doc)
	}
	if len(relabel) > 0 {
		// One read for all of them, and their writes go with the window's.
		full, err := vault.GetMany[trip.Doc](ctx, r.trips, relabel)
		if err != nil {
			return nil, nil, fmt.Errorf("read the trips to label: %w", err)
		}
		byID := map[string]*trip.Doc{}
		for i := range full {
			byID[full[i].ID] = &full[i]
		}
		for _, t := range targets {
			if t.doc != nil || len(t.labels) == 0 {
				continue
			}
			doc, ok := byID[t.id]
			if !ok { // deleted since it was found: its labels wait for it again
				r.log.Warn("trip disappeared while its labels were applied", "trip", t.id)
				applied = removeLabels(applied, t.labels)
				waiting = addLabels(waiting, t.labels)
				r.pending = addLabels(r.pending, t.labels)
				continue
			}
			changed := 0
			for _, l := range t.labels {
				if c, _ := doc.Labels.Apply(l.Key, trip.Label{Value: l.Value, WriteTS: l.WriteTS, EntryID: l.EntryID}); c {
					changed++
				}
			}
			r.sum.LabelsApplied += changed
			if changed > 0 {
				doc.Aggregation = nil // computed with other labels: the app recomputes it
				writes = append(writes, doc)
				planned = append(planned, relabelled)
			}
		}
	}
	if r.opts.DryRun || len(writes) == 0 {
		for _, o := range planned {
			r.sum.count(o, 1)
		}
		return applied, waiting, nil
	}
	// Their facts for the app's figures, read while the series are at hand.
	facts := r.factsOf(writes)
	// The documents are encoded once, and their series then let go: the encoded copies hold them,
	// so that a window's trips are in memory once, not twice.
	encoded := make([]json.RawMessage, len(writes))
	for i, d := range writes {
		if encoded[i], err = d.Encode(); err != nil {
			return nil, nil, fmt.Errorf("save trip %s: %w", d.ID, err)
		}
		d.Series = nil
	}
	results, err := vault.SaveMany(ctx, r.trips, encoded, 0)
	var written []figures.Written
	for i, res := range results { // with an error, the batches written before it
		switch {
		case res.Err == nil:
			r.sum.count(planned[i], 1)
			if facts != nil && facts[i] != nil {
				written = append(written, figures.Written{ID: res.ID, Rev: res.Rev, Facts: *facts[i]})
			}
		case errors.Is(res.Err, vault.ErrConflict):
			// Someone wrote the trip meanwhile (another run, the app): merge again on the current copy.
			var doc trip.Doc // with its series, as written
			if err := json.Unmarshal(encoded[i], &doc); err != nil {
				return nil, nil, fmt.Errorf("save trip %s: %w", writes[i].ID, err)
			}
			o, rerr := r.remerge(ctx, &doc)
			if rerr != nil {
				return nil, nil, rerr
			}
			if planned[i] != relabelled {
				r.sum.count(o, 1)
			}
		default:
			return nil, nil, fmt.Errorf("save trip %s: %w", writes[i].ID, res.Err)
		}
	}
	if r.feed != nil {
		if err := r.feed.Add(ctx, written); err != nil {
			// The app reads these trips instead: slower, as correct.
			r.log.Warn("the app will read these trips back: their figures could not be put in its figures cache", "trips", len(written), "error", err)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("save trips: %w", err)
	}
	return applied, waiting, nil
}

// factsOf reads the facts of the trips about to be written, for the figures feed; nil without
// one. A trip whose facts cannot be read gets none: the app reads it, and says why.
func (r *run) factsOf(docs []*trip.Doc) []*figures.Facts {
	if r.feed == nil {
		return nil
	}
	out := make([]*figures.Facts, len(docs))
	for i, d := range docs {
		if f, err := figures.FactsOf(d); err == nil {
			out[i] = &f
		}
	}
	return out
}

// put places a label on the target: on the window's trip in memory, counted when it changes it;
// kept for a trip of the vault, which merge reads and labels in one go.
func (t *target) put(l accounts.PendingLabel, r *run) {
	if t.doc == nil {
		t.labels = append(t.labels, l)
		return
	}
	if changed, _ := t.doc.Labels.Apply(l.Key, trip.Label{Value: l.Value, WriteTS: l.WriteTS, EntryID: l.EntryID}); changed {
		r.sum.LabelsApplied++
	}
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

// match finds the vault's copy of a group of copies: one with a copy's document id, else the
// untaken stored trip that is the same trip as one of the copies, the closest in start to the
// copy processed last.
func match(existing []stored, copies []*trip.Doc, taken map[string]bool) *stored {
	latest := copies[len(copies)-1]
	var best *stored
	for i := range existing {
		s := &existing[i]
		if taken[s.ID] {
			continue
		}
		if slices.ContainsFunc(copies, func(d *trip.Doc) bool { return d.ID == s.ID }) {
			return s
		}
		if !slices.ContainsFunc(copies, func(d *trip.Doc) bool { return sameTrip(s.Server, d.Server) }) {
			continue
		}
		if best == nil || math.Abs(s.Server.StartTS-latest.Server.StartTS) < math.Abs(best.Server.StartTS-latest.Server.StartTS) {
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

// remerge applies a fetched trip on the vault's current copy after a conflict, by the same rule
// as merge, keeping the labels either side holds, and says what it did.
func (r *run) remerge(ctx context.Context, doc *trip.Doc) (outcome, error) {
	var result outcome
	_, err := vault.Update(ctx, r.trips, doc.ID, func(cur *trip.Doc, found bool) error {
		if !found {
			result = created
			fresh := *doc
			fresh.ID, fresh.Rev = "", ""
			*cur = fresh
			return nil
		}
		old := &stored{ID: doc.ID, Server: cur.Server, Labels: cur.Labels, Manual: cur.Manual,
			Aggregation: cur.Aggregation, CozyMetadata: cur.CozyMetadata}
		next := *doc
		result = updated
		if laterProcessing(cur.Server, doc.Server) {
			next, result = *cur, merged
		} else {
			carryOver(&next, old)
		}
		next.Labels.Merge(doc.Labels)
		if unchanged(&next, old) {
			if result == updated {
				result = unchangedTrip
			}
			return errNoChange
		}
		if !next.Labels.Equal(old.Labels) {
			next.Aggregation = nil // computed with other labels: the app recomputes it
		}
		next.ID, next.Rev = "", ""
		*cur = next
		return nil
	})
	if err != nil && !errors.Is(err, errNoChange) {
		return 0, fmt.Errorf("save trip %s: %w", doc.ID, err)
	}
	return result, nil
}

func overlap(aStart, aEnd, bStart, bEnd float64) float64 {
	return max(0, min(aEnd, bEnd)-max(aStart, bStart))
}

// addLabels adds to list the labels of more it does not hold yet (by entry id and key).
func addLabels(list, more []accounts.PendingLabel) []accounts.PendingLabel {
	for _, m := range more {
		if !slices.ContainsFunc(list, func(p accounts.PendingLabel) bool { return p.EntryID == m.EntryID && p.Key == m.Key }) {
			list = append(list, m)
		}
	}
	return list
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

// DeviceReport is what `status` shows of a device's trips.
type DeviceReport struct {
	// Trips counts the device's trips in the vault.
	Trips int `json:"trips"`
	// PossibleDuplicates are the pairs of trips that overlap in time, each pair in start order:
	// copies of one trip that the server processed so differently that they are not merged (see
	// "Copies of one trip"), or two phones given one device name. A person's trips follow one
	// another, so any overlap is worth a look.
	PossibleDuplicates [][2]string `json:"possible_duplicates"`
}

// Report reads the device's trips for `status`.
func (e *Engine) Report(ctx context.Context, device string) (DeviceReport, error) {
	trips, err := vault.FindAll[span](ctx, e.trips, vault.Query{
		Selector: map[string]any{"captureDevice": device, "openpath.startTs": map[string]any{"$gt": 0}},
		Sort:     []vault.SortField{vault.Asc("captureDevice"), vault.Asc("openpath.startTs")},
		Fields:   []string{"_id", "openpath"},
	})
	if err != nil {
		return DeviceReport{}, fmt.Errorf("read the vault's trips: %w", err)
	}
	r := DeviceReport{Trips: len(trips), PossibleDuplicates: [][2]string{}}
	var open []span // trips not over when the current one starts
	for _, t := range trips {
		open = slices.DeleteFunc(open, func(o span) bool { return o.Server.EndTS <= t.Server.StartTS })
		for _, o := range open {
			r.PossibleDuplicates = append(r.PossibleDuplicates, [2]string{o.ID, t.ID})
		}
		open = append(open, t)
	}
	return r, nil
}
