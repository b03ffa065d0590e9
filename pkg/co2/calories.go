package co2

import (
	"math"

	"github.com/coachco2/coachco2/pkg/trip"
)

// bodyWeightKg is the mean body weight of the calorie formula.
const bodyWeightKg = 74.25

// AvgSpeedKmh returns the average speed of a section in km/h, the one speed unit of the coach:
// distance (m) × 3.6 / duration (s). It returns 0 when the duration is not positive, or when
// either value is negative, NaN or infinite.
func AvgSpeedKmh(distanceM, durationS float64) float64 {
	if !(durationS > 0) || !(distanceM >= 0) || math.IsInf(distanceM, 1) || math.IsInf(durationS, 1) {
		return 0
	}
	return distanceM * 3.6 / durationS
}

// Calories returns the kcal a section burned: MET × 74.25 (kg) × 3.5 / 200 × minutes, with the
// MET chosen by the section's average speed (AvgSpeedKmh):
//
//   - WALKING, ON_FOOT, RUNNING: up to 3 km/h 2, up to 5 km/h 3.5, up to 6.5 km/h 5, above 7;
//   - BICYCLING: up to 15 km/h 5.8, up to 22.4 km/h 8, up to 25.6 km/h 10, above 15.8;
//   - any other mode (an electric bike included): 0.
//
// A duration that is not positive, or a value that is negative, NaN or infinite, gives 0.
func Calories(mode trip.Mode, distanceM, durationS float64) float64 {
	if !(durationS > 0) || !(distanceM >= 0) || math.IsInf(distanceM, 1) || math.IsInf(durationS, 1) {
		return 0
	}
	met := MET(mode, AvgSpeedKmh(distanceM, durationS))
	return met * bodyWeightKg * 3.5 / 200 * (durationS / 60)
}

// MET returns the metabolic equivalent of a section of the given mode at the given average speed
// (km/h), as Calories uses it; 0 for modes that burn nothing counted, and for a NaN speed.
func MET(mode trip.Mode, speedKmh float64) float64 {
	if math.IsNaN(speedKmh) {
		return 0
	}
	switch mode {
	case trip.Walking, trip.OnFoot, trip.Running:
		switch {
		case speedKmh <= 3:
			return 2
		case speedKmh <= 5:
			return 3.5
		case speedKmh <= 6.5:
			return 5
		}
		return 7
	case trip.Bicycling:
		switch {
		case speedKmh <= 15:
			return 5.8
		case speedKmh <= 22.4:
			return 8
		case speedKmh <= 25.6:
			return 10
		}
		return 15.8
	}
	return 0
}
