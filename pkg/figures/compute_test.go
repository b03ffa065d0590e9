package figures_test

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/places"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// tripsDB opens the trips database of a new vault of the backend, with the figures' indexes.
func tripsDB(t *testing.T, b vaulttest.Backend) *vault.DB {
	t.Helper()
	v, _, _ := b.Open(t)
	db, err := v.DB(t.Context(), vault.DoctypeTrips)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureIndexes(t.Context(), figures.Indexes...); err != nil {
		t.Fatal(err)
	}
	return db
}

// makeTrip builds a trip of sections (sensed mode, meters, seconds) from La Rochelle's station
// (-1.1453, 46.1527) to its town hall (-1.1517, 46.1591).
func makeTrip(t *testing.T, sections ...[3]any) *trip.Doc {
	t.Helper()
	var feats []any
	start := 1700000000.0
	for i, s := range sections {
		feats = append(feats, map[string]any{"type": "FeatureCollection", "features": []any{map[string]any{
			"type": "Feature", "id": fmt.Sprintf("sec%d", i),
			"geometry": map[string]any{"type": "LineString", "coordinates": [][]float64{{-1.1453, 46.1527}, {-1.1517, 46.1591}}},
			"properties": map[string]any{"feature_type": "section", "sensed_mode": s[0], "distance": s[1], "duration": s[2],
				"start_ts": start, "end_ts": start + s[2].(float64), "start_fmt_time": "2023-11-14T23:13:20+01:00", "end_fmt_time": "2023-11-14T23:30:00+01:00"},
		}}})
		start += s[2].(float64)
	}
	fc, _ := json.Marshal(map[string]any{"type": "FeatureCollection", "id": "t1", "features": feats, "properties": map[string]any{
		"start_ts": 1700000000.0, "end_ts": start, "start_fmt_time": "2023-11-14T23:13:20+01:00", "end_fmt_time": "2023-11-14T23:40:00+01:00",
		"start_loc": map[string]any{"type": "Point", "coordinates": []float64{-1.1453, 46.1527}},
		"end_loc":   map[string]any{"type": "Point", "coordinates": []float64{-1.1517, 46.1591}},
	}})
	doc, err := openpath.FromTimeline(fc, openpath.Origin{Device: "phone"}, timeNow)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

var timeNow = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func inputs(t *testing.T, setID string, s settings.Settings) figures.Inputs {
	t.Helper()
	set, err := co2.Lookup(setID)
	if err != nil {
		t.Fatal(err)
	}
	return figures.NewInputs(set, s)
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestComputeSensedModes(t *testing.T) {
	doc := makeTrip(t, [3]any{"MotionTypes.ON_FOOT", 400.0, 300.0}, [3]any{"PredictedModeTypes.TRAM", 5000.0, 900.0}, [3]any{"MotionTypes.IN_VEHICLE", 12500.0, 1200.0})
	a, err := figures.Compute(doc, inputs(t, co2.DefaultSetID, settings.Defaults()))
	if err != nil {
		t.Fatal(err)
	}
	// WALKING 0 g; TRAM → TRAMWAY 3 g/km × 5 km = 0.015 kg (defect 2: not 0); CAR 192 × 12.5 = 2.4 kg.
	want := []struct {
		mode trip.Mode
		kg   float64
	}{{trip.Walking, 0}, {trip.Tramway, 0.015}, {trip.Car, 2.4}}
	for i, w := range want {
		if s := a.Sections[i]; s.Mode != w.mode || !near(s.CO2, w.kg) {
			t.Errorf("section %d: %s %.6f kg, want %s %.6f kg", i, s.Mode, s.CO2, w.mode, w.kg)
		}
	}
	if !near(a.TotalCO2, 2.415) || !near(a.TotalDistance, 17900) || !near(a.TotalDuration, 2400) {
		t.Errorf("totals %.6f kg, %.0f m, %.0f s", a.TotalCO2, a.TotalDistance, a.TotalDuration)
	}
	// Speeds in km/h everywhere (defect 6): 400 m in 300 s = 4.8 km/h.
	if !near(a.Sections[0].AvgSpeed, 4.8) {
		t.Errorf("walking speed %.4f, want 4.8 km/h", a.Sections[0].AvgSpeed)
	}
	if len(a.Modes) != 3 || a.Purpose != trip.UnknownPurpose || a.NotATrip {
		t.Errorf("modes %v purpose %s", a.Modes, a.Purpose)
	}
}

// TestTripLabelChangesSections is defect 8 (and the existing konnector's defect 7): a mode given
// for the whole trip changes its non-walking sections, and so its CO2.
func TestTripLabelChangesSections(t *testing.T) {
	doc := makeTrip(t, [3]any{"MotionTypes.ON_FOOT", 400.0, 300.0}, [3]any{"MotionTypes.IN_VEHICLE", 10000.0, 900.0})
	doc.Labels.Mode = &trip.Label{Value: "bus", WriteTS: 1}
	in := inputs(t, co2.DefaultSetID, settings.Defaults())
	a, err := figures.Compute(doc, in)
	if err != nil {
		t.Fatal(err)
	}
	if a.Sections[0].Mode != trip.Walking || a.Sections[1].Mode != trip.Bus {
		t.Fatalf("modes %s, %s: the label applies to the non-walking section", a.Sections[0].Mode, a.Sections[1].Mode)
	}
	if want := 10 * (146.0 + 137 + 129) / 3 / 1000; !near(a.TotalCO2, want) {
		t.Fatalf("CO2 %.6f, want %.6f (10 km by bus)", a.TotalCO2, want)
	}
	// A correction made in the app wins over the label.
	if err := doc.SetManual(trip.Manual{SectionModes: map[string]trip.Mode{"1": trip.Train}}); err != nil {
		t.Fatal(err)
	}
	if a, _ = figures.Compute(doc, in); a.Sections[1].Mode != trip.Train {
		t.Fatalf("the app's correction lost to the label: %s", a.Sections[1].Mode)
	}
	// A mode chosen in the app for the whole trip wins over the phone's label, below section choices.
	if err := doc.SetManual(trip.Manual{Mode: trip.CarElectric}); err != nil {
		t.Fatal(err)
	}
	if a, _ = figures.Compute(doc, in); a.Sections[0].Mode != trip.Walking || a.Sections[1].Mode != trip.CarElectric {
		t.Fatalf("trip-level mode from the app: %s, %s", a.Sections[0].Mode, a.Sections[1].Mode)
	}
	// Every section walking: the label applies to all of them.
	walk := makeTrip(t, [3]any{"MotionTypes.ON_FOOT", 2000.0, 600.0})
	walk.Labels.Mode = &trip.Label{Value: "bike"}
	if a, _ = figures.Compute(walk, in); a.Sections[0].Mode != trip.Bicycling {
		t.Fatalf("all-walking trip labelled bike: %s", a.Sections[0].Mode)
	}
	// An unknown label is kept and shown; not_a_trip removes the trip from the indicators.
	walk.Labels.Mode = &trip.Label{Value: "karate"}
	if a, _ = figures.Compute(walk, in); a.Sections[0].Mode != trip.UnknownMode || a.Sections[0].LabelValue != "karate" {
		t.Fatalf("unknown label: %s %q", a.Sections[0].Mode, a.Sections[0].LabelValue)
	}
	walk.Labels.Mode = &trip.Label{Value: "not_a_trip"}
	if a, _ = figures.Compute(walk, in); !a.NotATrip {
		t.Fatal("not_a_trip not marked")
	}
}

func TestDefaultModesAndPurposes(t *testing.T) {
	doc := makeTrip(t, [3]any{"MotionTypes.BICYCLING", 3000.0, 600.0})
	s := settings.Defaults()
	s.DefaultModes = map[trip.Group]trip.Mode{trip.GroupBike: trip.BicyclingElectric}
	s.Home = &places.Place{Lon: -1.1453, Lat: 46.1527}
	s.Work = &places.Place{Lon: -1.1517, Lat: 46.1591, Label: "Office"}
	a, err := figures.Compute(doc, inputs(t, co2.DefaultSetID, s))
	if err != nil {
		t.Fatal(err)
	}
	if a.Sections[0].Mode != trip.BicyclingElectric {
		t.Errorf("default bike mode not applied: %s", a.Sections[0].Mode)
	}
	if a.Purpose != trip.Commute || a.AutomaticTitle != "Home ➝ Office" {
		t.Errorf("purpose %s title %q: a trip from home to work is a commute", a.Purpose, a.AutomaticTitle)
	}
	// The person said otherwise: their purpose wins.
	doc.Labels.Purpose = &trip.Label{Value: "shopping"}
	if a, _ = figures.Compute(doc, inputs(t, co2.DefaultSetID, s)); a.Purpose != trip.Shopping {
		t.Errorf("purpose label lost to the commute rule: %s", a.Purpose)
	}
	_ = doc.SetManual(trip.Manual{Purpose: trip.Sport})
	if a, _ = figures.Compute(doc, inputs(t, co2.DefaultSetID, s)); a.Purpose != trip.Sport {
		t.Errorf("the app's purpose lost: %s", a.Purpose)
	}
}

// TestStampChangesWithInputs: the stamp, which says what figures were computed from, changes with
// the factor set, the figures' settings and the trip, and only with them.
func TestStampChangesWithInputs(t *testing.T) {
	doc := makeTrip(t, [3]any{"MotionTypes.IN_VEHICLE", 1000.0, 100.0})
	base := inputs(t, co2.DefaultSetID, settings.Defaults())
	stamp := func(in figures.Inputs, d *trip.Doc) trip.Stamp {
		a, err := figures.Compute(d, in)
		if err != nil {
			t.Fatal(err)
		}
		return a.Stamp
	}
	s0 := stamp(base, doc)
	if s1 := stamp(inputs(t, co2.ImpactCO2SetID, settings.Defaults()), doc); s1 == s0 {
		t.Error("factor set change not in the stamp")
	}
	other := settings.Defaults()
	other.DefaultModes = map[trip.Group]trip.Mode{trip.GroupCar: trip.CarElectric}
	if s1 := stamp(inputs(t, co2.DefaultSetID, other), doc); s1 == s0 {
		t.Error("default mode change not in the stamp")
	}
	names := settings.Defaults()
	names.BikeGoal.FirstName = "Camille"
	if s1 := stamp(inputs(t, co2.DefaultSetID, names), doc); s1 != s0 {
		t.Error("a name change makes every trip stale")
	}
	doc.Labels.Purpose = &trip.Label{Value: "work"}
	if s1 := stamp(base, doc); s1 == s0 {
		t.Error("label change not in the stamp")
	}
}
