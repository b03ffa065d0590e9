package figures

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/vault"
)

// The inbox is how the connector spares the app reading back the trips it wrote. As a sync
// writes trips, it leaves each one's facts and figures, with the revision written, in _local
// documents of the trips database ("figures-inbox-YYYY-MM", listed in "figures-inbox"). Refresh
// takes a trip from there instead of reading it when the changes feed names the very revision the
// inbox holds: the facts of a revision never change, so whatever else was written meanwhile, an
// inbox entry is used only when it is exact. Writers do not lock each other out: an entry lost to
// a concurrent write costs one read of the trip, never a wrong figure.

const (
	inboxIndexID  = "figures-inbox"
	inboxMonthDoc = "figures-inbox-"
)

// inboxIndex lists the inbox's months.
type inboxIndex struct {
	Version int      `json:"version"`
	Months  []string `json:"months"`
}

// Inbox keeps the facts and figures of the trips a sync writes, for the app's next Refresh.
type Inbox struct {
	trips *vault.DB
	in    Inputs
}

// NewInbox returns the inbox of the trips database, whose figures are computed with in.
func NewInbox(trips *vault.DB, in Inputs) *Inbox {
	return &Inbox{trips: trips, in: in}
}

// SyncInputs returns the inputs a sync computes the figures it leaves in the inbox with: the
// settings stored in the vault, or the defaults when it may not read them (the connector's
// permissions do not include the settings) or they are not valid. The app computes again, from
// the facts, the figures of inputs other than its own: the choice costs time, never a figure.
func SyncInputs(ctx context.Context, v *vault.Vault) Inputs {
	s := settings.Defaults()
	if db, err := v.DB(ctx, vault.DoctypeSettings); err == nil {
		if stored, err := settings.Load(ctx, db); err == nil {
			s = stored
		}
	}
	set, err := co2.Lookup(s.FactorSet)
	if s.FactorSet == "" || err != nil {
		set, _ = co2.Lookup(co2.DefaultSetID)
	}
	return NewInputs(set, s)
}

// Written is a trip a sync wrote: its facts, read before it was written, and the revision the
// vault gave it.
type Written struct {
	ID    string
	Rev   string
	Facts Facts
}

// Add records the trips written. Adding is an optimisation of the app's next Refresh: an error
// leaves the app to read those trips, which it does anyway for any trip the inbox lacks.
func (ib *Inbox) Add(ctx context.Context, written []Written) error {
	if len(written) == 0 {
		return nil
	}
	key := ib.in.key()
	byMonth := map[string]map[string]entry{}
	for _, w := range written {
		a, err := w.Facts.Compute(ib.in)
		if err != nil {
			continue // the app reads it, and says why it cannot compute it
		}
		e := newEntry(w.Rev, key, w.Facts, a)
		m := monthOf(e.Cached)
		if byMonth[m] == nil {
			byMonth[m] = map[string]entry{}
		}
		byMonth[m][w.ID] = e
	}
	var index inboxIndex
	if err := ib.trips.GetLocal(ctx, inboxIndexID, &index); err != nil && !errors.Is(err, vault.ErrNotFound) {
		return err
	}
	listed := len(index.Months)
	for _, month := range slices.Sorted(maps.Keys(byMonth)) {
		m := &cacheMonth{}
		if slices.Contains(index.Months, month) {
			err := ib.trips.GetLocal(ctx, inboxMonthDoc+month, m)
			if errors.Is(err, errBadMonth) {
				m = &cacheMonth{} // damaged, or of another version: written anew
			} else if err != nil && !errors.Is(err, vault.ErrNotFound) {
				return err
			}
		} else {
			index.Months = append(index.Months, month)
		}
		if m.Trips == nil {
			m.Trips = map[string]entry{}
		}
		maps.Copy(m.Trips, byMonth[month])
		if err := ib.trips.PutLocal(ctx, inboxMonthDoc+month, m); err != nil {
			return fmt.Errorf("figures inbox %s: %w", month, err)
		}
	}
	if len(index.Months) == listed && index.Version == cacheVersion {
		return nil
	}
	index.Version = cacheVersion
	slices.Sort(index.Months)
	return ib.trips.PutLocal(ctx, inboxIndexID, index)
}

// key names the inputs in an entry: figures computed with inputs of another key are computed
// again from the entry's facts.
func (in Inputs) key() string {
	s := in.Stamp()
	return s.FactorSet + "\x00" + s.FactorSetVersion + "\x00" + s.Settings + "\x00" + strconv.Itoa(s.Engine)
}

// inbox is the inbox as a Refresh reads it.
type inbox struct {
	index  inboxIndex
	months map[string]*cacheMonth
	// where says which month holds each trip's entry.
	where map[string]string
}

// readInbox reads the whole inbox; an inbox of another version, or none, is empty.
func readInbox(ctx context.Context, trips *vault.DB) (*inbox, error) {
	ib := &inbox{months: map[string]*cacheMonth{}, where: map[string]string{}}
	if err := trips.GetLocal(ctx, inboxIndexID, &ib.index); err != nil && !errors.Is(err, vault.ErrNotFound) {
		return nil, err
	}
	if ib.index.Version != cacheVersion {
		ib.index.Months = nil
	}
	for _, month := range ib.index.Months {
		m := &cacheMonth{}
		err := trips.GetLocal(ctx, inboxMonthDoc+month, m)
		switch {
		case errors.Is(err, errBadMonth): // damaged, or of another version: the trips are read
			m = &cacheMonth{dirty: true}
		case err != nil && !errors.Is(err, vault.ErrNotFound):
			return nil, err
		}
		if m.Trips == nil {
			m.Trips = map[string]entry{}
		}
		ib.months[month] = m
		for id := range m.Trips {
			ib.where[id] = month
		}
	}
	return ib, nil
}

// take returns the inbox's entry of the trip at revision rev, if it has that one, and forgets
// the trip's entry when it is that revision or an older one.
func (ib *inbox) take(id, rev string) (entry, bool) {
	month, ok := ib.where[id]
	if !ok {
		return entry{}, false
	}
	m := ib.months[month]
	e := m.Trips[id]
	if e.rev == rev {
		delete(m.Trips, id)
		m.dirty = true
		return e, true
	}
	if revGeneration(e.rev) <= revGeneration(rev) { // written over since: never of use
		delete(m.Trips, id)
		m.dirty = true
	}
	return entry{}, false
}

// forget drops the trip's entry (the trip was deleted).
func (ib *inbox) forget(id string) {
	if month, ok := ib.where[id]; ok {
		delete(ib.months[month].Trips, id)
		ib.months[month].dirty = true
	}
}

// dropHeld drops the entries of trips the cache holds at their revision or a later one: entries
// a sync added after a Refresh had read their trips, which no change will ever ask for.
func (ib *inbox) dropHeld(months map[string]*cacheMonth) {
	if len(ib.where) == 0 {
		return
	}
	for _, cm := range months {
		for id, held := range cm.Trips {
			month, ok := ib.where[id]
			if !ok {
				continue
			}
			m := ib.months[month]
			if e, ok := m.Trips[id]; ok && revGeneration(e.rev) <= revGeneration(held.rev) {
				delete(m.Trips, id)
				m.dirty = true
			}
		}
	}
}

// revGeneration is the number a revision starts with ("3-abc..."), 0 when it has none.
func revGeneration(rev string) int {
	n, _, _ := strings.Cut(rev, "-")
	g, _ := strconv.Atoi(n)
	return g
}

// save writes back the months the Refresh took entries from. A sync writing meanwhile may lose an
// entry here: the trip is then read.
func (ib *inbox) save(ctx context.Context, trips *vault.DB) error {
	var left []string
	for month, m := range ib.months {
		if len(m.Trips) > 0 {
			left = append(left, month)
		}
		if !m.dirty {
			continue
		}
		if err := trips.PutLocal(ctx, inboxMonthDoc+month, m); err != nil {
			return fmt.Errorf("figures inbox %s: %w", month, err)
		}
	}
	if len(left) == len(ib.index.Months) {
		return nil
	}
	// Months emptied are no longer listed, so that the next Refresh does not read them: a sync
	// listing a month meanwhile may lose it here, which costs reading its trips.
	slices.Sort(left)
	return trips.PutLocal(ctx, inboxIndexID, inboxIndex{Version: cacheVersion, Months: left})
}

// entryFor is the entry of a trip taken from the inbox, with figures for in: computed again from
// its facts when the connector's inputs were others.
func (r *refresher) entryFor(id string, e entry) (entry, bool) {
	if e.inputs == r.in.key() {
		r.res.FromInbox++
		return e, true
	}
	f, err := e.decodeFacts()
	if err != nil {
		return entry{}, false
	}
	r.res.FromInbox++
	return r.compute(id, e.rev, f)
}
