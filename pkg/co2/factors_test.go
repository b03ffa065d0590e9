package co2

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/trip"
)

// At 10 km, far below the first plane band: AIR_OR_HSR gets the short-haul figure.
const tenKm = 10_000.0

func TestCoachCO2ADEMEEveryMode(t *testing.T) {
	want := map[trip.Mode]float64{ // the reference's table, gCO2e per passenger-km
		trip.Walking: 0, trip.OnFoot: 0, trip.Running: 0, trip.Bicycling: 0,
		trip.BicyclingElectric: 0, trip.ScooterElectric: 0, trip.UnknownMode: 0,
		trip.Car:             192,
		trip.InVehicle:       192,
		trip.CarElectric:     19.8,
		trip.Carpool:         96,  // 192 / 2
		trip.CarpoolElectric: 9.9, // 19.8 / 2
		trip.MotoInf250:      60.4,
		trip.MotoSup250:      165,
		trip.Moped:           64,
		trip.Bus:             412.0 / 3, // (146 + 137 + 129) / 3 = 412 / 3 = 137.333…
		trip.BusElectric:     21.7,
		trip.Subway:          3.3, // (2.5 + 2.2 + 4.1 + 4.72 + 2.98) / 5 = 16.5 / 5
		trip.Tramway:         3,
		trip.Train:           31.82 / 3, // (1.73 + 5.29 + 24.8) / 3 = 31.82 / 3 = 10.60666…
		trip.AirOrHSR:        258,       // 10 km ≤ 1000 km
	}
	coversEveryMode(t, want)
	s := mustLookup(t, DefaultSetID)
	for m, g := range want {
		if got := s.GPerKm(m, tenKm); !near(got, g) {
			t.Errorf("%s: GPerKm = %v, want %v", m, got, g)
		}
		if got := s.PerKm[m]; !near(got, g) {
			t.Errorf("%s: PerKm = %v, want %v", m, got, g)
		}
	}
}

func TestImpactCO2EveryMode(t *testing.T) {
	want := map[trip.Mode]float64{ // "Mon Impact Transport", gCO2e per passenger-km
		trip.Walking: 0, trip.OnFoot: 0, trip.Running: 0, trip.Bicycling: 0, // bike or walking
		trip.UnknownMode:       0,
		trip.BicyclingElectric: 2, // e-bike or e-scooter
		trip.ScooterElectric:   2,
		trip.Car:               193, // car (combustion)
		trip.InVehicle:         193,
		trip.CarElectric:       19.8,
		trip.Carpool:           96.5, // 193 / 2
		trip.CarpoolElectric:   9.9,  // 19.8 / 2
		trip.MotoInf250:        61.6, // scooter/light motorbike
		trip.Moped:             61.6,
		trip.MotoSup250:        168, // motorbike
		trip.Bus:               103, // bus (combustion)
		trip.BusElectric:       9.5,
		trip.Subway:            2.5, // metro
		trip.Tramway:           2.2,
		trip.Train:             31.82 / 3, // (TGV 1.73 + Intercités 5.29 + TER 24.8) / 3
		trip.AirOrHSR:          230,
	}
	coversEveryMode(t, want)
	s := mustLookup(t, ImpactCO2SetID)
	for m, g := range want {
		if got := s.GPerKm(m, tenKm); !near(got, g) {
			t.Errorf("%s: GPerKm = %v, want %v", m, got, g)
		}
		if got := s.PerKm[m]; !near(got, g) {
			t.Errorf("%s: PerKm = %v, want %v", m, got, g)
		}
	}
}

func TestExactMeans(t *testing.T) {
	s := mustLookup(t, DefaultSetID)
	for _, c := range []struct {
		mode          trip.Mode
		want, rounded float64
	}{
		{trip.Bus, 137.33333333333334, 137.33},  // 412 / 3
		{trip.Subway, 3.3, 3.3},                 // 16.5 / 5, exact already
		{trip.Train, 10.606666666666667, 10.61}, // 31.82 / 3
	} {
		got := s.PerKm[c.mode]
		if math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: %.15f, want the exact mean %.15f", c.mode, got, c.want)
		}
		if c.rounded != c.want && got == c.rounded {
			t.Errorf("%s: %v is the rounded figure, not the exact mean", c.mode, got)
		}
	}
}

func TestPlaneBands(t *testing.T) {
	ademe, impact := mustLookup(t, DefaultSetID), mustLookup(t, ImpactCO2SetID)
	for _, c := range []struct {
		km            float64
		ademe, impact float64
	}{
		{0, 258, 230},
		{999, 258, 230},
		{1000, 258, 230}, // ≤ 1000 km
		{1001, 187, 230},
		{3500, 187, 230}, // ≤ 3500 km
		{3501, 152, 230}, // beyond
		{20000, 152, 230},
	} {
		if got := ademe.GPerKm(trip.AirOrHSR, c.km*1000); got != c.ademe {
			t.Errorf("%s at %v km: %v g/km, want %v", DefaultSetID, c.km, got, c.ademe)
		}
		if got := impact.GPerKm(trip.AirOrHSR, c.km*1000); got != c.impact {
			t.Errorf("%s at %v km: %v g/km, want %v", ImpactCO2SetID, c.km, got, c.impact)
		}
	}
	// Just past the limit, to the meter: 1000.001 km is beyond the first band.
	if got := ademe.GPerKm(trip.AirOrHSR, 1_000_001); got != 187 {
		t.Errorf("1000.001 km: %v g/km, want 187", got)
	}
}

func TestPlaneBandsWithoutUnboundedLast(t *testing.T) {
	s := &FactorSet{PerKm: map[trip.Mode]float64{trip.AirOrHSR: 99},
		Plane: []DistanceBand{{UpToKm: 100, GPerKm: 300}, {UpToKm: 500, GPerKm: 200}}}
	for _, c := range []struct{ km, want float64 }{{50, 300}, {100, 300}, {101, 200}, {500, 200}, {9000, 200}} {
		if got := s.GPerKm(trip.AirOrHSR, c.km*1000); got != c.want {
			t.Errorf("%v km: %v, want %v (beyond every band: the last band)", c.km, got, c.want)
		}
	}
	s.Plane = nil
	if got := s.GPerKm(trip.AirOrHSR, 1e6); got != 99 {
		t.Errorf("no bands: %v, want PerKm's 99", got)
	}
}

func TestSectionCO2(t *testing.T) {
	for _, c := range []struct {
		set       string
		mode      trip.Mode
		distanceM float64
		want      float64 // kg
	}{
		{DefaultSetID, trip.Car, 12_500, 2.4},                 // 12.5 km × 192 g / 1000
		{DefaultSetID, trip.InVehicle, 12_500, 2.4},           // same as CAR
		{DefaultSetID, trip.Carpool, 12_500, 1.2},             // 12.5 × 96 / 1000
		{DefaultSetID, trip.Bus, 3_000, 0.412},                // 3 × 412/3 / 1000
		{DefaultSetID, trip.Train, 30_000, 0.3182},            // 30 × 31.82/3 / 1000
		{DefaultSetID, trip.Subway, 5_000, 0.0165},            // 5 × 3.3 / 1000
		{DefaultSetID, trip.Tramway, 4_000, 0.012},            // 4 × 3 / 1000
		{DefaultSetID, trip.MotoSup250, 10_000, 1.65},         // 10 × 165 / 1000
		{DefaultSetID, trip.AirOrHSR, 800_000, 206.4},         // 800 × 258 / 1000
		{DefaultSetID, trip.AirOrHSR, 2_000_000, 374},         // 2000 × 187 / 1000
		{DefaultSetID, trip.AirOrHSR, 5_000_000, 760},         // 5000 × 152 / 1000
		{DefaultSetID, trip.Walking, 3_000, 0},                // 0 g/km
		{DefaultSetID, trip.UnknownMode, 3_000, 0},            // 0 g/km
		{DefaultSetID, trip.Mode("JETPACK"), 3_000, 0},        // not a mode: 0 g/km
		{DefaultSetID, trip.Car, 0, 0},                        // no distance
		{DefaultSetID, trip.Car, -5_000, 0},                   // not a distance
		{DefaultSetID, trip.Car, math.NaN(), 0},               // not a distance
		{DefaultSetID, trip.Car, math.Inf(1), 0},              // not a distance
		{ImpactCO2SetID, trip.Car, 12_500, 2.4125},            // 12.5 × 193 / 1000
		{ImpactCO2SetID, trip.Carpool, 20_000, 1.93},          // 20 × 96.5 / 1000
		{ImpactCO2SetID, trip.Tramway, 4_000, 0.0088},         // 4 × 2.2 / 1000
		{ImpactCO2SetID, trip.BicyclingElectric, 5_000, 0.01}, // 5 × 2 / 1000
		{ImpactCO2SetID, trip.AirOrHSR, 5_000_000, 1150},      // 5000 × 230 / 1000
	} {
		s := mustLookup(t, c.set)
		if got := s.SectionCO2(c.mode, c.distanceM); !near(got, c.want) {
			t.Errorf("%s %s %v m: %v kg, want %v", c.set, c.mode, c.distanceM, got, c.want)
		}
	}
}

func TestSetsDefaultFirstAndValid(t *testing.T) {
	sets := Sets()
	if len(sets) != 2 || sets[0].ID != DefaultSetID || sets[1].ID != ImpactCO2SetID {
		t.Fatalf("Sets() = %d sets, want [%s %s]", len(sets), DefaultSetID, ImpactCO2SetID)
	}
	want := map[string]string{DefaultSetID: "2024.1", ImpactCO2SetID: "2022.1"}
	for _, s := range sets {
		if err := s.Validate(); err != nil {
			t.Error(err)
		}
		if s.Version != want[s.ID] {
			t.Errorf("%s: version %q, want %q", s.ID, s.Version, want[s.ID])
		}
		if s.Name == "" || s.Source == "" || s.Date == "" {
			t.Errorf("%s: name, source and date are required, got %q, %q, %q", s.ID, s.Name, s.Source, s.Date)
		}
	}
}

// Property: both sets have a factor and a stated mapping for every trip.Mode.
func TestSetsCoverEveryMode(t *testing.T) {
	for _, s := range Sets() {
		for _, m := range trip.Modes() {
			if _, ok := s.PerKm[m]; !ok {
				t.Errorf("%s: no factor for %s", s.ID, m)
			}
			if s.Mapping[m] == "" {
				t.Errorf("%s: no mapping for %s", s.ID, m)
			}
		}
		if len(s.PerKm) != len(trip.Modes()) || len(s.Mapping) != len(trip.Modes()) {
			t.Errorf("%s: %d factors and %d mappings for %d modes", s.ID, len(s.PerKm), len(s.Mapping), len(trip.Modes()))
		}
	}
}

func TestSetsAreFreshCopies(t *testing.T) {
	a := Sets()
	a[0].PerKm[trip.Car] = -1
	a[0].Plane[0].GPerKm = -1
	a[0].Mapping[trip.Car] = "changed"
	a[1].Version = "changed"
	l := mustLookup(t, DefaultSetID)
	l.PerKm[trip.Bus] = -1
	for _, s := range []*FactorSet{Sets()[0], mustLookup(t, DefaultSetID)} {
		if s.PerKm[trip.Car] != 192 || s.Plane[0].GPerKm != 258 || s.Mapping[trip.Car] == "changed" ||
			s.PerKm[trip.Bus] != 412.0/3 {
			t.Errorf("a caller's change reached another caller: %+v", s)
		}
	}
	if Sets()[1].Version != "2022.1" {
		t.Error("a caller's change of Version reached another caller")
	}
}

func TestLookup(t *testing.T) {
	for _, id := range []string{DefaultSetID, ImpactCO2SetID} {
		if s, err := Lookup(id); err != nil || s.ID != id {
			t.Errorf("Lookup(%q) = %v, %v", id, s, err)
		}
	}
	for _, id := range []string{"", "ademe", "COACHCO2-ADEME", " coachco2-ademe"} {
		s, err := Lookup(id)
		if err == nil || s != nil {
			t.Errorf("Lookup(%q) = %v, %v; want an error", id, s, err)
			continue
		}
		for _, known := range []string{DefaultSetID, ImpactCO2SetID} {
			if !strings.Contains(err.Error(), known) {
				t.Errorf("Lookup(%q): error %q does not name %s", id, err, known)
			}
		}
	}
}

func TestValidateCatchesBrokenSets(t *testing.T) {
	for name, breakIt := range map[string]func(s *FactorSet){
		"no id":               func(s *FactorSet) { s.ID = "" },
		"no version":          func(s *FactorSet) { s.Version = "" },
		"missing mode":        func(s *FactorSet) { delete(s.PerKm, trip.Tramway) },
		"missing mapping":     func(s *FactorSet) { delete(s.Mapping, trip.Tramway) },
		"negative factor":     func(s *FactorSet) { s.PerKm[trip.Car] = -1 },
		"NaN factor":          func(s *FactorSet) { s.PerKm[trip.Car] = math.NaN() },
		"infinite factor":     func(s *FactorSet) { s.PerKm[trip.Car] = math.Inf(1) },
		"bands out of order":  func(s *FactorSet) { s.Plane[0].UpToKm, s.Plane[1].UpToKm = 3500, 1000 },
		"unbounded not last":  func(s *FactorSet) { s.Plane[1].UpToKm = 0 },
		"negative band":       func(s *FactorSet) { s.Plane[2].GPerKm = -152 },
		"negative band limit": func(s *FactorSet) { s.Plane[0].UpToKm = -1 },
	} {
		s := mustLookup(t, DefaultSetID)
		breakIt(s)
		if err := s.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil", name)
		}
	}
}

// distances to try in the properties: edges, and random ones from a fixed seed.
func propertyDistances() []float64 {
	d := []float64{0, math.SmallestNonzeroFloat64, 1e-9, 1, 999_999, 1_000_000, 1_000_001,
		3_500_000, 3_500_001, 1e9, 1e300, math.MaxFloat64}
	r := rand.New(rand.NewPCG(4, 2))
	for range 1000 {
		d = append(d, r.Float64()*5e6, r.ExpFloat64()*1e4)
	}
	return d
}

// Property: for any distance ≥ 0 and any mode, both sets give a CO2 that is ≥ 0 and finite, and
// a factor that is ≥ 0 and finite.
func TestCO2NonNegativeAndFinite(t *testing.T) {
	for _, s := range Sets() {
		for _, d := range propertyDistances() {
			for _, m := range append(trip.Modes(), "", "JETPACK") {
				checkCO2(t, s, m, d)
			}
		}
	}
}

func checkCO2(t *testing.T, s *FactorSet, m trip.Mode, d float64) {
	t.Helper()
	if g := s.GPerKm(m, d); !(g >= 0) || math.IsInf(g, 0) {
		t.Fatalf("%s %s %v m: %v g/km", s.ID, m, d, g)
	}
	if kg := s.SectionCO2(m, d); !(kg >= 0) || math.IsInf(kg, 0) {
		t.Fatalf("%s %s %v m: %v kg", s.ID, m, d, kg)
	}
}

func FuzzSectionCO2(f *testing.F) {
	for _, d := range []float64{0, 12_500, 1_000_000, 1_000_001, -1, math.MaxFloat64} {
		f.Add(d)
	}
	sets := Sets()
	f.Fuzz(func(t *testing.T, d float64) {
		for _, s := range sets {
			for _, m := range trip.Modes() {
				checkCO2(t, s, m, d)
			}
		}
	})
}
