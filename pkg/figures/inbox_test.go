package figures_test

import (
	"fmt"
	"testing"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
)

// syncLike writes n trips as a sync does: each written, then its facts left in the inbox with
// the revision written. It returns the trips.
func syncLike(t *testing.T, db *vault.DB, ib *figures.Inbox, n int) []*trip.Doc {
	t.Helper()
	ctx := t.Context()
	var docs []*trip.Doc
	var written []figures.Written
	for i := range n {
		doc := makeTrip(t, [3]any{"MotionTypes.IN_VEHICLE", float64(1000 * (i + 1)), 600.0}, [3]any{"MotionTypes.ON_FOOT", 300.0, 240.0})
		doc.Server.StartTS += float64(i * 86400 * 3) // spread over months
		doc.StartDate = fmt.Sprintf("2024-%02d-10T08:00:00+01:00", 1+i%12)
		doc.ID = fmt.Sprintf("trip-%03d", i)
		f, err := figures.FactsOf(doc)
		if err != nil {
			t.Fatal(err)
		}
		rev, err := db.Put(ctx, doc.ID, doc)
		if err != nil {
			t.Fatal(err)
		}
		doc.Rev = rev
		docs = append(docs, doc)
		written = append(written, figures.Written{ID: doc.ID, Rev: rev, Facts: f})
	}
	if err := ib.Add(ctx, written); err != nil {
		t.Fatal(err)
	}
	return docs
}

// TestInboxSparesReadingTrips: the first Refresh after a sync takes every trip from the inbox
// the sync filled, reading none, and the cache holds the figures computed from the trips
// themselves; the inbox is emptied of what was taken.
func TestInboxSparesReadingTrips(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			db := tripsDB(t, b)
			in := inputs(t, co2.DefaultSetID, settings.Defaults())
			const n = 60
			syncLike(t, db, figures.NewInbox(db, in), n)
			res, err := figures.Refresh(ctx, db, in, false)
			if err != nil || res.Read != 0 || res.FromInbox != n || res.Checked != n {
				t.Fatalf("first refresh: %+v, %v; want the %d trips from the inbox, none read", res, err, n)
			}
			cacheMatchesTrips(t, db, in, "from the inbox")
			// A second sync: only its trips come, from the inbox again.
			more := figures.NewInbox(db, in)
			var written []figures.Written
			for i := range 5 {
				doc := makeTrip(t, [3]any{"MotionTypes.BICYCLING", 2000.0, 600.0})
				doc.ID = fmt.Sprintf("new-%d", i)
				doc.Server.StartTS += float64(86400 * (400 + i))
				f, _ := figures.FactsOf(doc)
				rev, err := db.Put(ctx, doc.ID, doc)
				if err != nil {
					t.Fatal(err)
				}
				written = append(written, figures.Written{ID: doc.ID, Rev: rev, Facts: f})
			}
			if err := more.Add(ctx, written); err != nil {
				t.Fatal(err)
			}
			res, err = figures.Refresh(ctx, db, in, false)
			if err != nil || res.Read != 0 || res.FromInbox != 5 || res.Checked != 5 {
				t.Fatalf("after a second sync: %+v, %v; want its 5 trips from the inbox", res, err)
			}
			cacheMatchesTrips(t, db, in, "after a second sync")
			// Nothing is left to take: a refresh with the trips changed reads them.
			if _, err := figures.Apply(ctx, db, "trip-001", figures.Edit{Title: ptr("Mine")}); err != nil {
				t.Fatal(err)
			}
			if res, err = figures.Refresh(ctx, db, in, false); err != nil || res.Read != 1 || res.FromInbox != 0 {
				t.Fatalf("a trip changed with nothing in the inbox: %+v, %v; want it read", res, err)
			}
		})
	}
}

// TestInboxIsNeverTrustedBlindly: an inbox entry is used only for the very revision it was made
// from. A trip changed after the sync (an edit), a trip deleted, entries lost to a concurrent
// write, and entries computed with other settings all end with the cache matching the trips.
func TestInboxIsNeverTrustedBlindly(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			db := tripsDB(t, b)
			in := inputs(t, co2.DefaultSetID, settings.Defaults())
			const n = 40
			// The sync computed with another factor set than the app's.
			syncLike(t, db, figures.NewInbox(db, inputs(t, co2.ImpactCO2SetID, settings.Defaults())), n)
			// Edited after the sync: its inbox entry is of an older revision.
			if _, err := figures.Apply(ctx, db, "trip-003", figures.Edit{Purpose: ptr(trip.Shopping)}); err != nil {
				t.Fatal(err)
			}
			var gone trip.Doc
			rev, _ := db.Get(ctx, "trip-007", &gone)
			if _, err := db.Delete(ctx, "trip-007", rev); err != nil {
				t.Fatal(err)
			}
			// A concurrent write lost the inbox's entries of one month.
			if err := db.PutLocal(ctx, "figures-inbox-2024-02", map[string]any{}); err != nil {
				t.Fatal(err)
			}
			res, err := figures.Refresh(ctx, db, in, false)
			if err != nil {
				t.Fatal(err)
			}
			lost := 0
			for i := range n {
				if i%12 == 1 {
					lost++
				}
			}
			if res.Read != 1+lost || res.FromInbox != n-2-lost || res.Checked != n-1 {
				t.Fatalf("refresh: %+v; want the edited trip and the %d lost read, %d from the inbox", res, lost, n-2-lost)
			}
			cacheMatchesTrips(t, db, in, "with a stale, a deleted, lost and other settings' entries")
		})
	}
}

func ptr[T any](v T) *T { return &v }
