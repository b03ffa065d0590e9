package figures_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"testing"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

var couch = vaulttest.NewServer()

func TestMain(m *testing.M) { os.Exit(couch.Run(m)) }

// TestCacheFollowsTheTrips: after edits, new trips, a deletion and a factor set change, the
// figures cache says exactly what the trips say.
func TestCacheFollowsTheTrips(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			db := tripsDB(t, b)
			add := func(i int) string {
				doc := makeTrip(t, [3]any{"MotionTypes.IN_VEHICLE", float64(1000 * (i + 1)), 600.0})
				doc.Server.StartTS += float64(i * 86400 * 11) // spread over months
				doc.ID = fmt.Sprintf("trip-%02d", i)
				doc.StartDate = fmt.Sprintf("2024-%02d-10T08:00:00+01:00", 1+i%12)
				if _, err := db.Put(ctx, doc.ID, doc); err != nil {
					t.Fatal(err)
				}
				return doc.ID
			}
			for i := range 20 {
				add(i)
			}
			in := inputs(t, co2.DefaultSetID, settings.Defaults())
			if _, err := figures.Refresh(ctx, db, in, false); err != nil {
				t.Fatal(err)
			}
			check := func(when string, in figures.Inputs) {
				t.Helper()
				cacheMatchesTrips(t, db, in, when)
			}
			check("first build", in)
			purpose := trip.Shopping
			if _, err := figures.Apply(ctx, db, "trip-03", figures.Edit{Purpose: &purpose}); err != nil {
				t.Fatal(err)
			}
			add(20)
			var gone trip.Doc
			rev, _ := db.Get(ctx, "trip-07", &gone)
			if _, err := db.Delete(ctx, "trip-07", rev); err != nil {
				t.Fatal(err)
			}
			if _, err := figures.Refresh(ctx, db, in, false); err != nil {
				t.Fatal(err)
			}
			check("after an edit, a new trip and a deletion", in)
			other := inputs(t, co2.ImpactCO2SetID, settings.Defaults())
			if _, err := figures.Refresh(ctx, db, other, false); err != nil {
				t.Fatal(err)
			}
			check("after a factor set change", other)
			// Without its checkpoint, Refresh reads every trip again and builds the cache anew.
			if err := db.PutLocal(ctx, "aggregate-refresh", map[string]any{}); err != nil {
				t.Fatal(err)
			}
			if err := db.PutLocal(ctx, "figures-index", map[string]any{}); err != nil {
				t.Fatal(err)
			}
			if res, err := figures.Refresh(ctx, db, other, false); err != nil || res.Recomputed != 20 || res.Checked != 20 {
				t.Fatalf("refresh without a checkpoint: %+v, %v; want the 20 trips read and computed", res, err)
			}
			check("after the checkpoint was lost", other)
		})
	}
}

// cacheMatchesTrips fails t unless the figures cache holds exactly the figures computed now with
// in from every trip document.
func cacheMatchesTrips(t *testing.T, db *vault.DB, in figures.Inputs, when string) {
	t.Helper()
	ctx := t.Context()
	want := map[string]figures.Cached{}
	err := db.Find(ctx, figures.AllTrips(), func(raw json.RawMessage) error {
		var d trip.Doc
		if err := json.Unmarshal(raw, &d); err != nil {
			return err
		}
		a, err := figures.Compute(&d, in)
		if err != nil {
			return err
		}
		c := figures.Cached{Device: d.CaptureDevice, LocalStart: a.LocalStart, StartTS: a.StartTS,
			Purpose: a.Purpose, NotATrip: a.NotATrip, TotalDuration: a.TotalDuration, TotalCalories: a.TotalCalories,
			TotalCO2: a.TotalCO2, Title: a.AutomaticTitle, ManualTitle: a.Title, Recurring: a.Recurring}
		if n := len(a.Sections); n > 0 {
			c.LocalEnd = a.Sections[n-1].EndDate
		}
		for _, s := range a.Sections {
			c.Sections = append(c.Sections, figures.CachedSection{Mode: s.Mode, Distance: s.Distance, Duration: s.Duration, Calories: s.Calories})
		}
		want[d.ID] = c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]figures.Cached{}
	entries := 0
	if err := figures.EachCached(ctx, db, func(id string, c figures.Cached) error { got[id] = c; entries++; return nil }); err != nil {
		t.Fatal(err)
	}
	if entries != len(got) {
		t.Fatalf("%s: %d entries in the cache for %d trips: a trip counted twice", when, entries, len(got))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: the cache (%d trips) differs from the trips (%d)", when, len(got), len(want))
	}
}
