package figures

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
)

// Indexes are the trips indexes the app's queries need.
var Indexes = []vault.Index{
	{Name: "by-startTs", Fields: []string{"openpath.startTs"}},
}

// Result says what a Refresh did.
type Result struct {
	Checked int `json:"checked"`
	// Read is how many trip documents were read: the trips new or changed since the last
	// Refresh, every trip when there was no figures cache.
	Read int `json:"read"`
	// FromSync is how many changed trips the connector had already put in the cache, at their
	// very revision, as it wrote them (see Feed): taken as they are, without reading them.
	FromSync   int         `json:"fromSync"`
	Recomputed int         `json:"recomputed"`
	Errors     []TripError `json:"errors"`
}

// TripError is a trip whose figures could not be computed.
type TripError struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

// batchSize is how many changes, and how many changed trips, are read at a time.
const batchSize = 200

// refreshLockWait is how long a Refresh waits for another process writing the figures cache: a
// sync's batch holds it for a moment, another Refresh for as long as it writes.
const refreshLockWait = 2 * time.Minute

// AllTrips selects every trip, through the by-startTs index.
func AllTrips() vault.Query {
	return vault.Query{
		Selector: map[string]any{"openpath.startTs": map[string]any{"$gt": 0}},
		Sort:     []vault.SortField{vault.Asc("openpath.startTs")},
	}
}

// checkpointID is the _local document where Refresh remembers how far it has checked.
const checkpointID = "aggregate-refresh"

// checkpoint is what Refresh remembers: the changes sequence up to which the figures cache holds
// every trip, with its figures computed for these inputs.
type checkpoint struct {
	Seq    string     `json:"seq"`
	Inputs trip.Stamp `json:"inputs"` // the stamp's input part: factor set, settings, engine
	// Cache is the version of the figures cache kept in step up to Seq.
	Cache int `json:"cache"`
}

// Stamp is the part of a stamp that does not depend on the trip: figures computed with inputs
// of another Stamp differ.
func (in Inputs) Stamp() trip.Stamp {
	return trip.Stamp{FactorSet: in.Set.ID, FactorSetVersion: in.Set.Version, Settings: in.settingsHash, Engine: EngineVersion}
}

// Refresh brings the figures cache up to date with the trips and the inputs (all of it read
// again from the trips with force). It remembers, in a _local checkpoint, the changes sequence up
// to which the cache holds every trip and the inputs its figures were computed for:
//   - when neither changed, it costs one read of the changes feed, and writes nothing;
//   - trips changed since (a sync, an edit) are read again, and only they, unless the connector
//     put them in the cache at their very revision as it wrote them (see Feed);
//   - new inputs (a factor set, a default mode, home or work) recompute every trip's figures from
//     the facts the cache keeps, without reading a trip;
//   - without a cache (a vault no Feed wrote to), every trip is read;
//   - with force, every trip is read.
//
// It never writes a trip: figures live in the cache only. It writes under the cache's lock (see
// lockCache), and returns an error matching ErrCacheBusy when another process held that lock
// for minutes.
func Refresh(ctx context.Context, trips *vault.DB, in Inputs, force bool) (Result, error) {
	return RefreshProgress(ctx, trips, in, force, nil)
}

// RefreshProgress is Refresh, calling progress (when not nil) with how many trips' figures are
// computed so far and how many there are to compute: once they are known, then as it goes.
func RefreshProgress(ctx context.Context, trips *vault.DB, in Inputs, force bool, progress func(done, total int)) (Result, error) {
	if progress == nil {
		progress = func(int, int) {}
	}
	if !force {
		// Most calls find nothing to do: they need not wait for, nor write, the lock.
		if current, err := upToDate(ctx, trips, in); err != nil || current {
			return Result{}, err
		}
	}
	l, err := lockCache(ctx, trips, refreshLockWait)
	if err != nil && !errors.Is(err, vault.ErrNoLease) {
		return Result{}, err
	}
	defer l.unlock(ctx)
	var res Result
	var cp checkpoint
	if err := trips.GetLocal(ctx, checkpointID, &cp); err != nil && !errors.Is(err, vault.ErrNotFound) {
		return res, err
	}
	// The sequence to remember is taken before reading: what changes meanwhile is read next time.
	_, seq, err := trips.Changes(ctx, vault.ChangesQuery{Since: "now"})
	if err != nil {
		return res, err
	}
	var index cacheIndex
	if err := trips.GetLocal(ctx, cacheIndexID, &index); err != nil && !errors.Is(err, vault.ErrNotFound) {
		return res, err
	}
	r := &refresher{ctx: ctx, trips: trips, in: in, res: &res, progress: progress}
	switch {
	case force:
		err = r.rebuild()
	case index.Version != cacheVersion:
		err = r.update(checkpoint{}, nil) // no cache: every trip is read
	case cp.Seq == "" || cp.Cache != cacheVersion:
		// A cache without its checkpoint: every trip is checked against it.
		err = r.update(checkpoint{}, &index)
	default:
		err = r.update(cp, &index)
	}
	if err != nil {
		return res, fmt.Errorf("figures cache: %w", err)
	}
	if len(res.Errors) > 0 {
		return res, nil // check them again next time
	}
	next := checkpoint{Seq: seq, Inputs: in.Stamp(), Cache: cacheVersion}
	if next == cp {
		return res, nil // nothing changed: no write
	}
	if !l.held() {
		// Another process took the lock over (this one paused past its lease): what it wrote
		// meanwhile may not be in what this one wrote. The next Refresh checks again.
		return res, fmt.Errorf("figures cache: its lock was taken over while this Refresh wrote: %w", ErrCacheBusy)
	}
	return res, trips.PutLocal(ctx, checkpointID, next)
}

// upToDate says whether the cache is current: a checkpoint and an index of this cache version,
// of these inputs, and no change to the trips since.
func upToDate(ctx context.Context, trips *vault.DB, in Inputs) (bool, error) {
	var cp checkpoint
	if err := trips.GetLocal(ctx, checkpointID, &cp); errors.Is(err, vault.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if cp.Seq == "" || cp.Cache != cacheVersion || cp.Inputs != in.Stamp() {
		return false, nil
	}
	var index cacheIndex
	if err := trips.GetLocal(ctx, cacheIndexID, &index); err != nil && !errors.Is(err, vault.ErrNotFound) {
		return false, err
	}
	if index.Version != cacheVersion {
		return false, nil
	}
	// Changes reads past design documents (the leases taken since): none means nothing newer.
	changes, _, err := trips.Changes(ctx, vault.ChangesQuery{Since: cp.Seq, Limit: 1})
	return err == nil && len(changes) == 0, err
}

// refresher is one Refresh at work.
type refresher struct {
	ctx      context.Context
	trips    *vault.DB
	in       Inputs
	res      *Result
	progress func(done, total int)
}

// rebuild writes the cache anew from every trip, read once, in start order.
func (r *refresher) rebuild() error {
	months := map[string]*cacheMonth{}
	err := r.trips.Find(r.ctx, AllTrips(), func(raw json.RawMessage) error {
		var d trip.Doc
		if err := json.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("trip document: %w", err)
		}
		r.res.Checked++
		r.res.Read++
		if e, ok := r.entryOf(&d); ok {
			addEntry(months, d.ID, e)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.progress(r.res.Recomputed, r.res.Recomputed) // the total is known only at the end
	return replaceCache(r.ctx, r.trips, months)
}

// entryOf reads a trip's facts and computes its figures; a trip whose facts cannot be read is
// recorded as an error and left out.
func (r *refresher) entryOf(d *trip.Doc) (entry, bool) {
	f, err := FactsOf(d)
	if err != nil {
		r.res.Errors = append(r.res.Errors, TripError{ID: d.ID, Error: err.Error()})
		return entry{}, false
	}
	return r.compute(d.ID, d.Rev, f)
}

// compute computes the figures of a trip from its facts.
func (r *refresher) compute(id, rev string, f Facts) (entry, bool) {
	a, err := f.Compute(r.in)
	if err != nil {
		r.res.Errors = append(r.res.Errors, TripError{ID: id, Error: err.Error()})
		return entry{}, false
	}
	r.res.Recomputed++
	return newEntry(rev, r.in.key(), f, a), true
}

// update brings the cache up to date from the checkpoint cp: a trip changed since is read again,
// unless the cache already holds its very revision (a Feed put it there); when the inputs
// changed, every other trip's figures are computed again from the facts the cache keeps. A nil
// index means no cache: every trip is read.
func (r *refresher) update(cp checkpoint, index *cacheIndex) error {
	cs, err := r.changesSince(cp.Seq)
	if err != nil {
		return err
	}
	newInputs := cp.Inputs != r.in.Stamp()
	if index != nil && !newInputs && len(cs.changed)+len(cs.deleted) == 0 {
		return nil
	}
	months := map[string]*cacheMonth{}
	var read []string
	var held map[string]bool
	if index != nil {
		// Every month is loaded: a changed trip may have left its month, and new inputs change
		// all.
		if months, err = loadMonths(r.ctx, r.trips, *index); err != nil {
			return err
		}
		read, held = r.settle(months, cs)
	} else {
		read = cs.changed
	}
	total := len(read)
	if index != nil && newInputs {
		for _, m := range months {
			total += len(m.Trips)
		}
	}
	r.progress(0, total)
	if index != nil && newInputs {
		for _, m := range months {
			m.figuresOnly = !m.dirty // the facts stay as they are, unless trips left the month
			m.dirty = true
			for id, old := range m.Trips {
				f, err := old.decodeFacts()
				if err != nil { // read it again from the trip
					delete(m.Trips, id)
					m.figuresOnly = false
					read = append(read, id)
					continue
				}
				if !held[id] { // counted already
					r.res.Checked++
				}
				if e, ok := r.compute(id, old.rev, f); ok {
					m.Trips[id] = e
				} else {
					delete(m.Trips, id)
					m.figuresOnly = false
				}
			}
		}
		r.progress(r.res.Recomputed, total)
	}
	for start := 0; start < len(read); start += batchSize {
		docs, err := vault.GetMany[trip.Doc](r.ctx, r.trips, read[start:min(start+batchSize, len(read))])
		if err != nil {
			return err
		}
		for i := range docs {
			r.res.Checked++
			r.res.Read++
			if e, ok := r.entryOf(&docs[i]); ok {
				addEntry(months, docs[i].ID, e)
			}
		}
		r.progress(r.res.Recomputed, total)
	}
	if index == nil {
		return replaceCache(r.ctx, r.trips, months)
	}
	return writeMonths(r.ctx, r.trips, months)
}

// settle takes the changes cs into the cache's months: a changed trip whose very revision the
// cache holds (a Feed put it there) stays as it is, every other entry of a changed or deleted
// trip goes, wherever its month, and half an entry (its month's documents were not both
// written) goes too. It returns the trips to read, and those held.
func (r *refresher) settle(months map[string]*cacheMonth, cs changeSet) (read []string, held map[string]bool) {
	gone := make(map[string]bool, len(cs.deleted))
	for _, id := range cs.deleted {
		gone[id] = true
	}
	held = make(map[string]bool)
	var halves []string
	for _, m := range months {
		for id, e := range m.Trips {
			complete := e.facts != nil && e.figured
			rev, changed := cs.revs[id]
			switch {
			case changed && complete && e.rev == rev && !held[id]:
				held[id] = true
				continue
			case changed || gone[id]: // taken again, wherever its month is now
			case !complete:
				halves = append(halves, id)
			default:
				continue
			}
			delete(m.Trips, id)
			m.dirty = true
		}
	}
	read = halves
	for _, id := range cs.changed {
		if held[id] {
			r.res.Checked++
			r.res.FromSync++
		} else {
			read = append(read, id)
		}
	}
	return read, held
}

// changeSet is the trips the changes feed names since a checkpoint.
type changeSet struct {
	changed, deleted []string
	// revs are the changed trips' revisions.
	revs map[string]string
}

// changesBatch is how many changes are read at a time.
const changesBatch = 2000

// changesSince returns the trips changed and deleted after seq.
func (r *refresher) changesSince(seq string) (changeSet, error) {
	return changesSince(r.ctx, r.trips, seq, changesBatch)
}

// changesSince returns the trips changed and deleted after seq, reading batch changes at a time.
func changesSince(ctx context.Context, trips *vault.DB, seq string, batch int) (changeSet, error) {
	cs := changeSet{revs: map[string]string{}}
	seen := map[string]bool{}
	for {
		changes, last, err := trips.Changes(ctx, vault.ChangesQuery{Since: seq, Limit: batch})
		if err != nil {
			return cs, err
		}
		for _, c := range changes {
			if strings.HasPrefix(c.ID, "_") || seen[c.ID] {
				continue
			}
			seen[c.ID] = true
			if c.Deleted {
				cs.deleted = append(cs.deleted, c.ID)
			} else {
				cs.changed = append(cs.changed, c.ID)
				cs.revs[c.ID] = c.Rev
			}
		}
		// Only an empty page ends the feed: a page is short of the batch when it held design
		// documents, which Changes leaves out.
		if len(changes) == 0 || last == seq {
			return cs, nil
		}
		seq = last
	}
}

// Save applies edit to the trip's current document and writes it, retrying on conflicts: the way
// every change to a trip is saved. Its figures change at the next Refresh, which reads it again.
// A figures copy an earlier version stored in the trip is dropped: figures live in the cache.
func Save(ctx context.Context, trips *vault.DB, id string, edit func(*trip.Doc) error) error {
	_, err := vault.Update(ctx, trips, id, func(d *trip.Doc, found bool) error {
		if !found {
			return fmt.Errorf("trip %q: %w", id, vault.ErrNotFound)
		}
		if err := edit(d); err != nil {
			return err
		}
		d.Aggregation = nil
		return nil
	})
	return err
}

// Figures is a trip's aggregation with what identifies it.
type Figures struct {
	ID            string
	CaptureDevice string
	Aggregation   trip.Aggregation
}

// EachFigures calls each for every trip's figures as the figures cache holds them (Refresh must
// have run), computed with in, month by month.
func EachFigures(ctx context.Context, trips *vault.DB, in Inputs, each func(Figures) error) error {
	return eachEntry(ctx, trips, func(id string, e entry) error {
		f, err := e.decodeFacts()
		if err != nil {
			return fmt.Errorf("trip %s: %w", id, err)
		}
		a, err := f.Compute(in)
		if err != nil {
			return fmt.Errorf("trip %s: %w", id, err)
		}
		return each(Figures{ID: id, CaptureDevice: f.Device, Aggregation: a})
	})
}

// eachEntry calls each with every trip the figures cache holds, month by month, in id order.
func eachEntry(ctx context.Context, trips *vault.DB, each func(id string, e entry) error) error {
	var index cacheIndex
	if err := trips.GetLocal(ctx, cacheIndexID, &index); err != nil {
		return fmt.Errorf("the figures cache is missing (open the app once to build it): %w", err)
	}
	for _, month := range index.Months {
		m, err := loadMonth(ctx, trips, month)
		if err != nil {
			return err
		}
		for _, id := range slices.Sorted(maps.Keys(m.Trips)) {
			if err := each(id, m.Trips[id]); err != nil {
				return err
			}
		}
	}
	return nil
}
