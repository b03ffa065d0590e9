package figures

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/vault"
)

// The feed is how the connector spares the app reading back the trips it writes. As a sync
// writes a batch of trips, it puts each one's facts and figures, with the revision the vault
// gave it, into the figures cache itself, under the cache's lock, and moves the cache's
// checkpoint past its own writes. The app's first Refresh after a sync then has nothing to do.
//
// What makes this safe with the app writing too:
//   - every writer (a feed's batch, a Refresh) writes under the cache's lock, and the cache holds
//     at most one entry per trip: a Refresh removes every other entry of a trip it takes;
//   - under the lock, the feed checks that each trip still has the revision it wrote (one request
//     for the revisions): any later change comes after every checkpoint written so far, so a
//     Refresh sees it;
//   - it puts a trip the vault had before (a revision past 1-…, a label applied in a later
//     window) only in place of the trip's entry in the same month: elsewhere, the entry it would
//     leave is one only a Refresh, reading every month, finds;
//   - it writes only into a cache whose figures follow its own inputs (or creates the cache when
//     there is none), so that the checkpoint's inputs stay true of every entry;
//   - it moves the checkpoint only when every change since is one of its entries, at that
//     revision; otherwise the app's Refresh checks those changes and finds the entries there.
//
// Whatever the feed fails to do costs the app reading those trips, never a wrong figure.

// feedLockWait is how long a sync's batch waits for the app writing the cache before it leaves
// the batch's trips to the app.
const feedLockWait = 20 * time.Second

// Feed puts the figures of the trips a sync writes into the figures cache. It is safe for
// concurrent use (the syncs of several accounts).
type Feed struct {
	trips *vault.DB
	in    Inputs
	// lockWait is how long a batch waits for the cache's lock.
	lockWait time.Duration

	mu sync.Mutex
	// skipUntil is set when the cache was found busy: the next batches do not wait for it too.
	skipUntil time.Time
	// noLease is set through a Cozy stack, which has no lease (vault.ErrNoLease).
	noLease bool
}

// NewFeed returns the feed of the trips database's figures cache, computing figures with in.
func NewFeed(trips *vault.DB, in Inputs) *Feed {
	return &Feed{trips: trips, in: in, lockWait: feedLockWait}
}

// SyncInputs returns the inputs a sync computes the figures it feeds with: the settings stored in
// the vault, or the defaults when it may not read them (the connector's permissions do not
// include the settings) or they are not valid. A feed whose inputs are not the cache's writes
// nothing: the app reads those trips.
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

// Add puts the trips written into the figures cache. It is an optimisation of the app's next
// Refresh: an error leaves the app to read those trips, as it does for any trip not put here.
func (f *Feed) Add(ctx context.Context, written []Written) error {
	f.mu.Lock()
	skip := f.noLease || time.Now().Before(f.skipUntil)
	f.mu.Unlock()
	if skip {
		return nil
	}
	entries := make(map[string]entry, len(written))
	key := f.in.key()
	for _, w := range written {
		a, err := w.Facts.Compute(f.in)
		if err != nil {
			continue // the app reads it, and says why it cannot compute it
		}
		entries[w.ID] = newEntry(w.Rev, key, w.Facts, a)
	}
	if len(entries) == 0 {
		return nil
	}
	l, err := lockCache(ctx, f.trips, f.lockWait)
	if err != nil {
		f.mu.Lock()
		switch {
		case errors.Is(err, vault.ErrNoLease): // the app is the cache's only writer
			f.noLease = true
			err = nil
		case errors.Is(err, ErrCacheBusy):
			f.skipUntil = time.Now().Add(lockLease)
		}
		f.mu.Unlock()
		return err
	}
	defer l.unlock(ctx)
	return f.put(ctx, l, entries)
}

// put writes entries into the cache, and moves its checkpoint past them when they are all that
// changed since. The caller holds the lock l.
func (f *Feed) put(ctx context.Context, l *cacheLock, entries map[string]entry) error {
	var index cacheIndex
	if err := f.trips.GetLocal(ctx, cacheIndexID, &index); err != nil && !errors.Is(err, vault.ErrNotFound) {
		return err
	}
	var cp checkpoint
	if err := f.trips.GetLocal(ctx, checkpointID, &cp); err != nil && !errors.Is(err, vault.ErrNotFound) {
		return err
	}
	noCache := index.Version == 0 && cp.Seq == ""
	if !noCache && (index.Version != cacheVersion || cp.Seq == "" || cp.Cache != cacheVersion || cp.Inputs != f.in.Stamp()) {
		return nil // a cache of other inputs, or that the app must rebuild: the app reads these trips
	}
	ids := make([]string, 0, len(entries))
	for id := range entries {
		ids = append(ids, id)
	}
	revs, err := f.trips.Revs(ctx, ids)
	if err != nil {
		return err
	}
	months := map[string]*cacheMonth{}
	for id, e := range entries {
		if revs[id] != e.rev {
			delete(entries, id) // changed or deleted since it was written: the app reads it
			continue
		}
		month := monthOf(e.Cached)
		if months[month] == nil {
			m := &cacheMonth{Trips: map[string]entry{}}
			if index.Version == cacheVersion && slices.Contains(index.Months, month) {
				if m, err = loadMonth(ctx, f.trips, month); err != nil {
					return err
				}
			}
			months[month] = m
		}
		if _, ok := months[month].Trips[id]; !ok && revGeneration(e.rev) != 1 {
			delete(entries, id) // it had an entry, in another month (see above): the app reads it
			continue
		}
		addEntry(months, id, e)
	}
	if len(entries) == 0 {
		return nil
	}
	if err := writeMonths(ctx, f.trips, months); err != nil {
		return err
	}
	seq, ours, err := onlyThese(ctx, f.trips, cp.Seq, entries)
	if err != nil || !ours || !l.held() {
		return err
	}
	return f.trips.PutLocal(ctx, checkpointID, checkpoint{Seq: seq, Inputs: f.in.Stamp(), Cache: cacheVersion})
}

// onlyThese reads the changes after since and says whether they are all trips of entries at the
// entries' revisions, with the sequence they end at. It reads no more than one change beyond the
// entries: more means others.
func onlyThese(ctx context.Context, trips *vault.DB, since string, entries map[string]entry) (seq string, ours bool, err error) {
	seen := 0
	for {
		changes, last, err := trips.Changes(ctx, vault.ChangesQuery{Since: since, Limit: len(entries) + 1})
		if err != nil {
			return "", false, err
		}
		for _, c := range changes {
			e, ok := entries[c.ID]
			if !ok || c.Deleted || c.Rev != e.rev {
				return "", false, nil
			}
			if seen++; seen > len(entries) {
				return "", false, nil // a trip twice: changed again
			}
		}
		// Only an empty page ends the feed (a page holding design documents is short).
		if len(changes) == 0 || last == since {
			return last, true, nil
		}
		since = last
	}
}

// key names the inputs in an entry.
func (in Inputs) key() string {
	s := in.Stamp()
	return s.FactorSet + "\x00" + s.FactorSetVersion + "\x00" + s.Settings + "\x00" + strconv.Itoa(s.Engine)
}

// revGeneration is the number a revision starts with ("3-abc..."), 0 when it has none.
func revGeneration(rev string) int {
	n, _, _ := strings.Cut(rev, "-")
	g, _ := strconv.Atoi(n)
	return g
}
