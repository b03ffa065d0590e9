package tripsync_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// TestSyncFeedsTheFiguresCache: an engine with the figures feed puts every trip it writes into
// the figures cache (labels applied included), and moves its checkpoint, so that the app's first
// Refresh has nothing to do; and the facts it put there are the trips' own: the figures the cache
// gives are those computed from the documents.
func TestSyncFeedsTheFiguresCache(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
		ctx := t.Context()
		e := newEnv(t, b, samples(t))
		set, _ := co2.Lookup(co2.DefaultSetID)
		in := figures.NewInputs(set, settings.Defaults())
		var err error
		if e.engine, err = tripsync.New(ctx, e.trips, e.store, tripsync.WithFiguresFeed(figures.NewFeed(e.trips, in))); err != nil {
			t.Fatal(err)
		}
		if err := e.trips.EnsureIndexes(ctx, figures.Indexes...); err != nil {
			t.Fatal(err)
		}
		sum := e.mustSync(tripsync.Options{})
		if sum.Created != 76 || sum.LabelsApplied == 0 {
			t.Fatalf("sync: %+v", sum)
		}
		res, err := figures.Refresh(ctx, e.trips, in, false)
		if err != nil || res.Checked != 0 || len(res.Errors) != 0 {
			t.Fatalf("the app's first refresh: %+v, %v; want nothing to do", res, err)
		}
		matchesDocs(t, e.trips, in)
		// A sync that changes nothing leaves nothing; the next refresh has nothing to do.
		e.mustSync(tripsync.Options{Since: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)})
		if res, err := figures.Refresh(ctx, e.trips, in, false); err != nil || res.Checked != 0 {
			t.Fatalf("after a sync that changed nothing: %+v, %v", res, err)
		}
	})
}

// matchesDocs fails t unless the figures the cache gives for every trip are the figures computed
// from the trip's document.
func matchesDocs(t *testing.T, trips *vault.DB, in figures.Inputs) {
	t.Helper()
	ctx := t.Context()
	want := map[string]trip.Aggregation{}
	err := trips.Find(ctx, figures.AllTrips(), func(raw json.RawMessage) error {
		var d trip.Doc
		if err := json.Unmarshal(raw, &d); err != nil {
			return err
		}
		a, err := figures.Compute(&d, in)
		want[d.ID] = a
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]trip.Aggregation{}
	if err := figures.EachFigures(ctx, trips, in, func(f figures.Figures) error { got[f.ID] = f.Aggregation; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d trips in the cache, %d in the vault", len(got), len(want))
	}
	for id, a := range want {
		if !reflect.DeepEqual(got[id], a) {
			t.Fatalf("trip %s: from the cache %+v, from its document %+v", id, got[id], a)
		}
	}
	err = figures.EachCached(ctx, trips, func(id string, c figures.Cached) error {
		if c.TotalCO2 != want[id].TotalCO2 || c.Purpose != want[id].Purpose {
			t.Errorf("trip %s: cached %v kg %s, its document's %v kg %s", id, c.TotalCO2, c.Purpose, want[id].TotalCO2, want[id].Purpose)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
