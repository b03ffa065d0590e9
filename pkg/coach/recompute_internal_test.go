package coach

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/coach/coachtest"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/vault"
)

// TestSettingsRecomputeInBackground: a factor set change answers once the settings are saved,
// while the recompute it starts waits its turn (here, behind a refresh the test holds); the
// progress says so, reports do not wait for it, and at its end every trip carries the new
// factor set.
func TestSettingsRecomputeInBackground(t *testing.T) {
	ctx := context.Background()
	v, err := vault.Open(ctx, filepath.Join(t.TempDir(), "vault.db"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	const n = 300
	trips := coachtest.Fill(t, v, n)
	c, err := Open(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	c.refreshMu.Lock() // a refresh in progress: the recompute must wait for it
	answered := make(chan error, 1)
	go func() {
		_, err := c.UpdateSettingsInBackground(ctx, func(s *settings.Settings) error {
			s.FactorSet = co2.ImpactCO2SetID
			return nil
		})
		answered <- err
	}()
	select {
	case err := <-answered:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute): // only when broken: a synchronous recompute never answers
		c.refreshMu.Unlock()
		t.Fatal("the settings change waits for the recompute")
	}
	if p := c.Recomputing(); !p.Running || p.Done != 0 {
		t.Errorf("progress while waiting: %+v", p)
	}
	if c.Settings().FactorSet != co2.ImpactCO2SetID {
		t.Errorf("the settings in force did not change")
	}
	if _, err := c.Report(ctx, indicators.Query{}, nil); err != nil { // does not wait
		t.Fatal(err)
	}
	c.refreshMu.Unlock()
	p, err := c.WaitRecompute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Running || p.Failed || p.Total != trips || p.Done != trips {
		t.Fatalf("progress at the end: %+v, want %d of %d", p, trips, trips)
	}
	// The cache is current for the new factor set: a refresh with it computes nothing, and the
	// cached totals are the new set's.
	res, err := figures.Refresh(ctx, c.trips, c.Inputs(), false)
	if err != nil || res.Recomputed != 0 {
		t.Fatalf("a refresh after the recompute: %+v, %v; want nothing recomputed", res, err)
	}
	want := map[string]float64{}
	err = figures.EachFigures(ctx, c.trips, c.Inputs(), func(f figures.Figures) error {
		if f.Aggregation.Stamp.FactorSet != co2.ImpactCO2SetID {
			t.Errorf("trip %s computed with %s", f.ID, f.Aggregation.Stamp.FactorSet)
		}
		want[f.ID] = f.Aggregation.TotalCO2
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = figures.EachCached(ctx, c.trips, func(id string, got figures.Cached) error {
		if got.TotalCO2 != want[id] {
			t.Errorf("trip %s: cached CO2 %v, want the new set's %v", id, got.TotalCO2, want[id])
		}
		return nil
	})
	if err != nil || len(want) != trips {
		t.Fatalf("%d trips, %v; want %d", len(want), err, trips)
	}
}
