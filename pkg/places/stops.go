package places

import (
	"cmp"
	"slices"
	"time"

	"github.com/coachco2/coachco2/pkg/trip"
)

// Ends is where and when a trip started and ended. The times carry the trip's local time zone
// (e.g. the offset of the server's start_fmt_time), which decides what "night" and "weekday" mean.
type Ends struct {
	Start, End         trip.Point
	StartTime, EndTime time.Time
}

// Stop is a stay between two trips: where the person arrived and when, and when they left.
type Stop struct {
	Point         trip.Point
	Arrive, Leave time.Time
}

// StopGapRadius is how far, in meters, the next trip may start from where the previous one ended
// for the time between them to be a stay there. Farther, the person moved without a recorded
// trip (the phone was off, or the data is missing) and where they stayed is unknown.
const StopGapRadius = 500.0

// Stops returns the stays between consecutive trips: the stay between trip i's end and trip
// i+1's start, at trip i's end point, from trip i's end time to trip i+1's start time. Trips are
// taken in the order of their start times (they need not come sorted). There is no stop between
// trips that overlap in time, or whose times are unset, or when the next trip starts more than
// [StopGapRadius] from where the previous one ended.
func Stops(trips []Ends) []Stop {
	byTime := func(a, b Ends) int {
		return cmp.Or(a.StartTime.Compare(b.StartTime), a.EndTime.Compare(b.EndTime))
	}
	if !slices.IsSortedFunc(trips, byTime) {
		trips = slices.Clone(trips)
		slices.SortStableFunc(trips, byTime)
	}
	var stops []Stop
	for i := 1; i < len(trips); i++ {
		prev, next := trips[i-1], trips[i]
		if prev.EndTime.IsZero() || !next.StartTime.After(prev.EndTime) ||
			!(Distance(prev.End, next.Start) <= StopGapRadius) {
			continue
		}
		stops = append(stops, Stop{Point: prev.End, Arrive: prev.EndTime, Leave: next.StartTime})
	}
	return stops
}

// Suggestion is a place suggested from the person's stays.
type Suggestion struct {
	// Place is the centroid of the stays of the cluster; its Label is empty.
	Place Place
	// Count is how many nights (for home) or weekdays (for work) the person stayed there.
	Count int
	// Share is Count over the nights (for home) or weekdays (for work) the data covers, 0 to 1.
	Share float64
}

// The rules of the suggestions. All hours are local, in the time zone of the stop's arrival.
const (
	// MaxStay is the longest stop the suggestions learn from: a longer gap between two trips
	// is missing data rather than a stay.
	MaxStay = 31 * 24 * time.Hour

	// NightHour is the hour of the night (03:00) a stop must cover to count as a night there;
	// a stop covering it on several days counts that many nights.
	NightHour = 3
	// MinNightStay is the shortest stop that counts as a night: shorter is a pause on the way.
	MinNightStay = time.Hour
	// MinHomeNights and MinHomeShare are what a suggested home needs: that many nights, and
	// that share of all the nights the data covers.
	MinHomeNights = 3
	MinHomeShare  = 0.3

	// WorkFrom and WorkTo bound the working hours (10:00 to 16:00) of a weekday, Monday to
	// Friday, that a stop at work overlaps.
	WorkFrom, WorkTo = 10, 16
	// MinWorkStay is the shortest stop that counts as a day at work, and MinWorkOverlap how much
	// of the working hours of a weekday it must cover to count that day.
	MinWorkStay    = 3 * time.Hour
	MinWorkOverlap = time.Hour
	// MinWorkDays and MinWorkShare are what a suggested work place needs: that many weekdays,
	// and that share of the weekdays the data covers (a weekly activity is not a job).
	MinWorkDays  = 3
	MinWorkShare = 0.25
)

// SuggestHome suggests the person's home: the place of their most frequent night-time stay. Each
// stop of [MinNightStay] to [MaxStay] counts one night for every 03:00 local ([NightHour]) it
// covers; the stops are clustered within [SimilarRadius] and the cluster with the most nights
// wins (on a tie, the one whose first stay comes first). ok is false when no cluster has
// [MinHomeNights] nights and [MinHomeShare] of all the nights.
func SuggestHome(stops []Stop) (*Suggestion, bool) {
	stops = sortedStops(stops)
	pts := make([]weighted, len(stops))
	total := 0
	for i, s := range stops {
		pts[i] = weighted{s.Point, nights(s)}
		total += pts[i].w
	}
	center, members, ok := densest(pts)
	if !ok {
		return nil, false
	}
	count := 0 // no two stops cover the same night: stops do not overlap
	for _, i := range members {
		count += pts[i].w
	}
	return suggestion(center, count, total, MinHomeNights, MinHomeShare)
}

// SuggestWork suggests the person's work place: the place of their most frequent weekday daytime
// stay away from home. A stop of [MinWorkStay] to [MaxStay] farther than [CommuteRadius] from
// home counts for every Monday to Friday whose working hours ([WorkFrom] to [WorkTo] local) it
// overlaps by [MinWorkOverlap]; the stops are clustered within [SimilarRadius] and the cluster
// with the most such stays wins (on a tie, the one whose first stay comes first). Its Count is
// the number of distinct weekdays (a lunch out splits a day in two stays), and its Share is over
// the weekdays that any stop covers, wherever it is, so that someone who spends one afternoon a
// week somewhere gets no suggestion. When home is nil, the suggested home (if any) stands for
// it. ok is false when no cluster has [MinWorkDays] days and [MinWorkShare] of the weekdays.
func SuggestWork(stops []Stop, home *Place) (*Suggestion, bool) {
	stops = sortedStops(stops)
	if home == nil {
		if h, ok := SuggestHome(stops); ok {
			home = &h.Place
		}
	}
	covered := make(map[int]struct{}) // the weekdays any stop covers, by local date
	pts := make([]weighted, len(stops))
	for i, s := range stops {
		if !usable(s) {
			continue
		}
		eachDay(s, func(day time.Time) {
			if isWeekday(day) {
				covered[dateKey(day)] = struct{}{}
			}
		})
		if home == nil || Distance(s.Point, home.Point()) > CommuteRadius {
			workDays(s, func(int) { pts[i].w++ })
			pts[i].p = s.Point
		}
	}
	center, members, ok := densest(pts)
	if !ok {
		return nil, false
	}
	days := make(map[int]struct{})
	for _, i := range members {
		workDays(stops[i], func(date int) { days[date] = struct{}{} })
	}
	return suggestion(center, len(days), len(covered), MinWorkDays, MinWorkShare)
}

// suggestion returns the suggestion of a place that counts count out of total, if it counts at
// least minCount and minShare of total.
func suggestion(center trip.Point, count, total, minCount int, minShare float64) (*Suggestion, bool) {
	if total == 0 || count < minCount || float64(count)/float64(total) < minShare {
		return nil, false
	}
	return &Suggestion{Place: Place{Lon: center.Lon, Lat: center.Lat}, Count: count,
		Share: float64(count) / float64(total)}, true
}

// sortedStops returns the stops in a canonical order (arrival, departure, position), so that the
// suggestions do not depend on the order they come in.
func sortedStops(stops []Stop) []Stop {
	order := func(a, b Stop) int {
		return cmp.Or(a.Arrive.Compare(b.Arrive), a.Leave.Compare(b.Leave),
			cmp.Compare(a.Point.Lat, b.Point.Lat), cmp.Compare(a.Point.Lon, b.Point.Lon))
	}
	if slices.IsSortedFunc(stops, order) {
		return stops
	}
	stops = slices.Clone(stops)
	slices.SortFunc(stops, order)
	return stops
}

// usable reports whether the suggestions learn from the stop: it has a time, a position, and
// lasts more than nothing and at most MaxStay.
func usable(s Stop) bool {
	d := s.Leave.Sub(s.Arrive)
	return !s.Arrive.IsZero() && d > 0 && d <= MaxStay && valid(s.Point)
}

// eachDay calls fn with the local midnight of every calendar day the stop overlaps, in the time
// zone of its arrival.
func eachDay(s Stop, fn func(day time.Time)) {
	loc := s.Arrive.Location()
	y, m, d := s.Arrive.Date()
	for day := time.Date(y, m, d, 0, 0, 0, 0, loc); day.Before(s.Leave); {
		fn(day)
		d++
		day = time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
}

// hour returns the time h:00 of the day, in the day's time zone.
func hour(day time.Time, h int) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, h, 0, 0, 0, day.Location())
}

// isWeekday reports whether the day is a Monday to Friday.
func isWeekday(day time.Time) bool {
	return day.Weekday() != time.Saturday && day.Weekday() != time.Sunday
}

// nights returns how many nights the stop counts for: the number of NightHour local times it
// covers (from its arrival included to its departure excluded), or 0 for an unusable stop or one
// shorter than MinNightStay.
func nights(s Stop) int {
	if !usable(s) || s.Leave.Sub(s.Arrive) < MinNightStay {
		return 0
	}
	n := 0
	eachDay(s, func(day time.Time) {
		if t := hour(day, NightHour); !t.Before(s.Arrive) && t.Before(s.Leave) {
			n++
		}
	})
	return n
}

// workDays calls fn with the local date (see dateKey) of every weekday the stop counts for at
// work: the Mondays to Fridays whose working hours it overlaps by MinWorkOverlap; none for an
// unusable stop or one shorter than MinWorkStay.
func workDays(s Stop, fn func(date int)) {
	if !usable(s) || s.Leave.Sub(s.Arrive) < MinWorkStay {
		return
	}
	eachDay(s, func(day time.Time) {
		if !isWeekday(day) {
			return
		}
		from, to := hour(day, WorkFrom), hour(day, WorkTo)
		if overlap := minTime(to, s.Leave).Sub(maxTime(from, s.Arrive)); overlap >= MinWorkOverlap {
			fn(dateKey(day))
		}
	})
}

// dateKey identifies a calendar day: yyyymmdd.
func dateKey(day time.Time) int {
	y, m, d := day.Date()
	return y*10000 + int(m)*100 + d
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
