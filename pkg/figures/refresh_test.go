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

// TestRefreshDoesNotReadBackItsOwnWrites: the Refresh after the one that computed every trip's
// figures checks no trip, as the figures it wrote are current; a trip changed since is checked.
func TestRefreshDoesNotReadBackItsOwnWrites(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			db := tripsDB(t, b)
			const n = 450 // more than a batch
			for i := range n {
				doc := makeTrip(t, [3]any{"MotionTypes.IN_VEHICLE", float64(1000 * (i + 1)), 600.0})
				doc.Server.StartTS += float64(i * 3600)
				doc.ID = fmt.Sprintf("trip-%03d", i)
				if _, err := db.Put(ctx, doc.ID, doc); err != nil {
					t.Fatal(err)
				}
			}
			in := inputs(t, co2.DefaultSetID, settings.Defaults())
			res, err := figures.Refresh(ctx, db, in, false)
			if err != nil || res.Recomputed != n {
				t.Fatalf("first refresh: %+v, %v; want %d recomputed", res, err, n)
			}
			_, before, err := db.Changes(ctx, vault.ChangesQuery{Since: "now"})
			if err != nil {
				t.Fatal(err)
			}
			res, err = figures.Refresh(ctx, db, in, false)
			if err != nil || res.Checked != 0 || res.Recomputed != 0 {
				t.Fatalf("second refresh: %+v, %v; want nothing checked", res, err)
			}
			// Nothing to do, nothing written: not even the lease (a design document, which moves
			// the sequence).
			if _, after, err := db.Changes(ctx, vault.ChangesQuery{Since: "now"}); err != nil || after != before {
				t.Fatalf("a refresh with nothing to do wrote: sequence %s, then %s (%v)", before, after, err)
			}
			doc := makeTrip(t, [3]any{"MotionTypes.BICYCLING", 2000.0, 600.0})
			doc.ID = "trip-new"
			if _, err := db.Put(ctx, doc.ID, doc); err != nil {
				t.Fatal(err)
			}
			res, err = figures.Refresh(ctx, db, in, false)
			if err != nil || res.Checked != 1 || res.Recomputed != 1 {
				t.Fatalf("refresh after a new trip: %+v, %v; want it alone checked and recomputed", res, err)
			}
			res, err = figures.Refresh(ctx, db, in, false)
			if err != nil || res.Checked != 0 {
				t.Fatalf("refresh after that: %+v, %v; want nothing checked", res, err)
			}
		})
	}
}

// TestNewSettingsReadNoTrip: Refresh never writes a trip (the changes feed names none: the lease
// it takes is a design document), and new settings (a factor set, a default mode, home) recompute every trip's figures
// from the facts the cache keeps, reading no trip; a trip changed meanwhile is read, and only it.
func TestNewSettingsReadNoTrip(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			db := tripsDB(t, b)
			const n = 250
			for i := range n {
				doc := makeTrip(t, [3]any{"MotionTypes.IN_VEHICLE", float64(1000 * (i + 1)), 600.0})
				doc.Server.StartTS += float64(i * 3600)
				doc.ID = fmt.Sprintf("trip-%03d", i)
				if _, err := db.Put(ctx, doc.ID, doc); err != nil {
					t.Fatal(err)
				}
			}
			seq := func() string {
				t.Helper()
				_, s, err := db.Changes(ctx, vault.ChangesQuery{Since: "now"})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			before := seq()
			changed := func() []vault.Change {
				t.Helper()
				changes, _, err := db.Changes(ctx, vault.ChangesQuery{Since: before})
				if err != nil {
					t.Fatal(err)
				}
				return changes
			}
			res, err := figures.Refresh(ctx, db, inputs(t, co2.DefaultSetID, settings.Defaults()), false)
			if err != nil || res.Read != n || res.Recomputed != n {
				t.Fatalf("first refresh: %+v, %v; want the %d trips read and computed", res, err, n)
			}
			if c := changed(); len(c) != 0 {
				t.Fatalf("the first refresh wrote trips: %+v", c)
			}
			electric := settings.Defaults()
			electric.DefaultModes = map[trip.Group]trip.Mode{trip.GroupCar: trip.CarElectric}
			for _, step := range []struct {
				name string
				in   figures.Inputs
			}{
				{"a factor set", inputs(t, co2.ImpactCO2SetID, settings.Defaults())},
				{"a default mode", inputs(t, co2.ImpactCO2SetID, electric)},
			} {
				res, err := figures.Refresh(ctx, db, step.in, false)
				if err != nil || res.Read != 0 || res.Recomputed != n {
					t.Fatalf("%s: %+v, %v; want %d recomputed, no trip read", step.name, res, err, n)
				}
				modes := map[trip.Mode]int{}
				err = figures.EachCached(ctx, db, func(id string, c figures.Cached) error {
					for _, s := range c.Sections {
						modes[s.Mode]++
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if want := step.in.Settings.DefaultModes[trip.GroupCar]; want != "" && modes[want] != n {
					t.Fatalf("%s: modes %v, want %d %s", step.name, modes, n, want)
				}
			}
			if c := changed(); len(c) != 0 {
				t.Fatalf("a settings change wrote trips: %+v", c)
			}
			var d trip.Doc
			rev, err := db.Get(ctx, "trip-007", &d)
			if err != nil {
				t.Fatal(err)
			}
			d.Rev = rev
			_ = d.SetManual(trip.Manual{Purpose: trip.Shopping, PurposeFrom: "user"})
			if _, err := db.Put(ctx, d.ID, &d); err != nil {
				t.Fatal(err)
			}
			res, err = figures.Refresh(ctx, db, inputs(t, co2.DefaultSetID, settings.Defaults()), false)
			if err != nil || res.Read != 1 || res.Recomputed != n {
				t.Fatalf("new settings and an edited trip: %+v, %v; want the trip alone read", res, err)
			}
		})
	}
}

// TestChangesReadPastDesignDocuments: a page of the changes feed that held a design document
// (an index, created first) is short of the batch, and the feed goes on after it.
func TestChangesReadPastDesignDocuments(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			db := tripsDB(t, b) // with its index
			const n = 35
			for i := range n {
				if _, err := db.Put(ctx, fmt.Sprintf("trip-%02d", i), map[string]any{"i": i}); err != nil {
					t.Fatal(err)
				}
			}
			changed, err := figures.ChangedSince(ctx, db, "", 10)
			if err != nil || len(changed) != n {
				t.Fatalf("%d changes read in batches of 10, %v; want %d", len(changed), err, n)
			}
		})
	}
}
