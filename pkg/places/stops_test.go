package places_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/places"
	"github.com/coachco2/coachco2/pkg/trip"
)

func paris(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// diary builds a person's trips day by day, with noise: each end lands up to 50 m from its
// place, each time up to 10 minutes from its plan.
type diary struct {
	rng   *rand.Rand
	loc   *time.Location
	trips []places.Ends
}

func newDiary(t testing.TB, seed uint64) *diary {
	return &diary{rng: rand.New(rand.NewPCG(seed, 1)), loc: paris(t)}
}

func (d *diary) jitter(p trip.Point) trip.Point {
	return towards(p, 50*math.Sqrt(d.rng.Float64()), 360*d.rng.Float64())
}

func (d *diary) at(day time.Time, hours float64) time.Time {
	y, m, dd := day.Date()
	minutes := hours*60 + 20*d.rng.Float64() - 10
	return time.Date(y, m, dd, 0, int(minutes), 0, 0, d.loc)
}

// trip adds a trip from one place to another, leaving at hour from (e.g. 8.5 for 08:30) and
// taking minutes.
func (d *diary) trip(day time.Time, from, to trip.Point, hour, minutes float64) {
	start := d.at(day, hour)
	d.trips = append(d.trips, places.Ends{Start: d.jitter(from), End: d.jitter(to),
		StartTime: start, EndTime: start.Add(time.Duration(minutes) * time.Minute)})
}

// The places of the synthetic people.
var (
	home       = trip.Point{Lon: -1.1515, Lat: 46.1605} // Rue du Palais
	work       = trip.Point{Lon: -1.1535, Lat: 46.1425} // Université, 2 km south
	restaurant = towards(work, 600, 60)                 //
	gym        = trip.Point{Lon: -1.1390, Lat: 46.1675} // Fétilly
	market     = trip.Point{Lon: -1.1509, Lat: 46.1617} // Les Halles, 150 m from home
	beach      = trip.Point{Lon: -1.1590, Lat: 46.1450} // Les Minimes
	friend     = trip.Point{Lon: -1.1955, Lat: 46.1725} // Laleu
	shops      = []trip.Point{{Lon: -1.1190, Lat: 46.1800}, market, {Lon: -1.1330, Lat: 46.1525}}
	march2025  = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC) // a Saturday; DST starts on the 30th
	wednesday  = time.Date(2025, 3, 12, 0, 0, 0, 0, time.UTC)
	friday21st = time.Date(2025, 3, 21, 0, 0, 0, 0, time.UTC)
)

// commuter is a month of a person who works at the university on weekdays:
//   - Monday to Friday: home → work 08:00, work → home 17:30; lunch at a restaurant on Tuesdays
//     and Thursdays (12:05 to 13:00); the gym on Monday evenings;
//   - Saturday: the market in the morning (150 m from home: it must not blur home);
//   - Sunday: four hours at the beach (a long stay, but at the weekend);
//   - Wednesday 12th: no data at all (phone off);
//   - Friday 21st: the morning commute is missing: the stay from Thursday evening is unknown.
//
// Hand count: nights of the 2nd to the 31st (30), less the night to Friday 21st = 29, all at
// home. Weekdays: 21 (3–7, 10–14, 17–21, 24–28, 31), all covered by some stop (the 12th by the
// stay at home from Tuesday evening to Thursday morning); days at work: 21 less the 12th and the
// 21st = 19.
func commuter(t testing.TB) []places.Ends {
	d := newDiary(t, 1)
	for day := march2025; day.Month() == time.March; day = day.AddDate(0, 0, 1) {
		switch wd := day.Weekday(); {
		case day.Equal(wednesday):
		case wd == time.Saturday:
			d.trip(day, home, market, 10, 10)
			d.trip(day, market, home, 11.75, 10)
		case wd == time.Sunday:
			d.trip(day, home, beach, 14, 25)
			d.trip(day, beach, home, 18.5, 25)
		default:
			if !day.Equal(friday21st) {
				d.trip(day, home, work, 8, 25)
			}
			if wd == time.Tuesday || wd == time.Thursday {
				d.trip(day, work, restaurant, 12, 8)
				d.trip(day, restaurant, work, 13, 8)
			}
			d.trip(day, work, home, 17.5, 25)
			if wd == time.Monday {
				d.trip(day, home, gym, 18.5, 15)
				d.trip(day, gym, home, 20, 15)
			}
		}
	}
	return d.trips
}

// retired is a month of a person without work: shopping most weekday mornings (under an hour),
// an afternoon at a friend's every Wednesday (4 weekdays of 21: not a job), walks at the
// weekend.
func retired(t testing.TB) []places.Ends {
	d := newDiary(t, 2)
	for day := march2025; day.Month() == time.March; day = day.AddDate(0, 0, 1) {
		switch day.Weekday() {
		case time.Saturday, time.Sunday:
			d.trip(day, home, beach, 15, 20)
			d.trip(day, beach, home, 17.5, 20)
		case time.Wednesday:
			d.trip(day, home, friend, 14, 20)
			d.trip(day, friend, home, 18, 20)
		default:
			shop := shops[d.rng.IntN(len(shops))]
			d.trip(day, home, shop, 9.5, 10)
			d.trip(day, shop, home, 10.5, 10)
		}
	}
	return d.trips
}

func TestStops(t *testing.T) {
	loc := paris(t)
	at := func(day, h, m int) time.Time { return time.Date(2025, 3, day, h, m, 0, 0, loc) }
	trips := []places.Ends{
		{Start: home, End: work, StartTime: at(3, 8, 0), EndTime: at(3, 8, 25)},
		{Start: towards(work, 100, 0), End: home, StartTime: at(3, 17, 30), EndTime: at(3, 17, 55)},
		// Overlaps the previous trip: no stay between them.
		{Start: home, End: gym, StartTime: at(3, 17, 50), EndTime: at(3, 18, 10)},
		// Starts 2 km from where the previous one ended: unknown stay.
		{Start: work, End: home, StartTime: at(4, 17, 30), EndTime: at(4, 17, 55)},
		{Start: home, End: market, StartTime: at(5, 9, 0), EndTime: at(5, 9, 5)},
	}
	want := []places.Stop{
		{Point: work, Arrive: at(3, 8, 25), Leave: at(3, 17, 30)},
		{Point: home, Arrive: at(4, 17, 55), Leave: at(5, 9, 0)},
	}
	if got := places.Stops(trips); !reflect.DeepEqual(got, want) {
		t.Errorf("Stops =\n%v\nwant\n%v", got, want)
	}
	// The order of the trips does not matter, and the caller's slice is left alone.
	shuffled := []places.Ends{trips[4], trips[1], trips[3], trips[0], trips[2]}
	if got := places.Stops(shuffled); !reflect.DeepEqual(got, want) {
		t.Errorf("Stops of shuffled trips =\n%v\nwant\n%v", got, want)
	}
	if shuffled[0] != trips[4] {
		t.Error("Stops sorted the caller's slice")
	}
	if got := places.Stops(trips[:1]); len(got) != 0 {
		t.Errorf("Stops of one trip = %v", got)
	}
}

func TestSuggestCommuter(t *testing.T) {
	stops := places.Stops(commuter(t))
	h, ok := places.SuggestHome(stops)
	if !ok {
		t.Fatal("no home suggested")
	}
	if d := places.Distance(h.Place.Point(), home); d > 25 || h.Count != 29 || h.Share != 1 {
		t.Errorf("home: %.1f m from home, %d nights, share %v; want < 25 m, 29 nights, share 1", d, h.Count, h.Share)
	}
	w, ok := places.SuggestWork(stops, &h.Place)
	if !ok {
		t.Fatal("no work suggested")
	}
	if d := places.Distance(w.Place.Point(), work); d > 25 || w.Count != 19 || math.Abs(w.Share-19.0/21) > 1e-12 {
		t.Errorf("work: %.1f m from work, %d days, share %v; want < 25 m, 19 days, share 19/21", d, w.Count, w.Share)
	}
	// Without a home, the suggested one stands for it.
	if w2, ok := places.SuggestWork(stops, nil); !ok || !reflect.DeepEqual(w, w2) {
		t.Errorf("SuggestWork without home = %+v, %v; want %+v", w2, ok, w)
	}
	// Someone who works where they live gets no work suggestion.
	if w, ok := places.SuggestWork(stops, &places.Place{Lon: work.Lon, Lat: work.Lat}); ok {
		t.Errorf("work suggested at %+v when home is at work", w)
	}
	// Same input, same output, whatever the order of the stops.
	rng := rand.New(rand.NewPCG(3, 3))
	for range 5 {
		shuffled := append([]places.Stop(nil), stops...)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		h2, _ := places.SuggestHome(shuffled)
		w2, _ := places.SuggestWork(shuffled, nil)
		if !reflect.DeepEqual(h, h2) || !reflect.DeepEqual(w, w2) {
			t.Fatalf("shuffled stops give home %+v and work %+v, want %+v and %+v", h2, w2, h, w)
		}
	}
}

func TestSuggestRetired(t *testing.T) {
	stops := places.Stops(retired(t))
	h, ok := places.SuggestHome(stops)
	if !ok || places.Distance(h.Place.Point(), home) > 25 {
		t.Fatalf("home: %+v, %v", h, ok)
	}
	if w, ok := places.SuggestWork(stops, &h.Place); ok {
		t.Errorf("work suggested for a person without work: %+v", w)
	}
	if w, ok := places.SuggestWork(stops, nil); ok {
		t.Errorf("work suggested for a person without work (no home given): %+v", w)
	}
}

func TestSuggestNothing(t *testing.T) {
	if s, ok := places.SuggestHome(nil); ok {
		t.Errorf("SuggestHome(nil) = %+v", s)
	}
	if s, ok := places.SuggestWork(nil, nil); ok {
		t.Errorf("SuggestWork(nil) = %+v", s)
	}
	// Two nights are not enough to call a place home.
	loc := paris(t)
	stops := []places.Stop{
		{Point: home, Arrive: time.Date(2025, 3, 3, 20, 0, 0, 0, loc), Leave: time.Date(2025, 3, 4, 8, 0, 0, 0, loc)},
		{Point: home, Arrive: time.Date(2025, 3, 4, 20, 0, 0, 0, loc), Leave: time.Date(2025, 3, 5, 8, 0, 0, 0, loc)},
	}
	if s, ok := places.SuggestHome(stops); ok {
		t.Errorf("home suggested from two nights: %+v", s)
	}
	// A stop that covers 03:00 but is short is a pause, not a night; a stop of more than
	// MaxStay is missing data.
	stops = append(stops,
		places.Stop{Point: home, Arrive: time.Date(2025, 3, 6, 2, 30, 0, 0, loc), Leave: time.Date(2025, 3, 6, 3, 15, 0, 0, loc)},
		places.Stop{Point: home, Arrive: time.Date(2025, 3, 7, 20, 0, 0, 0, loc), Leave: time.Date(2025, 5, 1, 8, 0, 0, 0, loc)})
	if s, ok := places.SuggestHome(stops); ok {
		t.Errorf("home suggested from a pause and a gap: %+v", s)
	}
}

// The home of someone who spends as many nights at two places is the one they stayed at first;
// a place 400 m away does not pull the suggestion towards it.
func TestSuggestHomeTie(t *testing.T) {
	loc := paris(t)
	a, b := home, towards(home, 400, 90)
	nightsAt := func(first, second trip.Point) []places.Stop {
		var stops []places.Stop
		for i := range 10 {
			p := first
			if i%2 == 1 {
				p = second
			}
			stops = append(stops, places.Stop{Point: p,
				Arrive: time.Date(2025, 3, 1+i, 21, 0, 0, 0, loc), Leave: time.Date(2025, 3, 2+i, 7, 0, 0, 0, loc)})
		}
		return stops
	}
	for _, tt := range []struct {
		name          string
		first, second trip.Point
	}{{"a first", a, b}, {"b first", b, a}} {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := places.SuggestHome(nightsAt(tt.first, tt.second))
			if !ok || s.Count != 5 || s.Share != 0.5 {
				t.Fatalf("SuggestHome = %+v, %v; want 5 nights, share 0.5", s, ok)
			}
			if d := places.Distance(s.Place.Point(), tt.first); d > 1e-6 {
				t.Errorf("suggested %.3f m from the first place", d)
			}
		})
	}
}

// A multi-night stop counts every night it covers, in local time across the change to summer time.
func TestSuggestHomeNights(t *testing.T) {
	loc := paris(t)
	stops := []places.Stop{
		// From Friday 28 March 18:00 to Monday 31 March 08:00: the nights to the 29th, 30th (the
		// night the clocks go forward, 02:00 → 03:00) and 31st.
		{Point: home, Arrive: time.Date(2025, 3, 28, 18, 0, 0, 0, loc), Leave: time.Date(2025, 3, 31, 8, 0, 0, 0, loc)},
		// Leaves at 03:00 sharp: the night does not count.
		{Point: home, Arrive: time.Date(2025, 3, 31, 20, 0, 0, 0, loc), Leave: time.Date(2025, 4, 1, 3, 0, 0, 0, loc)},
	}
	s, ok := places.SuggestHome(stops)
	if !ok || s.Count != 3 {
		t.Fatalf("SuggestHome = %+v, %v; want 3 nights", s, ok)
	}
	// The same stay in another time zone: 03:00 is local to the stop.
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for i := range stops {
		y, m, d := stops[i].Arrive.Date()
		h, mi, _ := stops[i].Arrive.Clock()
		stops[i].Arrive = time.Date(y, m, d, h, mi, 0, 0, ny)
		y, m, d = stops[i].Leave.Date()
		h, mi, _ = stops[i].Leave.Clock()
		stops[i].Leave = time.Date(y, m, d, h, mi, 0, 0, ny)
	}
	if s, ok := places.SuggestHome(stops); !ok || s.Count != 3 {
		t.Fatalf("SuggestHome in New York = %+v, %v; want 3 nights", s, ok)
	}
}

// manyTrips generates n trips: a commute every day and, each day, lunch at one of many places and
// an evening errand anywhere in a 20 km square, so that the stays fill thousands of grid cells.
func manyTrips(t testing.TB, n int) []places.Ends {
	d := newDiary(t, 4)
	day := time.Date(2000, 1, 3, 0, 0, 0, 0, time.UTC)
	errand := func() trip.Point {
		return trip.Point{Lon: -1.30 + 0.26*d.rng.Float64(), Lat: 46.07 + 0.18*d.rng.Float64()}
	}
	for len(d.trips) < n {
		lunch, evening := errand(), errand()
		d.trip(day, home, work, 8, 25)
		d.trip(day, work, lunch, 12, 10)
		d.trip(day, lunch, work, 13, 10)
		d.trip(day, work, home, 17.5, 25)
		d.trip(day, home, evening, 19, 15)
		d.trip(day, evening, home, 21, 15)
		day = day.AddDate(0, 0, 1)
	}
	return d.trips[:n]
}

func TestSuggestManyTrips(t *testing.T) {
	trips := manyTrips(t, 100_000)
	start := time.Now()
	stops := places.Stops(trips)
	h, okH := places.SuggestHome(stops)
	w, okW := places.SuggestWork(stops, nil)
	t.Logf("%d trips, %d stops: suggestions in %v", len(trips), len(stops), time.Since(start))
	if !okH || places.Distance(h.Place.Point(), home) > 5 {
		t.Errorf("home: %+v, %v", h, okH)
	}
	if !okW || places.Distance(w.Place.Point(), work) > 5 {
		t.Errorf("work: %+v, %v", w, okW)
	}
}

func BenchmarkSuggest(b *testing.B) {
	trips := manyTrips(b, 100_000)
	b.ResetTimer()
	for b.Loop() {
		stops := places.Stops(trips)
		places.SuggestHome(stops)
		places.SuggestWork(stops, nil)
	}
}
