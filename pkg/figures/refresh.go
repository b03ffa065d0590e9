package figures

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
)

// Indexes are the trips indexes the app's queries need.
var Indexes = []vault.Index{
	{Name: "by-startTs", Fields: []string{"openpath.startTs"}},
}

// Result says what a Refresh did.
type Result struct {
	Checked    int         `json:"checked"`
	Recomputed int         `json:"recomputed"`
	Errors     []TripError `json:"errors"`
}

// TripError is a trip whose figures could not be computed.
type TripError struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

// batchSize is how many changes are read at a time.
const batchSize = 200

// writeBatch is how many stale trips are read and written at a time: a request (and on the
// embedded store a transaction, with its sync to disk) each, so the fewer the better, within
// what a server takes in one request.
const writeBatch = vault.DefaultBatchSize

// head is what Refresh reads of every trip to decide whether its aggregation is current, and to
// put it in the figures cache when it is.
type head struct {
	ID     string          `json:"_id"`
	Server trip.ServerInfo `json:"openpath"`
	Labels trip.Labels     `json:"labels"`
	Manual json.RawMessage `json:"manual"`
	Device string          `json:"captureDevice"`
	// Aggregation is decoded only as far as needed: its stamp, and the rest when it is current.
	Aggregation json.RawMessage `json:"aggregation"`
}

// AllTrips selects every trip, through the by-startTs index.
func AllTrips() vault.Query {
	return vault.Query{
		Selector: map[string]any{"openpath.startTs": map[string]any{"$gt": 0}},
		Sort:     []vault.SortField{vault.Asc("openpath.startTs")},
	}
}

// checkpointID is the _local document where Refresh remembers how far it has checked.
const checkpointID = "aggregate-refresh"

// checkpoint is what Refresh remembers: the changes sequence up to which every trip's
// aggregation was current for these inputs.
type checkpoint struct {
	Seq    string     `json:"seq"`
	Inputs trip.Stamp `json:"inputs"` // the stamp's input part: factor set, settings, engine
	// Cache is the version of the figures cache kept in step up to Seq.
	Cache int `json:"cache"`
}

// inputsStamp is the part of a stamp that does not depend on the trip.
func (in Inputs) inputsStamp() trip.Stamp {
	return trip.Stamp{FactorSet: in.Set.ID, FactorSetVersion: in.Set.Version, Settings: in.settingsHash, Engine: EngineVersion}
}

// Refresh recomputes the aggregations that are missing or stale (all of them with force). It
// remembers, in a _local checkpoint, the changes sequence up to which the figures were current
// for these inputs: when the inputs have not changed since, it checks only the trips changed
// since (a sync, an edit), so opening the app costs nothing when nothing changed. Otherwise it
// reads every trip's small members, and whole documents only for the trips to recompute.
func Refresh(ctx context.Context, trips *vault.DB, in Inputs, force bool) (Result, error) {
	return RefreshProgress(ctx, trips, in, force, nil)
}

// RefreshProgress is Refresh, calling progress (when not nil) with how many of the stale trips
// are recomputed so far and how many there are: once they are known, then after each batch.
func RefreshProgress(ctx context.Context, trips *vault.DB, in Inputs, force bool, progress func(done, total int)) (Result, error) {
	var res Result
	var cp checkpoint
	if err := trips.GetLocal(ctx, checkpointID, &cp); err != nil && !errors.Is(err, vault.ErrNotFound) {
		return res, err
	}
	// The sequence to remember is taken before the check: what changes during it is checked
	// next time.
	_, seq, err := trips.Changes(ctx, vault.ChangesQuery{Since: "now"})
	if err != nil {
		return res, err
	}
	var stale []string
	var changed changeSet
	// figs are, when every trip is checked, the figures of every trip: the ones found current,
	// then the ones recomputed; the cache is built from them rather than from reading every
	// trip again.
	var figs []Figures
	incremental := !force && cp.Seq != "" && cp.Inputs == in.inputsStamp()
	if incremental {
		stale, changed, err = staleSince(ctx, trips, in, cp.Seq, &res)
	} else {
		stale, figs, err = staleAll(ctx, trips, in, force, &res)
	}
	if err != nil {
		return res, err
	}
	if progress == nil {
		progress = func(int, int) {}
	}
	progress(0, len(stale))
	for start := 0; start < len(stale); start += writeBatch {
		ids := stale[start:min(start+writeBatch, len(stale))]
		written, errs, err := recompute(ctx, trips, in, ids)
		res.Recomputed += len(written)
		res.Errors = append(res.Errors, errs...)
		if err != nil {
			return res, err
		}
		if !incremental {
			figs = append(figs, written...)
		}
		progress(start+len(ids), len(stale))
	}
	if res.Recomputed > 0 {
		// The figures just written are changes too: remember the sequence after them, so that
		// the next Refresh does not read them back as changes (every trip, after a first open),
		// unless something else was written meanwhile.
		if seq, err = ownWritesSeq(ctx, trips, seq, res.Recomputed); err != nil {
			return res, err
		}
	}
	switch {
	case incremental && cp.Cache == cacheVersion:
		err = updateCache(ctx, trips, changed)
	case incremental:
		err = rebuildCache(ctx, trips)
	default:
		err = buildCache(ctx, trips, figs)
	}
	if err != nil {
		return res, fmt.Errorf("figures cache: %w", err)
	}
	if len(res.Errors) > 0 {
		return res, nil // check them again next time
	}
	next := checkpoint{Seq: seq, Inputs: in.inputsStamp(), Cache: cacheVersion}
	if next == cp {
		return res, nil // nothing changed: no write
	}
	return res, trips.PutLocal(ctx, checkpointID, next)
}

// ownWritesSeq returns the database's sequence now if the only writes since seq are the written
// ones Refresh made, else seq. Each write of a document adds one to the number that starts a
// sequence: the whole sequence on the embedded store and PouchDB, the part before the "-" on
// CouchDB, whose sequence is the sum of its shards' (and _local documents add nothing). So when
// the difference is exactly the number of writes, no one else wrote; when it is not, or a
// sequence does not read as such, seq is kept: the next Refresh checks the trips written since,
// which is correct, only slower.
func ownWritesSeq(ctx context.Context, trips *vault.DB, seq string, written int) (string, error) {
	_, now, err := trips.Changes(ctx, vault.ChangesQuery{Since: "now"})
	if err != nil {
		return "", err
	}
	before, ok1 := seqNumber(seq)
	after, ok2 := seqNumber(now)
	if ok1 && ok2 && after-before == int64(written) {
		return now, nil
	}
	return seq, nil
}

// seqNumber reads the number a changes sequence starts with ("123" or "123-g1AAAA...").
func seqNumber(seq string) (int64, bool) {
	n, _, _ := strings.Cut(seq, "-")
	v, err := strconv.ParseInt(n, 10, 64)
	return v, err == nil
}

// staleAll checks every trip, and returns the stale ones and the figures of the others.
func staleAll(ctx context.Context, trips *vault.DB, in Inputs, force bool, res *Result) ([]string, []Figures, error) {
	var stale []string
	var current []Figures
	q := AllTrips()
	q.Fields = []string{"_id", "openpath", "labels", "manual", "captureDevice", "aggregation"}
	err := trips.Find(ctx, q, func(raw json.RawMessage) error {
		var h head
		if err := json.Unmarshal(raw, &h); err != nil {
			return fmt.Errorf("trip document: %w", err)
		}
		res.Checked++
		if force || h.isStale(in) {
			stale = append(stale, h.ID)
			return nil
		}
		f := Figures{ID: h.ID, CaptureDevice: h.Device}
		if err := json.Unmarshal(h.Aggregation, &f.Aggregation); err != nil {
			return fmt.Errorf("trip %s: aggregation: %w", h.ID, err)
		}
		current = append(current, f)
		return nil
	})
	return stale, current, err
}

// changeSet is the trips the changes feed names since a checkpoint.
type changeSet struct {
	changed, deleted []string
}

// staleSince checks the trips changed after seq, and returns them as well as the stale ones, for
// the figures cache.
func staleSince(ctx context.Context, trips *vault.DB, in Inputs, seq string, res *Result) ([]string, changeSet, error) {
	var stale []string
	var cs changeSet
	for {
		changes, last, err := trips.Changes(ctx, vault.ChangesQuery{Since: seq, Limit: batchSize})
		if err != nil {
			return nil, cs, err
		}
		var ids []string
		for _, c := range changes {
			switch {
			case strings.HasPrefix(c.ID, "_"):
			case c.Deleted:
				cs.deleted = append(cs.deleted, c.ID)
			default:
				ids = append(ids, c.ID)
			}
		}
		cs.changed = append(cs.changed, ids...)
		heads, err := vault.GetMany[head](ctx, trips, ids)
		if err != nil {
			return nil, cs, err
		}
		for _, h := range heads {
			res.Checked++
			if h.isStale(in) {
				stale = append(stale, h.ID)
			}
		}
		if len(changes) < batchSize || last == seq {
			return stale, cs, nil
		}
		seq = last
	}
}

func (h *head) isStale(in Inputs) bool {
	var a struct {
		Stamp *trip.Stamp `json:"stamp"`
	}
	if len(h.Aggregation) == 0 || json.Unmarshal(h.Aggregation, &a) != nil {
		return true // none, or unreadable: computed again
	}
	return a.Stamp == nil || *a.Stamp != in.StampFor(h.Server, h.Labels, h.Manual)
}

// recompute computes and saves the aggregations of the trips with these ids, and returns the
// figures written.
func recompute(ctx context.Context, trips *vault.DB, in Inputs, ids []string) ([]Figures, []TripError, error) {
	docs, err := vault.GetMany[trip.Doc](ctx, trips, ids)
	if err != nil {
		return nil, nil, err
	}
	var errs []TripError
	var writes []*trip.Doc
	var figs []Figures
	for i := range docs {
		d := &docs[i]
		a, err := setAggregation(d, in)
		if err != nil {
			errs = append(errs, TripError{ID: d.ID, Error: err.Error()})
			continue
		}
		writes = append(writes, d)
		figs = append(figs, Figures{ID: d.ID, CaptureDevice: d.CaptureDevice, Aggregation: a})
	}
	results, err := vault.SaveMany(ctx, trips, writes, writeBatch)
	if err != nil {
		return nil, errs, err
	}
	written := figs[:0]
	var again []string
	for i, r := range results {
		switch {
		case r.Err == nil:
			written = append(written, figs[i])
		case errors.Is(r.Err, vault.ErrConflict):
			// Written meanwhile (a sync, an edit): compute again on the current copy.
			if err := Save(ctx, trips, writes[i].ID, in, nil); err != nil {
				return written, errs, err
			}
			again = append(again, writes[i].ID)
		default:
			errs = append(errs, TripError{ID: writes[i].ID, Error: r.Err.Error()})
		}
	}
	if len(again) > 0 {
		saved, err := vault.GetMany[Figures](ctx, trips, again)
		if err != nil {
			return written, errs, err
		}
		written = append(written, saved...)
	}
	return written, errs, nil
}

func setAggregation(d *trip.Doc, in Inputs) (trip.Aggregation, error) {
	a, err := Compute(d, in)
	if err != nil {
		return a, err
	}
	raw, err := json.Marshal(a)
	if err != nil {
		return a, err
	}
	d.Aggregation = raw
	return a, nil
}

// Save applies edit (when not nil) to the trip's current document, recomputes its aggregation
// and writes both, retrying on conflicts: the way every change to a trip is saved, so its figures
// change at once.
func Save(ctx context.Context, trips *vault.DB, id string, in Inputs, edit func(*trip.Doc) error) error {
	_, err := vault.Update(ctx, trips, id, func(d *trip.Doc, found bool) error {
		if !found {
			return fmt.Errorf("trip %q: %w", id, vault.ErrNotFound)
		}
		if edit != nil {
			if err := edit(d); err != nil {
				return err
			}
		}
		_, err := setAggregation(d, in)
		return err
	})
	return err
}

// Figures is a trip's aggregation with what identifies it.
type Figures struct {
	ID            string           `json:"_id"`
	CaptureDevice string           `json:"captureDevice"`
	Aggregation   trip.Aggregation `json:"aggregation"`
}

// EachFigures calls each for every trip's figures, in start order, reading only the trips' small
// members. Trips without an aggregation (Refresh not run) come with a zero one.
func EachFigures(ctx context.Context, trips *vault.DB, each func(Figures) error) error {
	q := AllTrips()
	q.Fields = []string{"_id", "captureDevice", "aggregation"}
	return trips.Find(ctx, q, func(raw json.RawMessage) error {
		var f Figures
		if err := json.Unmarshal(raw, &f); err != nil {
			return fmt.Errorf("trip document: %w", err)
		}
		return each(f)
	})
}
