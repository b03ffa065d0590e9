package main

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/places"
	"github.com/coachco2/coachco2/pkg/sampledata"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/tripgen"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

var couch = vaulttest.NewServer()

func TestMain(m *testing.M) { os.Exit(couch.Run(m)) }

// syncedVault syncs the shared samples (with or without their labels) into a new vault of the
// backend, as the connector does, and returns the vault's DSN and instance.
func syncedVault(t *testing.T, b vaulttest.Backend, withLabels bool) (dsn, instance string) {
	t.Helper()
	ctx := t.Context()
	data, err := devserver.LoadDir(sampledata.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	data.Composite = nil
	if !withLabels {
		data.Labels = nil
	}
	srv, _ := devserver.New(devserver.Options{})
	if err := srv.SetUser("u", data); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	v, dsn, instance := b.Open(t)
	accountsDB, _ := v.DB(ctx, vault.DoctypeAccounts)
	store, err := accounts.Open(ctx, accountsDB, nil)
	if err != nil {
		t.Fatal(err)
	}
	tripsDB, _ := v.DB(ctx, vault.DoctypeTrips)
	engine, err := tripsync.New(ctx, tripsDB, store)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := store.Ensure(ctx, accounts.New{ServerURL: hs.URL, Token: "u", Device: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	client, _ := openpath.New(hs.URL, "u")
	if sum, err := engine.Sync(ctx, a, client, tripsync.Options{}); err != nil || sum.Created != 76 {
		t.Fatalf("sync: %v %+v", err, sum)
	}
	return dsn, instance
}

// runApp runs the app's command line in-process and returns what it printed.
func runApp(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := cmdenv.Execute(t.Context(), newRootCmd(), args, &out, &out); err != nil {
		t.Fatalf("app %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

func reportOf(t *testing.T, dsn, instance string, extra ...string) indicators.Report {
	t.Helper()
	var r indicators.Report
	out := runApp(t, append([]string{"report", "--json", "--vault", dsn, "--instance", instance}, extra...)...)
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report --json: %v\n%s", err, out)
	}
	return r
}

type golden struct {
	Totals struct {
		Trips, Sections int
		DistanceKm      float64 `json:"distance_km"`
		CO2Kg           float64 `json:"co2_kg"`
	} `json:"totals"`
	ByMode map[trip.Mode]struct {
		Trips, Sections int
		DistanceKm      float64 `json:"distance_km"`
		CO2Kg           float64 `json:"co2_kg"`
	} `json:"by_mode"`
	CO2AvoidedKg float64 `json:"co2_avoided_kg"`
}

func approx(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// TestReportMatchesGolden compares `app report --json` on the synced samples with the figures
// testdata/golden.py computed from the raw samples and the reference's factor table.
func TestReportMatchesGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden_samples.json")
	if err != nil {
		t.Fatal(err)
	}
	var goldens map[string]golden
	if err := json.Unmarshal(raw, &goldens); err != nil {
		t.Fatal(err)
	}
	for _, b := range couch.Backends() {
		for name, withLabels := range map[string]bool{"no_labels": false, "labels": true} {
			t.Run(b.Name+"/"+name, func(t *testing.T) {
				want := goldens[name]
				dsn, instance := syncedVault(t, b, withLabels)
				r := reportOf(t, dsn, instance)
				if r.FactorSet.ID != co2.DefaultSetID || r.Totals.Trips != want.Totals.Trips || r.Totals.Sections != want.Totals.Sections ||
					!approx(r.Totals.DistanceKm, want.Totals.DistanceKm) || !approx(r.Totals.CO2Kg, want.Totals.CO2Kg) {
					t.Fatalf("totals %+v (set %s), want %+v", r.Totals, r.FactorSet.ID, want.Totals)
				}
				if !approx(r.CO2AvoidedKg, want.CO2AvoidedKg) || r.CO2AvoidedKg < 0 {
					t.Errorf("CO2 avoided %.9f kg, want %.9f", r.CO2AvoidedKg, want.CO2AvoidedKg)
				}
				if len(r.ByMode) != len(want.ByMode) {
					t.Fatalf("modes %v, want %v", r.ModeOrder, want.ByMode)
				}
				var sumKg float64
				for mode, w := range want.ByMode {
					g := r.ByMode[mode]
					if g == nil || g.Trips != w.Trips || g.Sections != w.Sections || !approx(g.DistanceKm, w.DistanceKm) || !approx(g.CO2Kg, w.CO2Kg) {
						t.Errorf("%s: %+v, want %+v", mode, g, w)
					}
					sumKg += g.CO2Kg
				}
				// Property: the per-mode CO2 adds up to the total, and nothing is negative.
				if !approx(sumKg, r.Totals.CO2Kg) {
					t.Errorf("per-mode CO2 %.9f, total %.9f", sumKg, r.Totals.CO2Kg)
				}
				var monthKg float64
				for _, m := range r.ByMonth {
					monthKg += m.CO2Kg
					if m.CO2Kg < 0 {
						t.Errorf("negative CO2 in a month: %+v", m)
					}
				}
				if !approx(monthKg, r.Totals.CO2Kg) {
					t.Errorf("per-month CO2 %.9f, total %.9f", monthKg, r.Totals.CO2Kg)
				}
			})
		}
	}
}

// TestNoFrozenAggregates is the reference's defect 3: a change of factor set or of a default mode
// recomputes the stored figures, and only what it affects changes.
func TestNoFrozenAggregates(t *testing.T) {
	b := couch.Backends()[0]
	dsn, instance := syncedVault(t, b, false)
	before := reportOf(t, dsn, instance)
	figures := func() map[string]trip.Aggregation {
		ctx := t.Context()
		v, err := vault.Open(ctx, dsn, instance)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		db, _ := v.DB(ctx, vault.DoctypeTrips)
		out := map[string]trip.Aggregation{} // as the figures cache holds them: what reports read
		if err := figures.EachCached(ctx, db, func(id string, c figures.Cached) error { out[id] = c.Aggregation(); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	old := figures()
	setSettings(t, dsn, instance, func(s *settings.Settings) error {
		s.FactorSet = co2.ImpactCO2SetID
		return nil
	})
	after := reportOf(t, dsn, instance)
	if after.FactorSet.ID != co2.ImpactCO2SetID || approx(after.Totals.CO2Kg, before.Totals.CO2Kg) {
		t.Fatalf("CO2 %.3f with %s, %.3f before: the factor set change did not apply", after.Totals.CO2Kg, after.FactorSet.ID, before.Totals.CO2Kg)
	}
	for id, a := range figures() {
		o := old[id]
		if !approx(a.TotalCO2, co2With(t, co2.ImpactCO2SetID, a)) {
			t.Fatalf("trip %s: %.6f kg stored, not the new factor set's %.6f: its figures were not recomputed", id, a.TotalCO2, co2With(t, co2.ImpactCO2SetID, a))
		}
		// Property: a factor set changes CO2 only.
		if !approx(a.TotalDistance, o.TotalDistance) || !approx(a.TotalCalories, o.TotalCalories) || len(a.Modes) != len(o.Modes) {
			t.Fatalf("trip %s: a factor set change altered more than CO2", id)
		}
		walkingOnly := true
		for _, s := range a.Sections {
			walkingOnly = walkingOnly && s.Mode.IsWalking()
		}
		if walkingOnly && a.TotalCO2 != 0 {
			t.Fatalf("a walk emits %.3f kg", a.TotalCO2)
		}
	}
	// A default car mode: every sensed car section becomes electric, and the CO2 drops.
	setSettings(t, dsn, instance, func(s *settings.Settings) error {
		s.FactorSet = co2.DefaultSetID
		s.DefaultModes = map[trip.Group]trip.Mode{trip.GroupCar: trip.CarElectric}
		return nil
	})
	electric := reportOf(t, dsn, instance)
	if electric.ByMode[trip.Car] != nil || electric.ByMode[trip.CarElectric] == nil || electric.Totals.CO2Kg >= before.Totals.CO2Kg {
		t.Fatalf("default car mode not applied: modes %v, %.3f kg", electric.ModeOrder, electric.Totals.CO2Kg)
	}
	// Property: recomputing is idempotent.
	runApp(t, "recompute", "--vault", dsn, "--instance", instance)
	again := reportOf(t, dsn, instance)
	if !approx(again.Totals.CO2Kg, electric.Totals.CO2Kg) || again.Totals.Trips != electric.Totals.Trips {
		t.Fatalf("recompute changed the figures: %.9f then %.9f", electric.Totals.CO2Kg, again.Totals.CO2Kg)
	}
	// --factors reports with another set without touching the stored figures.
	other := reportOf(t, dsn, instance, "--factors", co2.ImpactCO2SetID)
	if other.FactorSet.ID != co2.ImpactCO2SetID {
		t.Fatal("--factors was not used")
	}
	for id, a := range figures() {
		if !approx(a.TotalCO2, co2With(t, co2.DefaultSetID, a)) {
			t.Fatalf("trip %s: --factors changed the stored figures", id)
		}
	}
}

// co2With is a trip's CO2 with the factor set id.
func co2With(t *testing.T, id string, a trip.Aggregation) float64 {
	set, err := co2.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	kg := 0.0
	for _, s := range a.Sections {
		kg += set.SectionCO2(s.Mode, s.Distance)
	}
	return kg
}

// TestEveryMonthPresent is defect 7's cause: a month without trips is in the report with zeros,
// so monthly series line up.
func TestEveryMonthPresent(t *testing.T) {
	b := couch.Backends()[0]
	dsn, instance := syncedVault(t, b, false)
	r := reportOf(t, dsn, instance, "--from", "2016-05", "--to", "2016-09")
	for _, m := range []string{"2016-05", "2016-06", "2016-07", "2016-08", "2016-09"} {
		if r.ByMonth[m] == nil {
			t.Fatalf("month %s missing from %v", m, r.ByMonth)
		}
	}
	if r.ByMonth["2016-05"].Trips != 0 || r.ByMonth["2016-07"].Trips != 28 {
		t.Fatalf("May %d trips, July %d; want 0 and 28 (4 on the 22nd, 22 on the 27th and 2 of sunil on the 20th)", r.ByMonth["2016-05"].Trips, r.ByMonth["2016-07"].Trips)
	}
	if len(r.ByMonth) != 5 {
		t.Fatalf("%d months, want 5", len(r.ByMonth))
	}
}

func TestTripsCommand(t *testing.T) {
	b := couch.Backends()[0]
	dsn, instance := syncedVault(t, b, true)
	out := runApp(t, "trips", "--json", "--from", "2016-06", "--to", "2016-06", "--vault", dsn, "--instance", instance)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 8+6+4 { // gabe 06-15, shankari 06-20 and 06-21
		t.Fatalf("%d trips in June 2016, want 18:\n%s", len(lines), out)
	}
	var l coach.TripSummary
	if err := json.Unmarshal([]byte(lines[0]), &l); err != nil || l.ID == "" || l.Start[:7] != "2016-06" || l.DistanceM <= 0 || len(l.Modes) == 0 {
		t.Fatalf("line %s (%v)", lines[0], err)
	}
}

func setSettings(t *testing.T, dsn, instance string, change func(*settings.Settings) error) {
	t.Helper()
	ctx := t.Context()
	v, err := vault.Open(ctx, dsn, instance)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	db, _ := v.DB(ctx, vault.DoctypeSettings)
	if _, err := settings.Update(ctx, db, change); err != nil {
		t.Fatal(err)
	}
}

// TestEditsPersistAndRecompute: a section's mode and a recurring purpose set with `app edit`
// change the figures at once and reach similar trips.
func TestEditsPersistAndRecompute(t *testing.T) {
	b := couch.Backends()[0]
	dsn, instance := syncedVault(t, b, false)
	ctx := t.Context()
	v, err := vault.Open(ctx, dsn, instance)
	if err != nil {
		t.Fatal(err)
	}
	db, _ := v.DB(ctx, vault.DoctypeTrips)
	var figs []figures.Figures
	runApp(t, "report", "--vault", dsn, "--instance", instance) // computes the figures
	set, _ := co2.Lookup(co2.DefaultSetID)
	in := figures.NewInputs(set, settings.Defaults())
	if err := figures.EachFigures(ctx, db, in, func(f figures.Figures) error { figs = append(figs, f); return nil }); err != nil {
		t.Fatal(err)
	}
	v.Close()
	// Two similar trips (same ends within 200 m, either direction), and one with a car section.
	var a, b2, car string
	for i, x := range figs {
		for _, y := range figs[i+1:] {
			cx, cy := x.Aggregation.Coordinates, y.Aggregation.Coordinates
			if a == "" && places.Similar(cx.StartPoint, cx.EndPoint, cy.StartPoint, cy.EndPoint) {
				a, b2 = x.ID, y.ID
			}
		}
		if car == "" && len(x.Aggregation.Sections) == 1 && x.Aggregation.Sections[0].Mode == trip.Car {
			car = x.ID
		}
	}
	if a == "" || car == "" {
		t.Fatal("the samples have no similar trips or no car trip: the test data changed")
	}
	var out struct {
		Purpose    trip.Purpose `json:"purpose"`
		CO2        float64      `json:"co2_kg"`
		Modes      []trip.Mode  `json:"modes"`
		Propagated []string     `json:"propagated_to"`
	}
	// Without --yes, the edit only says which trips it would change.
	var notApplied struct {
		Applied *bool    `json:"applied"`
		Would   []string `json:"would_propagate_to"`
	}
	if err := json.Unmarshal([]byte(runApp(t, "edit", a, "--purpose", "shopping", "--recurring", "--vault", dsn, "--instance", instance)), &notApplied); err != nil {
		t.Fatal(err)
	}
	if notApplied.Applied == nil || *notApplied.Applied || !slices.Contains(notApplied.Would, b2) {
		t.Fatalf("edit --recurring without --yes: %+v; want not applied, would reach %s", notApplied, b2)
	}
	if lines := runApp(t, "trips", "--json", "--vault", dsn, "--instance", instance); strings.Contains(lines, `"purpose":"SHOPPING"`) {
		t.Fatalf("edit --recurring without --yes changed a purpose")
	}
	if err := json.Unmarshal([]byte(runApp(t, "edit", a, "--purpose", "shopping", "--recurring", "--yes", "--vault", dsn, "--instance", instance)), &out); err != nil {
		t.Fatal(err)
	}
	if out.Purpose != trip.Shopping || !slices.Contains(out.Propagated, b2) {
		t.Fatalf("edit: %+v; want SHOPPING, propagated to %s", out, b2)
	}
	if err := json.Unmarshal([]byte(runApp(t, "edit", car, "--section-mode", "0=BICYCLING", "--vault", dsn, "--instance", instance)), &out); err != nil {
		t.Fatal(err)
	}
	if out.CO2 != 0 || len(out.Modes) != 1 || out.Modes[0] != trip.Bicycling {
		t.Fatalf("a car section corrected to a bike: %+v", out)
	}
	// The title set is what edit prints, and what the trips list shows.
	var titled struct {
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(runApp(t, "edit", car, "--title", "To the market", "--vault", dsn, "--instance", instance)), &titled); err != nil || titled.Title != "To the market" {
		t.Fatalf("edit --title prints %+v, %v", titled, err)
	}
	// The edits persist: a new process sees them.
	lines := runApp(t, "trips", "--json", "--vault", dsn, "--instance", instance)
	if !strings.Contains(lines, `"id":"`+b2+`"`) || !strings.Contains(lines, `"purpose":"SHOPPING"`) {
		t.Fatalf("the propagated purpose is not in the trip list")
	}
	var l coach.TripSummary
	for _, line := range strings.Split(strings.TrimSpace(lines), "\n") {
		if strings.Contains(line, car) {
			_ = json.Unmarshal([]byte(line), &l)
		}
	}
	if l.CO2Kg != 0 {
		t.Fatalf("the corrected trip still emits %.3f kg", l.CO2Kg)
	}
	// --undo-recurring gives the similar trips their purpose back.
	var undone struct {
		Undone []string `json:"undone"`
	}
	if err := json.Unmarshal([]byte(runApp(t, "edit", a, "--undo-recurring", "--vault", dsn, "--instance", instance)), &undone); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(undone.Undone, b2) {
		t.Fatalf("--undo-recurring: %+v, want %s back", undone, b2)
	}
	for _, line := range strings.Split(strings.TrimSpace(runApp(t, "trips", "--json", "--vault", dsn, "--instance", instance)), "\n") {
		if strings.Contains(line, `"id":"`+b2+`"`) && strings.Contains(line, `"purpose":"SHOPPING"`) {
			t.Fatalf("%s kept the purpose after --undo-recurring", b2)
		}
	}
}

// TestSuggestPlaces: home and work suggested from a generated month of commutes land near the
// generator's places, and home↔work trips become commutes.
func TestSuggestPlaces(t *testing.T) {
	ctx := t.Context()
	gen, err := tripgen.New(tripgen.Config{Users: 1, Days: 60, Seed: 4, Start: openpath.Date{Year: 2025, Month: 3, Day: 3}})
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := devserver.New(devserver.Options{})
	token := srv.AddGenerated(gen)[0]
	hs := httptest.NewServer(srv)
	defer hs.Close()
	v, dsn, instance := couch.Backends()[0].Open(t)
	accountsDB, _ := v.DB(ctx, vault.DoctypeAccounts)
	store, _ := accounts.Open(ctx, accountsDB, nil)
	tripsDB, _ := v.DB(ctx, vault.DoctypeTrips)
	engine, _ := tripsync.New(ctx, tripsDB, store)
	acc, _, _ := store.Ensure(ctx, accounts.New{ServerURL: hs.URL, Token: token, Device: "phone"})
	client, _ := openpath.New(hs.URL, token)
	if _, err := engine.Sync(ctx, acc, client, tripsync.Options{}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Settings settings.Settings `json:"settings"`
	}
	if err := json.Unmarshal([]byte(runApp(t, "settings", "--suggest-places", "--vault", dsn, "--instance", instance)), &got); err != nil {
		t.Fatal(err)
	}
	p := gen.Users()[0]
	if got.Settings.Home == nil || got.Settings.Work == nil {
		t.Fatalf("no suggestion: %+v", got.Settings)
	}
	if d := places.Distance(got.Settings.Home.Point(), trip.Point{Lon: p.Home.Lon, Lat: p.Home.Lat}); d > 300 {
		t.Fatalf("home suggested %.0f m from the generator's", d)
	}
	if d := places.Distance(got.Settings.Work.Point(), trip.Point{Lon: p.Work.Lon, Lat: p.Work.Lat}); d > 300 {
		t.Fatalf("work suggested %.0f m from the generator's", d)
	}
	r := reportOf(t, dsn, instance)
	if r.ByPurpose[trip.Commute] == nil || r.ByPurpose[trip.Commute].Trips < 20 {
		t.Fatalf("home↔work trips are not commutes: %+v", r.ByPurpose)
	}
}
