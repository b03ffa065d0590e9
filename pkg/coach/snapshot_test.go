package coach_test

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/coach/coachtest"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/tripgen"
	"github.com/coachco2/coachco2/pkg/vault"
)

// TestReadsSeeEveryWrite: the trip list and the reports, read again and again while nothing
// changes, show a trip written by another writer (a sync, through its own handle on the vault)
// at the next read, and a factor set change at once.
func TestReadsSeeEveryWrite(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "vault.db")
	v, err := vault.Open(ctx, path, "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	n := coachtest.Fill(t, v, 200)
	c, err := coach.Open(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	// count returns the trips listed and reported, and the CO2 of the listed trips and of the
	// report.
	count := func() (listed, reported int, listKg, reportKg float64) {
		t.Helper()
		list, total, err := c.ListTrips(ctx, coach.TripQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list {
			listKg += s.CO2Kg
		}
		r, err := c.Report(ctx, indicators.Query{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return total, r.Totals.Trips, listKg, r.Totals.CO2Kg
	}
	for range 3 {
		if listed, reported, _, _ := count(); listed != n || reported != n {
			t.Fatalf("%d trips listed, %d reported; want %d", listed, reported, n)
		}
	}

	// Another writer: a handle of its own, as the connector's sync has, writes a new trip.
	other, err := vault.Open(ctx, path, "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	db, err := other.DB(ctx, vault.DoctypeTrips)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := tripgen.New(tripgen.Config{Users: 1, Days: 1, Seed: 3, Start: openpath.Date{Year: 2030, Month: 1, Day: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var doc *trip.Doc
	gen.Trips(0, func(_ int, tr *tripgen.Trip) bool {
		doc, err = openpath.FromTimeline(tr.AppendGeoJSON(nil), openpath.Origin{Device: "other-phone", App: "openpath"}, time.Now())
		return false
	})
	if err != nil || doc == nil {
		t.Fatalf("a generated trip: %v", err)
	}
	if _, err := vault.SaveMany(ctx, db, []*trip.Doc{doc}, 0); err != nil {
		t.Fatal(err)
	}
	listed, reported, listBefore, reportBefore := count()
	if listed != n+1 || reported != n+1 {
		t.Fatalf("after another writer's trip: %d trips listed, %d reported; want %d", listed, reported, n+1)
	}

	if _, err := c.UpdateSettings(ctx, func(s *settings.Settings) error {
		s.FactorSet = co2.ImpactCO2SetID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, _, listAfter, reportAfter := count()
	r, err := c.Report(ctx, indicators.Query{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if listAfter == listBefore || reportAfter == reportBefore || r.FactorSet.ID != co2.ImpactCO2SetID {
		t.Errorf("after the factor set change: trips listed with %.3f kg (was %.3f), reported with %.3f kg (was %.3f), report with %q",
			listAfter, listBefore, reportAfter, reportBefore, r.FactorSet.ID)
	}
}

// TestConcurrentReads: many requests at once, while a writer adds trips, each see at least the
// trips written before they began.
func TestConcurrentReads(t *testing.T) {
	ctx := t.Context()
	v, err := vault.Open(ctx, filepath.Join(t.TempDir(), "vault.db"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	n := coachtest.Fill(t, v, 100)
	c, err := coach.Open(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	db, err := v.DB(ctx, vault.DoctypeTrips)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := tripgen.New(tripgen.Config{Users: 1, Days: 3, Seed: 5, Start: openpath.Date{Year: 2030, Month: 1, Day: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var docs []*trip.Doc
	gen.Trips(0, func(_ int, tr *tripgen.Trip) bool {
		d, err := openpath.FromTimeline(tr.AppendGeoJSON(nil), openpath.Origin{Device: "other-phone", App: "openpath"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
		return len(docs) < 5
	})
	for _, d := range docs {
		if _, err := vault.SaveMany(ctx, db, []*trip.Doc{d}, 0); err != nil {
			t.Fatal(err)
		}
		n++
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, total, err := c.ListTrips(ctx, coach.TripQuery{Limit: 1}); err != nil || total < n {
					t.Errorf("%d trips listed, %v; want %d written before", total, err, n)
				}
			})
		}
		wg.Wait()
	}
}

// TestListFiltersAndPages: a filtered list is the whole list's rows that match, in the same order,
// and pages put end to end give the list.
func TestListFiltersAndPages(t *testing.T) {
	ctx := t.Context()
	v, err := vault.Open(ctx, filepath.Join(t.TempDir(), "vault.db"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	n := coachtest.Fill(t, v, 5000) // two devices
	c, err := coach.Open(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	// A few trips with a purpose (the generated ones have none: no home or work is set).
	list, _, err := c.ListTrips(ctx, coach.TripQuery{})
	if err != nil {
		t.Fatal(err)
	}
	purpose := trip.Shopping
	for _, i := range []int{10, 500, 2000} {
		if _, err := c.Edit(ctx, list[i].ID, figures.Edit{Purpose: &purpose}); err != nil {
			t.Fatal(err)
		}
	}
	all, total, err := c.ListTrips(ctx, coach.TripQuery{})
	if err != nil || total != n || len(all) != n {
		t.Fatalf("whole list: %d rows, total %d, %v; want %d", len(all), total, err, n)
	}
	month := all[len(all)/2].Start[:7]
	for _, q := range []coach.TripQuery{
		{},
		{Mode: trip.Bicycling},
		{Purpose: purpose},
		{Query: indicators.Query{Devices: []string{"phone-1"}}},
		{Query: indicators.Query{From: month, To: month}},
		{Query: indicators.Query{From: month, To: month, Devices: []string{"phone-0"}}, Mode: trip.Walking},
	} {
		var want []string
		for _, s := range all {
			if (q.From == "" || s.Start[:7] >= q.From) && (q.To == "" || s.Start[:7] <= q.To) &&
				(len(q.Devices) == 0 || s.Device == q.Devices[0]) &&
				(q.Mode == "" || slices.Contains(s.Modes, q.Mode)) && (q.Purpose == "" || s.Purpose == q.Purpose) {
				want = append(want, s.ID)
			}
		}
		if len(want) == 0 {
			t.Errorf("%+v: no trip matches: a test of nothing", q)
		}
		var got []string
		for q.Offset, q.Limit = 0, 7; q.Offset <= len(want); q.Offset += q.Limit {
			page, total, err := c.ListTrips(ctx, q)
			if err != nil || total != len(want) {
				t.Fatalf("%+v: total %d, %v; want %d", q, total, err, len(want))
			}
			for _, s := range page {
				got = append(got, s.ID)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%+v: pages give %d trips, want the %d of the whole list that match, in its order", q, len(got), len(want))
		}
	}
}

// TestReadsSeeNewSettings: a change of default mode, which changes no trip document, shows in the
// next report and list at once, whether it was recomputed before answering or in the background.
func TestReadsSeeNewSettings(t *testing.T) {
	ctx := t.Context()
	v, err := vault.Open(ctx, filepath.Join(t.TempDir(), "vault.db"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	coachtest.Fill(t, v, 200)
	c, err := coach.Open(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	bikes := func() (bike, electric int) {
		t.Helper()
		r, err := c.Report(ctx, indicators.Query{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		list, _, err := c.ListTrips(ctx, coach.TripQuery{Mode: trip.BicyclingElectric})
		if err != nil {
			t.Fatal(err)
		}
		if m := r.ByMode[trip.Bicycling]; m != nil {
			bike = m.Trips
		}
		if m := r.ByMode[trip.BicyclingElectric]; m != nil {
			electric = m.Trips
		}
		if len(list) != electric {
			t.Fatalf("%d electric bike trips listed, %d reported", len(list), electric)
		}
		return bike, electric
	}
	car, electric := bikes()
	if car == 0 || electric != 0 {
		t.Fatalf("before: %d bike trips, %d electric; want some bikes", car, electric)
	}
	if _, err := c.UpdateSettings(ctx, func(s *settings.Settings) error {
		s.DefaultModes = map[trip.Group]trip.Mode{trip.GroupBike: trip.BicyclingElectric}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if c2, e2 := bikes(); c2 != 0 || e2 != car {
		t.Fatalf("after a default bike mode: %d bike trips, %d electric; want %d electric", c2, e2, car)
	}
	if _, err := c.UpdateSettingsInBackground(ctx, func(s *settings.Settings) error {
		s.DefaultModes = nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitRecompute(ctx); err != nil {
		t.Fatal(err)
	}
	if c3, e3 := bikes(); c3 != car || e3 != 0 {
		t.Fatalf("after the default mode was taken back: %d bike trips, %d electric; want %d bikes", c3, e3, car)
	}
}
