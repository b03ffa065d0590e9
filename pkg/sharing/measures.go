package sharing

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/study"
)

// CompletePeriods returns the periods of a measure within the study's period that are over at
// now (in now's location): months before the current month, years before the current year.
func CompletePeriods(d *study.Descriptor, m study.MeasureID, now time.Time) []study.Period {
	meas, ok := study.LookupMeasure(m)
	if !ok {
		return nil
	}
	current := study.Month(now.Year(), now.Month())
	var out []study.Period
	for _, p := range d.Period.Periods(meas.Granularity) {
		if p.Granularity() == study.Yearly && p.Year < now.Year() || p.Granularity() == study.Monthly && p.Compare(current) < 0 {
			out = append(out, p)
		}
	}
	return out
}

// reports computes and keeps the coach's report of a month or a year.
type reports struct {
	rep  Reporter
	seen map[string]*indicators.Report
}

func (r *reports) get(ctx context.Context, p study.Period) (*indicators.Report, error) {
	key := p.String()
	if rp, ok := r.seen[key]; ok {
		return rp, nil
	}
	q := indicators.Query{From: key, To: key}
	if p.Granularity() == study.Yearly {
		q = indicators.Query{From: key + "-01", To: key + "-12"}
	}
	rp, err := r.rep.Report(ctx, q, nil)
	if err != nil {
		return nil, fmt.Errorf("sharing: report of %s: %w", key, err)
	}
	if r.seen == nil {
		r.seen = map[string]*indicators.Report{}
	}
	r.seen[key] = rp
	return rp, nil
}

// round rounds x to n decimals.
func round(x float64, n int) float64 {
	p := math.Pow10(n)
	return math.Round(x*p) / p
}

// measure computes one measure of one period from its report, in the catalogue's unit. ok is
// false when there is nothing to send (modal shares of a month without distance).
func measure(m study.MeasureID, p study.Period, r *indicators.Report) (value *float64, values map[string]float64, ok bool) {
	switch m {
	case study.CO2Monthly:
		v := round(r.Totals.CO2Kg, 3)
		return &v, nil, true
	case study.DistanceMonthlyByMode:
		values = map[string]float64{}
		for mode, f := range r.ByMode {
			if km := round(f.DistanceKm, 3); km > 0 {
				values[string(mode)] = km
			}
		}
		return nil, values, true
	case study.TripsMonthlyByMode:
		values = map[string]float64{}
		for mode, f := range r.ByMode {
			if f.Trips > 0 {
				values[string(mode)] = float64(f.Trips)
			}
		}
		return nil, values, true
	case study.TripsMonthlyByPurpose:
		values = map[string]float64{}
		for purpose, f := range r.ByPurpose {
			if f.Trips > 0 {
				values[string(purpose)] = float64(f.Trips)
			}
		}
		return nil, values, true
	case study.ModalShareMonthly:
		if r.Totals.DistanceKm <= 0 {
			return nil, nil, false
		}
		values = map[string]float64{}
		for mode, share := range r.ModalShare.ByDistance {
			if v := round(share, 4); v > 0 {
				values[string(mode)] = v
			}
		}
		return nil, values, len(values) > 0
	case study.BikeCommuteDaysYearly:
		v := float64(r.BikeCommuteDays[strconv.Itoa(p.Year)])
		return &v, nil, true
	}
	return nil, nil, false
}

// contributions computes the measures of a consent for the complete periods at now that are not
// in skip, each checked against the descriptor. A value the catalogue refuses (out of range, say)
// is left out and reported in dropped.
func (s *Service) contributions(ctx context.Context, d *study.Descriptor, pseudonym string, measures []study.MeasureID,
	profile map[string]string, now time.Time, skip map[study.Key]bool) (out []study.Contribution, dropped []error, err error) {
	rs := &reports{rep: s.rep}
	for _, m := range d.Measures { // the study's order
		if !containsMeasure(measures, m) {
			continue
		}
		for _, p := range CompletePeriods(d, m, now) {
			if skip[study.Key{Measure: m, Period: p}] {
				continue
			}
			r, err := rs.get(ctx, p)
			if err != nil {
				return nil, nil, err
			}
			if r.Totals.Trips == 0 {
				// A period without any trip cannot be told from one the app did not record:
				// it is not sent.
				continue
			}
			value, values, ok := measure(m, p, r)
			if !ok {
				continue
			}
			c := study.Contribution{StudyID: d.ID, StudyVersion: d.Version, Pseudonym: pseudonym, Measure: m,
				Period: p, Value: value, Values: values, Profile: profile}
			if err := d.CheckContribution(&c, now); err != nil {
				dropped = append(dropped, fmt.Errorf("%s %s: %w", m, p, err))
				continue
			}
			out = append(out, c)
		}
	}
	return out, dropped, nil
}

func containsMeasure(ms []study.MeasureID, m study.MeasureID) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}
