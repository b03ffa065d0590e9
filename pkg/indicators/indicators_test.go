package indicators

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/trip"
)

func set(t *testing.T) *co2.FactorSet {
	s, err := co2.Lookup(co2.DefaultSetID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var paris = func() *time.Location { l, _ := time.LoadLocation("Europe/Paris"); return l }()

// tr makes a trip starting at the local time given, with sections (mode, meters).
func tr(local string, purpose trip.Purpose, sections ...any) Trip {
	start, err := time.ParseInLocation("2006-01-02 15:04", local, paris)
	if err != nil {
		panic(err)
	}
	a := trip.Aggregation{LocalStart: start.Format(time.RFC3339), StartTS: float64(start.Unix()), Purpose: purpose}
	for i := 0; i < len(sections); i += 2 {
		a.Sections = append(a.Sections, trip.SectionAggregate{Mode: sections[i].(trip.Mode), Distance: sections[i+1].(float64), Duration: 600})
	}
	return Trip{Device: "phone", Aggregation: a}
}

func TestBikeCommuteDaysTwelveHourRule(t *testing.T) {
	acc := New(Query{}, set(t))
	for _, x := range []Trip{
		tr("2025-03-03 08:00", trip.Commute, trip.Bicycling, 4000.0),                      // counts
		tr("2025-03-03 18:00", trip.Commute, trip.Bicycling, 4000.0),                      // same day
		tr("2025-03-04 05:00", trip.Commute, trip.BicyclingElectric, 4000.0),              // next day but 21 h later: counts
		tr("2025-03-04 16:30", trip.Commute, trip.Bicycling, 4000.0),                      // same day
		tr("2025-03-05 02:00", trip.Commute, trip.ScooterElectric, 4000.0),                // next day, only 21 h after 05:00: counts
		tr("2025-03-05 08:00", trip.Commute, trip.Bicycling, 4000.0),                      // same day as the 02:00
		tr("2025-03-06 07:00", trip.Shopping, trip.Bicycling, 4000.0),                     // not a commute
		tr("2025-03-07 07:00", trip.Commute, trip.Car, 4000.0),                            // not by bike
		tr("2025-03-07 07:30", trip.Commute, trip.Walking, 300.0, trip.Bus, 5000.0),       // not by bike
		tr("2026-01-02 08:00", trip.Commute, trip.Walking, 200.0, trip.Bicycling, 3000.0), // 2026
	} {
		acc.Add(x)
	}
	r := acc.Report()
	if r.BikeCommuteDays["2025"] != 3 || r.BikeCommuteDays["2026"] != 1 {
		t.Fatalf("bike-commute days %v, want 2025: 3, 2026: 1", r.BikeCommuteDays)
	}
	// A day counts only more than 12 hours after the previous counted start.
	acc = New(Query{}, set(t))
	acc.Add(tr("2025-03-03 20:00", trip.Commute, trip.Bicycling, 4000.0))
	acc.Add(tr("2025-03-04 07:00", trip.Commute, trip.Bicycling, 4000.0)) // 11 h later, next day: no
	acc.Add(tr("2025-03-04 09:00", trip.Commute, trip.Bicycling, 4000.0)) // 13 h later, but the 4th was... not counted: counts
	if got := acc.Report().BikeCommuteDays["2025"]; got != 2 {
		t.Fatalf("%d days, want 2", got)
	}
}

func TestGroupsSharesAndOrder(t *testing.T) {
	s := set(t)
	acc := New(Query{From: "2025-01", To: "2025-04"}, s)
	acc.Add(tr("2025-01-10 08:00", trip.Commute, trip.Walking, 500.0, trip.Car, 9500.0))
	acc.Add(tr("2025-01-11 08:00", trip.Shopping, trip.Bicycling, 3000.0))
	acc.Add(tr("2025-03-12 08:00", trip.UnknownPurpose, trip.UnknownMode, 1000.0))
	acc.Add(tr("2025-03-13 08:00", trip.Shopping, trip.Bicycling, 2000.0))
	acc.Add(tr("2024-12-31 23:59", trip.Commute, trip.Car, 10000.0)) // before the period
	notATrip := tr("2025-02-01 08:00", trip.Commute, trip.Car, 10000.0)
	notATrip.Aggregation.NotATrip = true
	acc.Add(notATrip)
	r := acc.Report()
	if r.Totals.Trips != 4 || r.Totals.Sections != 5 || math.Abs(r.Totals.DistanceKm-16) > 1e-12 || r.NotATrips != 1 {
		t.Fatalf("totals %+v, not-a-trips %d", r.Totals, r.NotATrips)
	}
	// 9.5 km by car at 192 g/km = 1.824 kg; the 5.5 km on foot and by bike would have been
	// 1.056 kg by car (the unknown mode's km avoid nothing).
	if math.Abs(r.Totals.CO2Kg-1.824) > 1e-12 || math.Abs(r.CO2AvoidedKg-1.056) > 1e-12 {
		t.Fatalf("CO2 %.6f, avoided %.6f", r.Totals.CO2Kg, r.CO2AvoidedKg)
	}
	// Every month of the period, February and April with zeros.
	if len(r.ByMonth) != 4 || r.ByMonth["2025-02"].Trips != 0 || r.ByMonth["2025-04"].Trips != 0 || r.ByMonth["2025-01"].Trips != 2 {
		t.Fatalf("months %v", r.ByMonth)
	}
	// CO2 first, then trips, unknown last.
	if want := []trip.Mode{trip.Car, trip.Bicycling, trip.Walking, trip.UnknownMode}; !slices.Equal(r.ModeOrder, want) {
		t.Fatalf("mode order %v, want %v", r.ModeOrder, want)
	}
	if want := []trip.Purpose{trip.Commute, trip.Shopping, trip.UnknownPurpose}; !slices.Equal(r.PurposeOrder, want) {
		t.Fatalf("purpose order %v, want %v", r.PurposeOrder, want)
	}
	var byDistance, byTrips float64
	for _, v := range r.ModalShare.ByDistance {
		byDistance += v
	}
	for _, v := range r.ModalShare.ByTrips {
		byTrips += v
	}
	if math.Abs(byDistance-1) > 1e-12 || math.Abs(byTrips-1) > 1e-12 || r.ModalShare.ByTrips[trip.Bicycling] != 0.5 {
		t.Fatalf("modal shares %v / %v", r.ModalShare.ByDistance, r.ModalShare.ByTrips)
	}
	// A trip counts once under each mode it uses.
	if r.ByMode[trip.Walking].Trips != 1 || r.ByMode[trip.Car].Trips != 1 || r.ByMode[trip.Bicycling].Trips != 2 {
		t.Fatalf("by mode %+v", r.ByMode)
	}
	// Devices filter.
	acc = New(Query{Devices: []string{"other"}}, s)
	acc.Add(tr("2025-01-10 08:00", trip.Commute, trip.Car, 1000.0))
	if got := acc.Report(); got.Totals.Trips != 0 {
		t.Fatalf("device filter let %d trips through", got.Totals.Trips)
	}
}

func TestQueryValidate(t *testing.T) {
	for _, q := range []Query{{From: "2025-13"}, {To: "25-01"}, {From: "2025-05", To: "2025-01"}} {
		if q.Validate() == nil {
			t.Errorf("%+v accepted", q)
		}
	}
	if (Query{From: "2025-01", To: "2025-01"}).Validate() != nil {
		t.Error("a one-month period refused")
	}
}

// TestCO2AvoidedNeverNegative: CO2 avoided counts what walking, cycling and public transport
// saved against a car over the same distances; a plane, which emits more than a car, or a car
// avoids nothing, so the figure is never negative, whatever the factor set.
func TestCO2AvoidedNeverNegative(t *testing.T) {
	for _, id := range []string{co2.DefaultSetID, co2.ImpactCO2SetID} {
		s, err := co2.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		acc := New(Query{}, s)
		acc.Add(tr("2025-05-01 08:00", trip.Travel, trip.AirOrHSR, 900_000.0))
		acc.Add(tr("2025-05-02 08:00", trip.Commute, trip.Car, 10_000.0))
		if r := acc.Report(); r.CO2AvoidedKg != 0 {
			t.Errorf("%s: a plane and a car trip avoid %.3f kg, want 0", id, r.CO2AvoidedKg)
		}
		acc.Add(tr("2025-05-03 08:00", trip.Commute, trip.Walking, 200.0, trip.Bus, 5_000.0, trip.Bicycling, 1_000.0))
		r := acc.Report()
		want := s.SectionCO2(trip.Car, 6_200) - s.SectionCO2(trip.Bus, 5_000)
		if math.Abs(r.CO2AvoidedKg-want) > 1e-12 || r.CO2AvoidedKg <= 0 {
			t.Errorf("%s: avoided %.6f kg, want %.6f", id, r.CO2AvoidedKg, want)
		}
	}
}

// TestByMonthModeAddsUp: each month's figures by mode add up to the month's, and over the months
// to the period's by mode.
func TestByMonthModeAddsUp(t *testing.T) {
	acc := New(Query{From: "2025-01", To: "2025-03"}, set(t))
	acc.Add(tr("2025-01-10 08:00", trip.Commute, trip.Walking, 500.0, trip.Car, 9500.0, trip.Walking, 200.0))
	acc.Add(tr("2025-01-11 08:00", trip.Shopping, trip.Bicycling, 3000.0))
	acc.Add(tr("2025-03-13 08:00", trip.Shopping, trip.Bus, 2000.0))
	r := acc.Report()
	if f := r.ByMonthMode["2025-01"][trip.Walking]; f == nil || f.Trips != 1 || f.Sections != 2 || math.Abs(f.DistanceKm-0.7) > 1e-12 {
		t.Fatalf("January on foot: %+v", f)
	}
	total := map[trip.Mode]float64{}
	for month, modes := range r.ByMonthMode {
		var km, kg float64
		for m, f := range modes {
			km += f.DistanceKm
			kg += f.CO2Kg
			total[m] += f.DistanceKm
		}
		if math.Abs(km-r.ByMonth[month].DistanceKm) > 1e-9 || math.Abs(kg-r.ByMonth[month].CO2Kg) > 1e-9 {
			t.Errorf("%s: modes add up to %.3f km %.3f kg, the month has %.3f km %.3f kg", month, km, kg, r.ByMonth[month].DistanceKm, r.ByMonth[month].CO2Kg)
		}
	}
	for m, f := range r.ByMode {
		if math.Abs(total[m]-f.DistanceKm) > 1e-9 {
			t.Errorf("%s: %.3f km over the months, %.3f in the period", m, total[m], f.DistanceKm)
		}
	}
}
