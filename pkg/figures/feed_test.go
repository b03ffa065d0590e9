package figures_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
)

// newTrip returns trip i of a sync: spread over the months of 2024.
func newTrip(t *testing.T, i int) *trip.Doc {
	t.Helper()
	doc := makeTrip(t, [3]any{"MotionTypes.IN_VEHICLE", float64(1000 * (i + 1)), 600.0}, [3]any{"MotionTypes.ON_FOOT", 300.0, 240.0})
	doc.Server.StartTS += float64(i * 86400 * 3)
	doc.StartDate = fmt.Sprintf("2024-%02d-10T08:00:00+01:00", 1+i%12)
	doc.ID = fmt.Sprintf("trip-%03d", i)
	return doc
}

// write writes docs as a sync does, and returns what it hands its feed: each trip's facts, read
// before it is written, with the revision written.
func write(t *testing.T, db *vault.DB, docs ...*trip.Doc) []figures.Written {
	t.Helper()
	var written []figures.Written
	for _, doc := range docs {
		f, err := figures.FactsOf(doc)
		if err != nil {
			t.Fatal(err)
		}
		rev, err := db.Put(t.Context(), doc.ID, doc)
		if err != nil {
			t.Fatal(err)
		}
		doc.Rev = rev
		written = append(written, figures.Written{ID: doc.ID, Rev: rev, Facts: f})
	}
	return written
}

// syncLike writes n new trips as a sync does, and feeds them. It returns the trips.
func syncLike(t *testing.T, db *vault.DB, feed *figures.Feed, n int) []*trip.Doc {
	t.Helper()
	var docs []*trip.Doc
	for i := range n {
		docs = append(docs, newTrip(t, i))
	}
	if err := feed.Add(t.Context(), write(t, db, docs...)); err != nil {
		t.Fatal(err)
	}
	return docs
}

// refresh runs the app's Refresh and fails t unless it read read trips and the cache then
// matches the trips.
func refresh(t *testing.T, db *vault.DB, in figures.Inputs, read int, when string) figures.Result {
	t.Helper()
	res, err := figures.Refresh(t.Context(), db, in, false)
	if err != nil || res.Read != read || len(res.Errors) != 0 {
		t.Fatalf("%s: refresh %+v, %v; want %d trips read", when, res, err, read)
	}
	cacheMatchesTrips(t, db, in, when)
	return res
}

// TestFeedSparesReadingTrips: the trips a sync feeds into the figures cache, new or written
// again (a label applied later), are never read back: the app's Refresh after the sync has
// nothing to do, and the cache holds the figures computed from the trips themselves.
func TestFeedSparesReadingTrips(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			db := tripsDB(t, b)
			in := inputs(t, co2.DefaultSetID, settings.Defaults())
			feed := figures.NewFeed(db, in)
			docs := syncLike(t, db, feed, 60)
			if res := refresh(t, db, in, 0, "first refresh"); res.Checked != 0 {
				t.Fatalf("first refresh: %+v; want nothing to do: the feed moved the checkpoint", res)
			}
			// A second sync: new trips, and a label on a trip of the first, in one batch.
			more := []*trip.Doc{newTrip(t, 100), newTrip(t, 101)}
			docs[1].Labels.Apply("purpose_confirm", trip.Label{Value: "shopping", WriteTS: 1})
			more = append(more, docs[1])
			if err := feed.Add(ctx, write(t, db, more...)); err != nil {
				t.Fatal(err)
			}
			if res := refresh(t, db, in, 0, "after a second sync"); res.Checked != 0 {
				t.Fatalf("after a second sync: %+v; want nothing to do", res)
			}
			// A change the feed did not see is read.
			if _, err := figures.Apply(ctx, db, "trip-002", figures.Edit{Title: ptr("Mine")}); err != nil {
				t.Fatal(err)
			}
			refresh(t, db, in, 1, "after an edit")
		})
	}
}

// TestFeedIsNeverTrustedBlindly: what the feed cannot vouch for, it leaves to the app's Refresh,
// which reads those trips: a trip changed or deleted between its write and its feed (and the
// app refreshed meanwhile), a trip written again with its entry in another month, trips fed into
// a cache of other inputs, and trips fed while another process holds the cache, or just after.
// The cache matches the trips each time, and holds no trip twice.
func TestFeedIsNeverTrustedBlindly(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			db := tripsDB(t, b)
			in := inputs(t, co2.DefaultSetID, settings.Defaults())
			feed := figures.NewFeed(db, in)
			docs := syncLike(t, db, feed, 24)
			refresh(t, db, in, 0, "first refresh")

			// Written by a sync, then edited and deleted by the app, which refreshes, all before
			// the sync feeds them.
			a, b2 := newTrip(t, 200), newTrip(t, 201)
			written := write(t, db, a, b2)
			if _, err := figures.Apply(ctx, db, a.ID, figures.Edit{Purpose: ptr(trip.Shopping)}); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Delete(ctx, b2.ID, b2.Rev); err != nil {
				t.Fatal(err)
			}
			refresh(t, db, in, 1, "the app, between a sync's write and its feed")
			if err := feed.Add(ctx, written); err != nil {
				t.Fatal(err)
			}
			refresh(t, db, in, 0, "after the feed of trips changed since")
			// Written again by a sync with its start in another month (the server's trip moved).
			moved := docs[3]
			moved.StartDate = "2024-09-30T23:30:00+02:00"
			if err := feed.Add(ctx, write(t, db, moved)); err != nil {
				t.Fatal(err)
			}
			refresh(t, db, in, 1, "after the feed of a trip moved to another month")

			// The app's settings changed: the feed's inputs are no longer the cache's.
			other := inputs(t, co2.ImpactCO2SetID, settings.Defaults())
			if res := refresh(t, db, other, 0, "new settings"); res.Recomputed != 25 {
				t.Fatalf("new settings: %+v; want the 25 trips recomputed from their facts", res)
			}
			if err := feed.Add(ctx, write(t, db, newTrip(t, 300))); err != nil {
				t.Fatal(err)
			}
			refresh(t, db, other, 1, "fed with other inputs than the cache's")

			// Another process holds the cache: the feed gives up waiting, and does not wait again
			// for a lease's time; the app reads those trips once the lock is free.
			unlock, err := figures.LockCache(ctx, db, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			busy := figures.NewFeed(db, other)
			busy.SetLockWait(50 * time.Millisecond)
			if err := busy.Add(ctx, write(t, db, newTrip(t, 301))); !errors.Is(err, figures.ErrCacheBusy) {
				t.Fatalf("feed with the cache locked: err = %v, want ErrCacheBusy", err)
			}
			unlock()
			if err := busy.Add(ctx, write(t, db, newTrip(t, 302))); err != nil {
				t.Fatal(err)
			}
			refresh(t, db, other, 2, "fed while the cache was busy")
		})
	}
}

// TestFeedCreatesTheCache: a sync into a vault the app never opened creates the figures cache,
// with its own inputs; the app, with others, computes every figure again from the facts,
// reading no trip.
func TestFeedCreatesTheCache(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db := tripsDB(t, b)
			syncLike(t, db, figures.NewFeed(db, inputs(t, co2.ImpactCO2SetID, settings.Defaults())), 30)
			in := inputs(t, co2.DefaultSetID, settings.Defaults())
			if res := refresh(t, db, in, 0, "first refresh, other inputs"); res.Recomputed != 30 {
				t.Fatalf("first refresh: %+v; want the 30 trips recomputed from their facts", res)
			}
		})
	}
}

// TestRefreshWaitsForTheLock: a Refresh with work to do writes nothing while another process
// holds the cache's lock, and does its work once it is free.
func TestRefreshWaitsForTheLock(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			db := tripsDB(t, b)
			in := inputs(t, co2.DefaultSetID, settings.Defaults())
			write(t, db, newTrip(t, 1), newTrip(t, 2))
			unlock, err := figures.LockCache(ctx, db, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			if res, err := figures.Refresh(short, db, in, false); err == nil {
				t.Fatalf("Refresh with the lock held elsewhere: %+v, no error", res)
			}
			if _, err := figures.Months(ctx, db); err == nil {
				t.Fatal("a Refresh wrote the cache without its lock")
			}
			if _, err := figures.LockCache(ctx, db, 50*time.Millisecond); !errors.Is(err, figures.ErrCacheBusy) {
				t.Fatalf("a second holder: err = %v, want ErrCacheBusy", err)
			}
			unlock()
			refresh(t, db, in, 2, "once the lock is free")
		})
	}
}

// TestLockOfADeadProcess: a lock whose holder stopped renewing it is taken once its lease ran
// out; a live one is not.
func TestLockOfADeadProcess(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			db := tripsDB(t, b)
			live := time.Now().Add(time.Hour).UnixMilli()
			rev, err := db.PutLeaseIf(ctx, "figures", "", map[string]any{"owner": "gone", "until": live})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := figures.LockCache(ctx, db, 50*time.Millisecond); !errors.Is(err, figures.ErrCacheBusy) {
				t.Fatalf("a live lease: err = %v, want ErrCacheBusy", err)
			}
			ranOut := time.Now().Add(-time.Second).UnixMilli()
			if _, err := db.PutLeaseIf(ctx, "figures", rev, map[string]any{"owner": "gone", "until": ranOut}); err != nil {
				t.Fatal(err)
			}
			unlock, err := figures.LockCache(ctx, db, 50*time.Millisecond)
			if err != nil {
				t.Fatalf("a lease run out: %v", err)
			}
			unlock()
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestFeedAndRefreshTogether: a sync feeding batches (new trips, and labels on trips of earlier
// batches) while the app refreshes and edits trips, at once: at the end the cache holds every
// trip once, with the figures of its document.
func TestFeedAndRefreshTogether(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			db := tripsDB(t, b)
			in := inputs(t, co2.DefaultSetID, settings.Defaults())
			const batches, perBatch = 12, 8
			synced := make(chan string, batches*perBatch)
			syncErr := make(chan error, 1)
			go func() {
				defer close(synced)
				feed := figures.NewFeed(db, in)
				var docs []*trip.Doc
				for n := range batches {
					var batch []*trip.Doc
					for i := range perBatch {
						batch = append(batch, newTrip(t, n*perBatch+i))
					}
					if n > 0 { // a label on a trip of the batch before, written again
						prev := docs[len(docs)-1]
						var cur trip.Doc
						rev, err := db.Get(ctx, prev.ID, &cur)
						if err != nil {
							syncErr <- err
							return
						}
						cur.Rev = rev
						cur.Labels.Apply("mode_confirm", trip.Label{Value: "bike", WriteTS: float64(n)})
						batch = append(batch, &cur)
					}
					var written []figures.Written
					for _, d := range batch {
						f, err := figures.FactsOf(d)
						if err != nil {
							syncErr <- err
							return
						}
						rev, err := db.Put(ctx, d.ID, d)
						if errors.Is(err, vault.ErrConflict) {
							continue // the app wrote it meanwhile: the sync would merge again
						}
						if err != nil {
							syncErr <- err
							return
						}
						d.Rev = rev
						written = append(written, figures.Written{ID: d.ID, Rev: rev, Facts: f})
					}
					if err := feed.Add(ctx, written); err != nil {
						syncErr <- err
						return
					}
					docs = append(docs, batch[:perBatch]...)
					for _, d := range batch[:perBatch] {
						synced <- d.ID
					}
				}
				syncErr <- nil
			}()
			edits := 0
			for id := range synced {
				if _, err := figures.Refresh(ctx, db, in, false); err != nil {
					t.Fatal(err)
				}
				if edits++; edits%5 == 0 {
					if _, err := figures.Apply(ctx, db, id, figures.Edit{Purpose: ptr(trip.Shopping)}); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := <-syncErr; err != nil {
				t.Fatal(err)
			}
			if _, err := figures.Refresh(ctx, db, in, false); err != nil {
				t.Fatal(err)
			}
			cacheMatchesTrips(t, db, in, "after a sync and the app at once")
		})
	}
}
