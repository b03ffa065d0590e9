package co2

import (
	"testing"

	"github.com/coachco2/coachco2/pkg/trip"
)

// The existing app's defects (coachco2-reference.md, "Defects of the existing app") that this
// package could have: each test shows the defect is absent.

// Defect 1: calories always used the top MET. A 9-minute walk at 0.1 m/s (54 m in 540 s,
// 0.36 km/h) is MET 2: 2 × 74.25 × 3.5 / 200 × 9 = 23.38875 kcal, not MET 7's 81.86 kcal.
func TestDefect1CaloriesUseTheSectionSpeed(t *testing.T) {
	got := Calories(trip.Walking, 54, 540)
	if !near(got, 23.38875) {
		t.Errorf("9-minute walk at 0.1 m/s: %v kcal, want 23.38875 (≈ 23.4)", got)
	}
	// A slow bike ride, 6 km in 30 min (12 km/h), is MET 5.8 not 15.8:
	// 5.8 × 1.299375 × 30 = 226.09125 kcal.
	if got := Calories(trip.Bicycling, 6000, 1800); !near(got, 226.09125) {
		t.Errorf("12 km/h ride for 30 min: %v kcal, want 226.09125", got)
	}
}

// Defect 2: TRAM and LIGHT_RAIL had no mapping and counted 0 g. They are TRAMWAY, which emits.
func TestDefect2TramAndLightRailAreTramway(t *testing.T) {
	for _, sensed := range []string{"PredictedModeTypes.TRAM", "PredictedModeTypes.LIGHT_RAIL"} {
		m := SensedMode(sensed)
		if m != trip.Tramway {
			t.Errorf("SensedMode(%q) = %s, want TRAMWAY", sensed, m)
		}
		// 10 km by tramway: 10 × 3 / 1000 = 0.03 kg (coachco2-ademe), 10 × 2.2 / 1000 = 0.022 kg.
		for id, want := range map[string]float64{DefaultSetID: 0.03, ImpactCO2SetID: 0.022} {
			if got := mustLookup(t, id).SectionCO2(m, 10_000); !near(got, want) {
				t.Errorf("%s: 10 km sensed %s: %v kg, want %v", id, sensed, got, want)
			}
		}
	}
}

// Defect 6: average speed was m/s in one place and km/h in another. AvgSpeedKmh is km/h, and the
// calorie METs are read against that same km/h figure.
func TestDefect6AverageSpeedIsKmhEverywhere(t *testing.T) {
	// 5000 m in 1000 s is 5 m/s, 18 km/h.
	if got := AvgSpeedKmh(5000, 1000); !near(got, 18) {
		t.Fatalf("AvgSpeedKmh(5000 m, 1000 s) = %v, want 18 km/h", got)
	}
	// Bicycling at 18 km/h is MET 8 (15 < 18 ≤ 22.4): 8 × 1.299375 × 1000/60 = 173.25 kcal.
	// Read as 5 (m/s) it would be MET 5.8: 125.60625 kcal.
	if got := Calories(trip.Bicycling, 5000, 1000); !near(got, 173.25) {
		t.Errorf("bicycling at 18 km/h for 1000 s: %v kcal, want 173.25", got)
	}
	// Walking 720 m in 600 s is 1.2 m/s, 4.32 km/h, MET 3.5: 3.5 × 1.299375 × 10 = 45.478125.
	// Read as 1.2 (m/s) it would be MET 2.
	if got := Calories(trip.Walking, 720, 600); !near(got, 45.478125) {
		t.Errorf("walking at 4.32 km/h for 10 min: %v kcal, want 45.478125", got)
	}
	if got := MET(trip.Walking, AvgSpeedKmh(720, 600)); got != 3.5 {
		t.Errorf("MET at 4.32 km/h = %v, want 3.5", got)
	}
}
