package study

import "slices"

// MeasureID names a measure of the catalogue. The catalogue is fixed: a study can only request
// measures from it, and a contribution can only carry them.
type MeasureID string

// The catalogue's measures.
const (
	// CO2Monthly is the CO2 of a month's trips, in kg CO2e: one number.
	CO2Monthly MeasureID = "co2_monthly_kg"
	// DistanceMonthlyByMode is a month's distance per mode, in km: a number per mode.
	DistanceMonthlyByMode MeasureID = "distance_monthly_km_by_mode"
	// TripsMonthlyByMode is a month's number of trips per mode (a trip counts for each mode it
	// used): a whole number per mode.
	TripsMonthlyByMode MeasureID = "trips_monthly_by_mode"
	// TripsMonthlyByPurpose is a month's number of trips per purpose: a whole number per purpose.
	TripsMonthlyByPurpose MeasureID = "trips_monthly_by_purpose"
	// ModalShareMonthly is each mode's share of a month's distance, from 0 to 1: a number per
	// mode, adding up to 1.
	ModalShareMonthly MeasureID = "modal_share_monthly"
	// BikeCommuteDaysYearly is the number of days of a year with at least one commute by bike: a
	// whole number.
	BikeCommuteDaysYearly MeasureID = "bike_commute_days_yearly"
)

// Unit is what a measure's numbers count.
type Unit string

// The units.
const (
	UnitKgCO2e Unit = "kgCO2e"
	UnitKm     Unit = "km"
	UnitTrips  Unit = "trips"
	UnitShare  Unit = "share" // a fraction from 0 to 1
	UnitDays   Unit = "days"
)

// CategoryKind says what a measure's numbers are per: nothing (one number), modes or purposes.
type CategoryKind string

// The category kinds.
const (
	// NoCategory: the measure is one number ("value" in a contribution).
	NoCategory CategoryKind = ""
	// ByMode: a number per mode of [Modes] ("values" in a contribution).
	ByMode CategoryKind = "mode"
	// ByPurpose: a number per purpose of [Purposes] ("values" in a contribution).
	ByPurpose CategoryKind = "purpose"
)

// SharesTolerance is how far from 1 the modal shares of a contribution may add up (rounding).
const SharesTolerance = 0.02

// Measure describes a measure of the catalogue.
type Measure struct {
	ID          MeasureID    `json:"id"`
	Unit        Unit         `json:"unit"`
	Granularity Granularity  `json:"granularity"`
	Categories  CategoryKind `json:"categories,omitempty"`
	// Min and Max bound each number of a contribution, both included.
	Min float64 `json:"min"`
	Max float64 `json:"max"`
	// Integer says the numbers are counts, without a fractional part.
	Integer bool `json:"integer,omitempty"`
	// SumsToOne says the numbers of a contribution add up to 1 (within [SharesTolerance]).
	SumsToOne bool `json:"sums_to_one,omitempty"`
	// Title says what the measure is, for people.
	Title Text `json:"title"`
}

// MeasureIDs lists the catalogue's measures, in its order.
func MeasureIDs() []MeasureID {
	return []MeasureID{CO2Monthly, DistanceMonthlyByMode, TripsMonthlyByMode, TripsMonthlyByPurpose,
		ModalShareMonthly, BikeCommuteDaysYearly}
}

// Catalogue returns every measure, in the catalogue's order.
func Catalogue() []Measure {
	ids := MeasureIDs()
	out := make([]Measure, len(ids))
	for i, id := range ids {
		out[i], _ = LookupMeasure(id)
	}
	return out
}

// LookupMeasure returns the catalogue's measure with that id.
func LookupMeasure(id MeasureID) (Measure, bool) {
	switch id {
	case CO2Monthly:
		return Measure{ID: id, Unit: UnitKgCO2e, Granularity: Monthly, Min: 0, Max: 20000,
			Title: Text{FR: "CO2 du mois (kg CO2e)", EN: "CO2 of the month (kg CO2e)"}}, true
	case DistanceMonthlyByMode:
		return Measure{ID: id, Unit: UnitKm, Granularity: Monthly, Categories: ByMode, Min: 0, Max: 100000,
			Title: Text{FR: "Distance du mois par mode (km)", EN: "Distance of the month per mode (km)"}}, true
	case TripsMonthlyByMode:
		return Measure{ID: id, Unit: UnitTrips, Granularity: Monthly, Categories: ByMode, Min: 0, Max: 3000, Integer: true,
			Title: Text{FR: "Trajets du mois par mode", EN: "Trips of the month per mode"}}, true
	case TripsMonthlyByPurpose:
		return Measure{ID: id, Unit: UnitTrips, Granularity: Monthly, Categories: ByPurpose, Min: 0, Max: 3000, Integer: true,
			Title: Text{FR: "Trajets du mois par motif", EN: "Trips of the month per purpose"}}, true
	case ModalShareMonthly:
		return Measure{ID: id, Unit: UnitShare, Granularity: Monthly, Categories: ByMode, Min: 0, Max: 1, SumsToOne: true,
			Title: Text{FR: "Part modale du mois (part de la distance)", EN: "Modal share of the month (share of the distance)"}}, true
	case BikeCommuteDaysYearly:
		return Measure{ID: id, Unit: UnitDays, Granularity: Yearly, Min: 0, Max: 366, Integer: true,
			Title: Text{FR: "Jours de l'année avec un trajet domicile-travail à vélo", EN: "Days of the year with a bike commute"}}, true
	}
	return Measure{}, false
}

// CategoryList returns the measure's categories in their order: the modes, the purposes, or nil
// for a measure that is one number.
func (m Measure) CategoryList() []string {
	switch m.Categories {
	case ByMode:
		return Modes()
	case ByPurpose:
		return Purposes()
	}
	return nil
}

// HasCategory reports whether c is one of the measure's categories.
func (m Measure) HasCategory(c string) bool { return slices.Contains(m.CategoryList(), c) }

// Modes lists the modes a measure per mode is broken down by: the coach's modes (pkg/trip).
func Modes() []string {
	return []string{"WALKING", "ON_FOOT", "RUNNING", "BICYCLING", "BICYCLING_ELECTRIC", "SCOOTER_ELECTRIC",
		"CAR", "CAR_ELECTRIC", "CARPOOL", "CARPOOL_ELECTRIC", "MOTO_INF_250", "MOTO_SUP_250", "MOPED", "IN_VEHICLE",
		"BUS", "BUS_ELECTRIC", "TRAIN", "TRAMWAY", "SUBWAY", "AIR_OR_HSR", "UNKNOWN"}
}

// Purposes lists the purposes a measure per purpose is broken down by: the coach's purposes
// (pkg/trip), UNKNOWN being a trip without a purpose.
func Purposes() []string {
	return []string{"COMMUTE", "WORK", "SHOPPING", "PERSONAL_MED", "PICK_DROP", "SPORT", "EXERCISE",
		"ENTERTAINMENT", "TRAVEL", "OTHER_PURPOSE", "UNKNOWN"}
}
