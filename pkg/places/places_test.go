package places_test

import (
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/coachco2/coachco2/pkg/places"
	"github.com/coachco2/coachco2/pkg/trip"
)

// Two places of La Rochelle (the positions tripgen uses for them).
var (
	cityHall = trip.Point{Lon: -1.1517, Lat: 46.1596} // Hôtel de Ville
	station  = trip.Point{Lon: -1.1452, Lat: 46.1527} // Gare de La Rochelle
)

// towards returns the point at meters from p along the initial bearing (degrees clockwise from
// north), on the sphere of radius places.EarthRadius: the direct geodesic problem, solved
// independently of places.Distance.
func towards(p trip.Point, meters, bearing float64) trip.Point {
	const rad = math.Pi / 180
	δ, θ := meters/places.EarthRadius, bearing*rad
	φ1, λ1 := p.Lat*rad, p.Lon*rad
	φ2 := math.Asin(math.Sin(φ1)*math.Cos(δ) + math.Cos(φ1)*math.Sin(δ)*math.Cos(θ))
	λ2 := λ1 + math.Atan2(math.Sin(θ)*math.Sin(δ)*math.Cos(φ1), math.Cos(δ)-math.Sin(φ1)*math.Sin(φ2))
	return trip.Point{Lon: λ2 / rad, Lat: φ2 / rad}
}

func TestDistance(t *testing.T) {
	// Expected values computed by hand from R = 6,371,008.8 m:
	//   one degree of a great circle: πR/180 = 111,195.0802 m;
	//   a quarter meridian: πR/2 = 10,007,557.2210 m; half the circumference: πR = 20,015,114.4420 m;
	//   city hall → station: Δlat = 0.0069° → 0.0069 × 111,195.0802 = 767.2461 m north-south,
	//   Δlon = 0.0065° at 46.156° N → 0.0065 × 111,195.0802 × cos 46.156° = 500.6594 m east-west,
	//   √(767.2461² + 500.6594²) = 916.1468 m (flat is exact to the millimeter at this scale).
	tests := []struct {
		name string
		a, b trip.Point
		want float64
		tol  float64
	}{
		{"same point", cityHall, cityHall, 0, 0},
		{"one degree along the equator", trip.Point{Lon: 0, Lat: 0}, trip.Point{Lon: 1, Lat: 0}, 111_195.0802, 1e-3},
		{"one degree along a meridian", trip.Point{Lon: 5, Lat: 45}, trip.Point{Lon: 5, Lat: 46}, 111_195.0802, 1e-3},
		{"equator to pole", trip.Point{Lon: 0, Lat: 0}, trip.Point{Lon: 0, Lat: 90}, 10_007_557.2210, 1e-3},
		{"antipodes", trip.Point{Lon: 0, Lat: 0}, trip.Point{Lon: 180, Lat: 0}, 20_015_114.4420, 1e-3},
		{"across the antimeridian", trip.Point{Lon: 179.5, Lat: 0}, trip.Point{Lon: -179.5, Lat: 0}, 111_195.0802, 1e-3},
		{"La Rochelle city hall to the station", cityHall, station, 916.1468, 1e-3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := places.Distance(tt.a, tt.b); math.Abs(d-tt.want) > tt.tol {
				t.Errorf("Distance = %.6f m, want %.4f", d, tt.want)
			}
			if d, r := places.Distance(tt.a, tt.b), places.Distance(tt.b, tt.a); d != r {
				t.Errorf("not symmetric: %v and %v", d, r)
			}
		})
	}
	if d := places.Distance(trip.Point{Lon: math.NaN()}, cityHall); !math.IsNaN(d) {
		t.Errorf("Distance from NaN = %v, want NaN", d)
	}
	// The helper used below agrees with Distance.
	for _, m := range []float64{1, 150, 199.9, 210, 5000} {
		for _, b := range []float64{0, 45, 90, 200, 315} {
			if d := places.Distance(cityHall, towards(cityHall, m, b)); math.Abs(d-m) > 1e-6 {
				t.Errorf("%v m at %v°: Distance says %v", m, b, d)
			}
		}
	}
}

// oldAppBox is the existing Coach CO2 app's test for "close" points (src/lib/geo.js and
// queryRecurringTimeseriesWithCloseStartOrEnd): it meant a box of ±200 m but computed
// deltaLon = deltaLongitude(deltaLat, 200), passing the latitude delta where a latitude was
// expected, and then used that longitude delta for both coordinates. The result is a square of
// ±0.0017966° (200 m on its 6,378,137 m sphere, with cos ≈ 1): ±199.8 m north-south but only
// ±138.4 m east-west at La Rochelle, and up to 243 m along the diagonals.
func oldAppBox(a, b trip.Point) bool {
	const earthRadius, threshold = 6378137.0, 200.0
	deltaLat := threshold / (40075000.0 / 360)
	deltaLon := threshold / (earthRadius * math.Cos(deltaLat*math.Pi/180)) * 180 / math.Pi
	return math.Abs(a.Lat-b.Lat) <= deltaLon && math.Abs(a.Lon-b.Lon) <= deltaLon
}

// Defect 4: the similar-trip test is a true 200 m radius, whatever the direction.
func TestSimilarDefect4(t *testing.T) {
	tests := []struct {
		name             string
		meters, bearing  float64
		similar, oldSays bool
	}{
		{"150 m north-east", 150, 45, true, true},
		{"150 m east", 150, 90, true, false}, // the old box is only 138 m wide east-west
		{"150 m west", 150, 270, true, false},
		{"199.9 m south", 199.9, 180, true, false},       // its north-south half-height is 199.8 m
		{"210 m north-north-east", 210, 25, false, true}, // 190 m north, 89 m east: inside the old box
		{"230 m at 35°", 230, 35, false, true},           // 188 m north, 132 m east: inside the old box
		{"210 m north-east", 210, 45, false, false},
		{"210 m north", 210, 0, false, false},
		{"200.1 m east", 200.1, 90, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Both ends move by the same offset.
			bStart, bEnd := towards(cityHall, tt.meters, tt.bearing), towards(station, tt.meters, tt.bearing)
			if got := places.Similar(cityHall, station, bStart, bEnd); got != tt.similar {
				t.Errorf("Similar = %v, want %v", got, tt.similar)
			}
			if got := places.Similar(cityHall, station, bEnd, bStart); got != tt.similar {
				t.Errorf("Similar on the way back = %v, want %v", got, tt.similar)
			}
			old := oldAppBox(cityHall, bStart) && oldAppBox(station, bEnd)
			if old != tt.oldSays {
				t.Errorf("the old app's box says %v, the test expects it to say %v", old, tt.oldSays)
			}
		})
	}
}

func TestSimilarDirection(t *testing.T) {
	home, work := cityHall, station
	nearHome, nearWork := towards(home, 120, 300), towards(work, 150, 80)
	farAway := towards(work, 1500, 0)
	tests := []struct {
		name       string
		bStart, bE trip.Point
		want       bool
	}{
		{"same direction", nearHome, nearWork, true},
		{"opposite direction", nearWork, nearHome, true},
		{"start only", nearHome, farAway, false},
		{"end only", farAway, nearWork, false},
		{"start near the other's end only", nearWork, farAway, false},
		{"both ends near the start", nearHome, home, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := places.Similar(home, work, tt.bStart, tt.bE); got != tt.want {
				t.Errorf("Similar = %v, want %v", got, tt.want)
			}
			if got := places.Similar(tt.bStart, tt.bE, home, work); got != tt.want {
				t.Errorf("Similar, arguments swapped = %v, want %v", got, tt.want)
			}
		})
	}
	// A round trip from home is similar to another round trip from home, either way.
	if !places.Similar(home, nearHome, nearHome, home) {
		t.Error("two round trips from home are not similar")
	}
	nan := trip.Point{Lon: math.NaN(), Lat: math.NaN()}
	if places.Similar(nan, nan, nan, nan) {
		t.Error("NaN points are similar")
	}
}

func TestIsCommute(t *testing.T) {
	home := &places.Place{Lon: cityHall.Lon, Lat: cityHall.Lat, Label: "Home"}
	work := &places.Place{Lon: station.Lon, Lat: station.Lat}
	atHome, atWork := towards(cityHall, 250, 10), towards(station, 280, 200) // within 300 m
	elsewhere := towards(station, 2000, 90)
	tests := []struct {
		name       string
		start, end trip.Point
		home, work *places.Place
		want       bool
	}{
		{"home to work", atHome, atWork, home, work, true},
		{"work to home", atWork, atHome, home, work, true},
		{"home to home", atHome, cityHall, home, work, false},
		{"home to elsewhere", atHome, elsewhere, home, work, false},
		{"just beyond the radius", towards(cityHall, 310, 270), atWork, home, work, false},
		{"no home", atHome, atWork, nil, work, false},
		{"no work", atHome, atWork, home, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := places.IsCommute(tt.start, tt.end, tt.home, tt.work); got != tt.want {
				t.Errorf("IsCommute = %v, want %v", got, tt.want)
			}
		})
	}
	// Home and work 400 m apart: a point 100 m from home towards work is within 300 m of both, and
	// counts as home, the nearer; a round trip from home is no commute, a trip across is one.
	closeWork := &places.Place{Lon: towards(cityHall, 400, 90).Lon, Lat: towards(cityHall, 400, 90).Lat}
	if places.IsCommute(towards(cityHall, 30, 0), towards(cityHall, 100, 90), home, closeWork) {
		t.Error("a round trip from home counts as a commute when work is 400 m away")
	}
	if !places.IsCommute(towards(cityHall, 30, 0), towards(cityHall, 350, 90), home, closeWork) {
		t.Error("a trip from home to work 400 m away is not a commute")
	}
}

func TestPlaceJSON(t *testing.T) {
	p := places.Place{Lon: -1.1517, Lat: 46.1596, Label: "Mairie"}
	raw, err := json.Marshal(p)
	if err != nil || string(raw) != `{"lon":-1.1517,"lat":46.1596,"label":"Mairie"}` {
		t.Fatalf("Marshal = %s, %v", raw, err)
	}
	if pt := p.Point(); pt != cityHall {
		t.Errorf("Point = %v", pt)
	}
}

func TestPropagate(t *testing.T) {
	source := places.Ends{Start: cityHall, End: station}
	candidates := []places.Candidate{
		{ID: "c", Start: towards(cityHall, 50, 0), End: towards(station, 50, 0)},     // same way
		{ID: "a", Start: towards(station, 190, 270), End: towards(cityHall, 10, 90)}, // way back
		{ID: "b", Start: towards(cityHall, 50, 0), End: towards(station, 250, 0)},    // end too far
		{ID: "d", Start: station, End: towards(station, 100, 0)},                     // elsewhere
		{ID: "e", Start: cityHall, End: station},
	}
	if got, want := places.Propagate(source, candidates), []string{"c", "a", "e"}; !slices.Equal(got, want) {
		t.Errorf("Propagate = %v, want %v", got, want)
	}
	if got := places.Propagate(source, nil); len(got) != 0 {
		t.Errorf("Propagate with no candidates = %v", got)
	}
}

func TestParseLatLon(t *testing.T) {
	p, err := places.ParseLatLon(" 46.1591 , -1.1517 ")
	if err != nil || p.Lat != 46.1591 || p.Lon != -1.1517 {
		t.Fatalf("%+v, %v", p, err)
	}
	for _, bad := range []string{"", "46.1", "91,0", "0,181", "a,b", "1;2"} {
		if _, err := places.ParseLatLon(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
