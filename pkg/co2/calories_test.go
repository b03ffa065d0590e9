package co2

import (
	"math"
	"testing"

	"github.com/coachco2/coachco2/pkg/trip"
)

func TestAvgSpeedKmh(t *testing.T) {
	for _, c := range []struct{ distanceM, durationS, want float64 }{
		{1000, 3600, 1},   // 1 km in 1 h
		{5000, 1000, 18},  // 5 m/s = 18 km/h
		{54, 540, 0.36},   // 0.1 m/s = 0.36 km/h
		{12_500, 900, 50}, // 12.5 km in 15 min
		{0, 600, 0},
		{1000, 0, 0}, // no duration: 0, not +Inf
		{1000, -60, 0},
		{-1000, 60, 0},
		{math.NaN(), 60, 0},
		{1000, math.NaN(), 0},
		{math.Inf(1), 60, 0},
		{1000, math.Inf(1), 0},
	} {
		if got := AvgSpeedKmh(c.distanceM, c.durationS); !near(got, c.want) {
			t.Errorf("AvgSpeedKmh(%v, %v) = %v, want %v", c.distanceM, c.durationS, got, c.want)
		}
	}
}

// kcal = MET × 74.25 × 3.5 / 200 × minutes = MET × 1.299375 × minutes; over one hour
// MET × 77.9625. Each case below lasts one hour, so its distance in km is its speed in km/h.
func TestCaloriesBoundarySpeeds(t *testing.T) {
	const hour = 3600.0
	for _, c := range []struct {
		mode trip.Mode
		kmh  float64
		want float64 // kcal
	}{
		{trip.Walking, 2, 155.925},        // MET 2
		{trip.Walking, 3, 155.925},        // ≤ 3: MET 2
		{trip.Walking, 3.1, 272.86875},    // MET 3.5
		{trip.Walking, 5, 272.86875},      // ≤ 5: MET 3.5
		{trip.Walking, 5.1, 389.8125},     // MET 5
		{trip.Walking, 6.5, 389.8125},     // ≤ 6.5: MET 5
		{trip.Walking, 6.6, 545.7375},     // MET 7
		{trip.OnFoot, 3, 155.925},         // same table as WALKING
		{trip.OnFoot, 4, 272.86875},       // MET 3.5
		{trip.Running, 10, 545.7375},      // MET 7
		{trip.Running, 6.5, 389.8125},     // MET 5
		{trip.Bicycling, 10, 452.1825},    // MET 5.8
		{trip.Bicycling, 15, 452.1825},    // ≤ 15: MET 5.8
		{trip.Bicycling, 15.1, 623.7},     // MET 8
		{trip.Bicycling, 22.4, 623.7},     // ≤ 22.4: MET 8
		{trip.Bicycling, 22.5, 779.625},   // MET 10
		{trip.Bicycling, 25.6, 779.625},   // ≤ 25.6: MET 10
		{trip.Bicycling, 25.7, 1231.8075}, // MET 15.8
		{trip.BicyclingElectric, 20, 0},   // electric bike: 0
		{trip.ScooterElectric, 20, 0},
		{trip.Car, 50, 0},
		{trip.Bus, 20, 0},
		{trip.UnknownMode, 4, 0},
	} {
		if got := Calories(c.mode, c.kmh*1000, hour); !near(got, c.want) {
			t.Errorf("%s at %v km/h for 1 h: %v kcal, want %v", c.mode, c.kmh, got, c.want)
		}
	}
}

func TestCaloriesEdges(t *testing.T) {
	for _, c := range []struct {
		name                 string
		distanceM, durationS float64
		want                 float64
	}{
		{"standing still 10 min", 0, 600, 25.9875}, // MET 2 × 1.299375 × 10
		{"no duration", 1000, 0, 0},
		{"negative duration", 1000, -600, 0},
		{"negative distance", -1000, 600, 0},
		{"NaN distance", math.NaN(), 600, 0},
		{"NaN duration", 1000, math.NaN(), 0},
		{"infinite duration", 1000, math.Inf(1), 0},
		{"infinite distance", math.Inf(1), 600, 0},
	} {
		if got := Calories(trip.Walking, c.distanceM, c.durationS); !near(got, c.want) {
			t.Errorf("%s: %v kcal, want %v", c.name, got, c.want)
		}
	}
}

func TestMETOfNaNSpeed(t *testing.T) {
	if got := MET(trip.Walking, math.NaN()); got != 0 {
		t.Errorf("MET(WALKING, NaN) = %v, want 0", got)
	}
}
