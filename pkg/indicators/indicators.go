// Package indicators computes a person's mobility indicators from their trips' aggregations:
// totals, per month (every month of the period, zeros included), per mode, per purpose, modal
// shares, the CO2 avoided by walking, cycling and public transport against the same distances by car, and bike-commute days per year for
// the Forfait Mobilités Durables.
//
// It reads only aggregations, which hold each section's resolved mode and distance, and computes
// CO2 with the factor set it is given: a report for another factor set needs no recomputation.
// Trips are added one at a time, so memory does not grow with their number (but for the few
// bike-commute trips kept for the 12-hour rule).
package indicators

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/trip"
)

// Query selects the trips a report covers.
type Query struct {
	// From and To are calendar months "YYYY-MM", inclusive, in each trip's local time. Empty
	// From or To: from the first or to the last trip.
	From, To string
	// Devices restricts the report to these capture devices; empty means all.
	Devices []string
}

// Validate checks the months.
func (q Query) Validate() error {
	for _, m := range []string{q.From, q.To} {
		if m == "" {
			continue
		}
		if _, err := time.Parse("2006-01", m); err != nil {
			return fmt.Errorf("month %q: want YYYY-MM", m)
		}
	}
	if q.From != "" && q.To != "" && q.From > q.To {
		return fmt.Errorf("the period starts (%s) after it ends (%s)", q.From, q.To)
	}
	return nil
}

// Figures are the sums over a group of trips or sections.
type Figures struct {
	Trips      int     `json:"trips"`
	Sections   int     `json:"sections"`
	DistanceKm float64 `json:"distance_km"`
	DurationS  float64 `json:"duration_s"`
	CO2Kg      float64 `json:"co2_kg"`
	Calories   float64 `json:"calories_kcal"`
}

// Report is the indicators of a period.
type Report struct {
	FactorSet struct {
		ID      string `json:"id"`
		Version string `json:"version"`
		Name    string `json:"name"`
	} `json:"factor_set"`
	Period struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"period"`
	Totals    Figures                   `json:"totals"`
	ByMode    map[trip.Mode]*Figures    `json:"by_mode"`
	ByMonth   map[string]*Figures       `json:"by_month"`
	ByPurpose map[trip.Purpose]*Figures `json:"by_purpose"`
	// ByMonthMode splits each month's figures by mode, as ByMode does the period's.
	ByMonthMode map[string]map[trip.Mode]*Figures `json:"by_month_mode"`
	// ModalShare gives each mode's share (0 to 1) of the distance, and of the trips by their main
	// mode (the mode of their longest distance): each sums to 1.
	ModalShare struct {
		ByDistance map[trip.Mode]float64 `json:"by_distance"`
		ByTrips    map[trip.Mode]float64 `json:"by_trips"`
	} `json:"modal_share"`
	// CO2AvoidedKg is what the sections made on foot, by bike or scooter, or by public transport
	// would have emitted by car over the same distances, less what they emitted (never less
	// than 0 for a section). Sections by car, plane or an unknown mode avoid nothing: the figure
	// is never negative, whatever the factor set.
	CO2AvoidedKg float64 `json:"co2_avoided_kg"`
	// BikeCommuteDays counts, per year, the days with a commute by bike or scooter (12-hour rule).
	BikeCommuteDays map[string]int `json:"bike_commute_days"`
	// ModeOrder and PurposeOrder are the groups in the order to show them: CO2 descending, then
	// groups without CO2 by trip count, unknown last.
	ModeOrder    []trip.Mode    `json:"mode_order"`
	PurposeOrder []trip.Purpose `json:"purpose_order"`
	// NotATrips counts trips labelled not_a_trip in the period, left out of every figure.
	NotATrips int `json:"not_a_trips"`
}

// Trip is what the indicators read of one trip.
type Trip struct {
	Device      string
	Aggregation trip.Aggregation
}

// Accumulator builds a report from trips added one at a time.
type Accumulator struct {
	q        Query
	set      *co2.FactorSet
	devices  map[string]bool
	r        *Report
	byTrips  map[trip.Mode]int
	avoided  float64
	first    string
	last     string
	commutes []Commute
}

// Commute is a commute by bike or scooter, for the bike-commute day count.
type Commute struct {
	StartTS float64
	Day     string // local YYYY-MM-DD
}

// New returns an accumulator for the query, computing CO2 with set.
func New(q Query, set *co2.FactorSet) *Accumulator {
	a := &Accumulator{q: q, set: set, r: &Report{
		ByMode: map[trip.Mode]*Figures{}, ByMonth: map[string]*Figures{}, ByPurpose: map[trip.Purpose]*Figures{},
		ByMonthMode:     map[string]map[trip.Mode]*Figures{},
		BikeCommuteDays: map[string]int{},
	}, byTrips: map[trip.Mode]int{}}
	a.r.FactorSet.ID, a.r.FactorSet.Version, a.r.FactorSet.Name = set.ID, set.Version, set.Name
	if len(q.Devices) > 0 {
		a.devices = map[string]bool{}
		for _, d := range q.Devices {
			a.devices[d] = true
		}
	}
	return a
}

// Add counts a trip, when it is in the query's period and devices.
func (a *Accumulator) Add(t Trip) {
	ag := &t.Aggregation
	if len(ag.LocalStart) < 10 {
		return
	}
	month := ag.LocalStart[:7]
	if a.q.From != "" && month < a.q.From || a.q.To != "" && month > a.q.To {
		return
	}
	if a.devices != nil && !a.devices[t.Device] {
		return
	}
	if ag.NotATrip {
		a.r.NotATrips++
		return
	}
	if a.first == "" || month < a.first {
		a.first = month
	}
	if month > a.last {
		a.last = month
	}
	var tripKg, tripKm float64
	var mainMode trip.Mode
	var mainKm float64
	modeDone := map[trip.Mode]bool{}
	monthModes := a.r.ByMonthMode[month]
	if monthModes == nil {
		monthModes = map[trip.Mode]*Figures{}
		a.r.ByMonthMode[month] = monthModes
	}
	distanceBy := map[trip.Mode]float64{}
	for _, s := range ag.Sections {
		kg := a.set.SectionCO2(s.Mode, s.Distance)
		km := s.Distance / 1000
		tripKg += kg
		tripKm += km
		switch s.Mode.Group() {
		case trip.GroupWalking, trip.GroupBike, trip.GroupTransit:
			a.avoided += max(0, a.set.SectionCO2(trip.Car, s.Distance)-kg)
		}
		f, mf := group(a.r.ByMode, s.Mode), group(monthModes, s.Mode)
		for _, g := range []*Figures{f, mf} {
			g.Sections++
			g.DistanceKm += km
			g.DurationS += s.Duration
			g.CO2Kg += kg
			g.Calories += s.Calories
			if !modeDone[s.Mode] {
				g.Trips++ // a trip counts once under each mode it uses
			}
		}
		modeDone[s.Mode] = true
		distanceBy[s.Mode] += km
		if distanceBy[s.Mode] > mainKm || mainMode == "" {
			mainMode, mainKm = s.Mode, distanceBy[s.Mode]
		}
		a.r.Totals.DurationS += s.Duration
		a.r.Totals.Calories += s.Calories
	}
	a.r.Totals.Trips++
	a.r.Totals.Sections += len(ag.Sections)
	a.r.Totals.DistanceKm += tripKm
	a.r.Totals.CO2Kg += tripKg
	if mainMode != "" {
		a.byTrips[mainMode]++
	}
	for _, g := range []*Figures{a.monthGroup(month), group(a.r.ByPurpose, purposeOf(ag))} {
		g.Trips++
		g.Sections += len(ag.Sections)
		g.DistanceKm += tripKm
		g.CO2Kg += tripKg
		g.DurationS += ag.TotalDuration
		g.Calories += ag.TotalCalories
	}
	if IsBikeCommute(ag) {
		a.commutes = append(a.commutes, Commute{StartTS: ag.StartTS, Day: ag.LocalStart[:10]})
	}
}

func purposeOf(ag *trip.Aggregation) trip.Purpose {
	if ag.Purpose == "" {
		return trip.UnknownPurpose
	}
	return ag.Purpose
}

func (a *Accumulator) monthGroup(month string) *Figures { return group(a.r.ByMonth, month) }

// group returns the figures of key, creating them.
func group[K comparable](m map[K]*Figures, key K) *Figures {
	f := m[key]
	if f == nil {
		f = &Figures{}
		m[key] = f
	}
	return f
}

// Report finishes the report.
func (a *Accumulator) Report() *Report {
	r := a.r
	r.Period.From, r.Period.To = a.q.From, a.q.To
	if r.Period.From == "" {
		r.Period.From = a.first
	}
	if r.Period.To == "" {
		r.Period.To = a.last
	}
	for _, m := range months(r.Period.From, r.Period.To) {
		a.monthGroup(m)
	}
	r.ModalShare.ByDistance = map[trip.Mode]float64{}
	r.ModalShare.ByTrips = map[trip.Mode]float64{}
	for mode, f := range r.ByMode {
		if r.Totals.DistanceKm > 0 {
			r.ModalShare.ByDistance[mode] = f.DistanceKm / r.Totals.DistanceKm
		}
	}
	for mode, n := range a.byTrips {
		r.ModalShare.ByTrips[mode] = float64(n) / float64(r.Totals.Trips)
	}
	r.CO2AvoidedKg = a.avoided
	r.BikeCommuteDays = bikeCommuteDays(a.commutes)
	r.ModeOrder = order(r.ByMode, trip.UnknownMode)
	r.PurposeOrder = order(r.ByPurpose, trip.UnknownPurpose)
	return r
}

// months lists the months from "YYYY-MM" to "YYYY-MM", inclusive.
func months(from, to string) []string {
	start, err1 := time.Parse("2006-01", from)
	end, err2 := time.Parse("2006-01", to)
	if err1 != nil || err2 != nil {
		return nil
	}
	var out []string
	for m := start; !m.After(end); m = m.AddDate(0, 1, 0) {
		out = append(out, m.Format("2006-01"))
	}
	return out
}

// bikeCommuteDays counts bike-commute days per year (see BikeDays).
func bikeCommuteDays(trips []Commute) map[string]int {
	out := map[string]int{}
	for _, day := range BikeDays(trips) {
		out[day[:4]]++
	}
	return out
}

// IsBikeCommute reports whether a trip's figures make it a bike commute: purpose COMMUTE and a
// section by bike, e-bike or e-scooter.
func IsBikeCommute(a *trip.Aggregation) bool {
	if a.Purpose != trip.Commute || a.NotATrip {
		return false
	}
	for _, s := range a.Sections {
		if s.Mode.IsBikeCommute() {
			return true
		}
	}
	return false
}

// BikeDays returns the days that count as bike-commute days, in order, with the existing app's
// rule: trips on the same calendar day count once, and a new day counts only when it is a
// different day and more than 12 hours after the start of the previous trip counted.
func BikeDays(trips []Commute) []string {
	trips = slices.Clone(trips)
	slices.SortFunc(trips, func(x, y Commute) int {
		switch {
		case x.StartTS < y.StartTS:
			return -1
		case x.StartTS > y.StartTS:
			return 1
		}
		return 0
	})
	var days []string
	lastDay, lastStart := "", 0.0
	for _, t := range trips {
		if t.Day == lastDay || lastDay != "" && t.StartTS-lastStart <= 12*3600 {
			continue
		}
		days = append(days, t.Day)
		lastDay, lastStart = t.Day, t.StartTS
	}
	return days
}

// order sorts groups by CO2 descending, then the groups without CO2 by trip count, the unknown
// group last.
func order[K ~string](groups map[K]*Figures, unknown K) []K {
	keys := make([]K, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if (a == unknown) != (b == unknown) {
			return b == unknown
		}
		fa, fb := groups[a], groups[b]
		if fa.CO2Kg != fb.CO2Kg {
			return fa.CO2Kg > fb.CO2Kg
		}
		if fa.Trips != fb.Trips {
			return fa.Trips > fb.Trips
		}
		return a < b
	})
	return keys
}
