package tripgen_test

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/tripgen"
)

func mustNew(t testing.TB, cfg tripgen.Config) *tripgen.Generator {
	t.Helper()
	g, err := tripgen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestParseSpec(t *testing.T) {
	cfg, err := tripgen.ParseSpec("users=3,days=90,seed=7")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Users != 3 || cfg.Days != 90 || cfg.Seed != 7 || !cfg.Start.IsZero() {
		t.Errorf("ParseSpec = %+v", cfg)
	}
	cfg, err = tripgen.ParseSpec(" users=2 , start=2024-10-21,days=10")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Start != (openpath.Date{Year: 2024, Month: 10, Day: 21}) || cfg.Seed != 1 {
		t.Errorf("ParseSpec = %+v", cfg)
	}
	if back, err := tripgen.ParseSpec(cfg.String()); err != nil || back != cfg {
		t.Errorf("ParseSpec(String()) = %+v, %v; want %+v", back, err, cfg)
	}
	for _, bad := range []string{"users=0", "users=x", "days=100000", "speed=3", "users", "start=2025-02-30"} {
		if _, err := tripgen.ParseSpec(bad); err == nil {
			t.Errorf("ParseSpec(%q) succeeded", bad)
		}
	}
}

func TestHaversine(t *testing.T) {
	if d := tripgen.Haversine(0, 0, 0, 1); math.Abs(d-111195) > 1 {
		t.Errorf("one degree of latitude = %v m, want 111195", d)
	}
	// La Rochelle's Vieux-Port to Paris Notre-Dame: about 397 km as the crow flies.
	if d := tripgen.Haversine(-1.1530, 46.1580, 2.3499, 48.8530); math.Abs(d-397e3) > 5e3 {
		t.Errorf("La Rochelle-Paris = %.0f m, want about 397 km", d)
	}
}

func render(g *tripgen.Generator, user, day int) []byte {
	var out []byte
	for _, tr := range g.Day(user, day) {
		out = tr.AppendGeoJSON(out)
		for _, l := range tr.Labels {
			out = l.AppendEntryJSON(out, g.Users()[user].UUID, g.Location())
		}
	}
	return out
}

func TestDeterministic(t *testing.T) {
	cfg := tripgen.Config{Users: 4, Days: 40, Seed: 42}
	a, b := mustNew(t, cfg), mustNew(t, cfg)
	// b builds days in another order, and some twice: each day depends only on (seed, user, day).
	for d := cfg.Days - 1; d >= 0; d -= 3 {
		render(b, 2, d)
	}
	for u := range cfg.Users {
		for d := range cfg.Days {
			if !bytes.Equal(render(a, u, d), render(b, u, d)) {
				t.Fatalf("user %d day %d differs between two generators with the same config", u, d)
			}
		}
	}
	if pa, pb := a.Users()[1], b.Users()[1]; pa.Home != pb.Home || pa.Work != pb.Work || pa.Commute != pb.Commute || pa.UUID != pb.UUID {
		t.Errorf("profiles differ: %+v vs %+v", pa, pb)
	}
	c := mustNew(t, tripgen.Config{Users: 4, Days: 40, Seed: 43})
	same := 0
	for d := range cfg.Days {
		if bytes.Equal(render(a, 0, d), render(c, 0, d)) {
			same++
		}
	}
	if same > 2 {
		t.Errorf("%d of %d days identical with another seed", same, cfg.Days)
	}
	if tripgen.DefaultStart() != a.Config().Start {
		t.Errorf("Start = %v, want the default %v", a.Config().Start, tripgen.DefaultStart())
	}
}

// speedRange is the plausible average speed of a section per mode, m/s, and the top speed of one
// 30 s step.
var speedRange = map[tripgen.Mode][3]float64{
	tripgen.Walking:   {0.7, 2.2, 4},
	tripgen.Bicycling: {2.5, 8, 12},
	tripgen.Bus:       {2.5, 14, 22},
	tripgen.Car:       {4, 36, 45},
	tripgen.Train:     {12, 85, 90},
	tripgen.AirOrHSR:  {50, 280, 290},
}

func TestPlausibility(t *testing.T) {
	g := mustNew(t, tripgen.Config{Users: 9, Days: 150, Seed: 3})
	modes := map[tripgen.Mode]int{}
	var trips, labels, relabelled int
	for _, p := range g.Users() {
		if d := tripgen.Haversine(p.Home.Lon, p.Home.Lat, p.Work.Lon, p.Work.Lat); d < 500 || d > 30e3 {
			t.Errorf("%s commutes %.0f m", p.Token, d)
		}
		prevEnd := 0.0
		g.Trips(p.Index, func(day int, tr *tripgen.Trip) bool {
			trips++
			if tr.StartTS() < prevEnd {
				t.Errorf("%s day %d: trip %s starts before the previous one ended", p.Token, day, tr.ID)
			}
			prevEnd = tr.EndTS()
			checkTrip(t, tr)
			for _, s := range tr.Sections {
				modes[s.Mode]++
			}
			switch tr.Sections[0].Mode {
			case tripgen.Bus:
				t.Errorf("trip %s starts with a bus section, not a walk to the stop", tr.ID)
			}
			for i, s := range tr.Sections {
				if s.Mode == tripgen.Bus && (i == 0 || i == len(tr.Sections)-1 || tr.Sections[i-1].Mode != tripgen.Walking || tr.Sections[i+1].Mode != tripgen.Walking) {
					t.Errorf("trip %s: a bus section without walks around it", tr.ID)
				}
				if s.Mode == tripgen.Train && (i == len(tr.Sections)-1 || i == 0) {
					t.Errorf("trip %s: a train section without access and egress", tr.ID)
				}
			}
			keys := map[string]int{}
			for _, l := range tr.Labels {
				labels++
				keys[l.Key]++
				if math.Abs(l.StartTS-tr.StartTS()) > 60 || math.Abs(l.EndTS-tr.EndTS()) > 90 || l.WriteTS < tr.EndTS() {
					t.Errorf("trip %s: label %+v does not match the trip %v-%v", tr.ID, l, tr.StartTS(), tr.EndTS())
				}
			}
			if keys[openpath.KeyModeConfirm] > 1 {
				relabelled++
			}
			return true
		})
	}
	// A year of 9 users is about 10,000 trips; 150 days about 4,000.
	if trips < 2500 {
		t.Errorf("only %d trips for 9 users over 150 days", trips)
	}
	for m := range speedRange {
		if modes[m] == 0 {
			t.Errorf("no %v section in %d trips (%v)", m, trips, modes)
		}
	}
	if labels == 0 || relabelled == 0 {
		t.Errorf("labels: %d, corrected later: %d", labels, relabelled)
	}
	t.Logf("%d trips, sections per mode %v, %d labels, %d trips relabelled", trips, modes, labels, relabelled)
}

func checkTrip(t *testing.T, tr *tripgen.Trip) {
	t.Helper()
	if len(tr.Sections) == 0 || len(tr.Stops) != len(tr.Sections)-1 {
		t.Fatalf("trip %s: %d sections, %d stops", tr.ID, len(tr.Sections), len(tr.Stops))
	}
	prev := math.Inf(-1)
	for i, s := range tr.Sections {
		if len(s.Points) < 2 {
			t.Errorf("trip %s section %d: %d points", tr.ID, i, len(s.Points))
			continue
		}
		var sum float64
		for j, p := range s.Points {
			if p.TS <= prev && j > 0 || p.TS < prev {
				t.Errorf("trip %s section %d point %d: time %v not after %v", tr.ID, i, j, p.TS, prev)
			}
			prev = p.TS
			if p.Lat < 41 || p.Lat > 51.5 || p.Lon < -5.5 || p.Lon > 9 {
				t.Errorf("trip %s: point %v,%v outside France and Benelux", tr.ID, p.Lon, p.Lat)
			}
			if j > 0 {
				q := s.Points[j-1]
				if d := tripgen.Haversine(q.Lon, q.Lat, p.Lon, p.Lat); math.Abs(d-p.Distance) > 1e-6*math.Max(1, d) {
					t.Errorf("trip %s: point distance %v, haversine %v", tr.ID, p.Distance, d)
				}
				if dt := p.TS - q.TS; dt > 30.0001 || math.Abs(p.Speed*dt-p.Distance) > 1e-6*math.Max(1, p.Distance) {
					t.Errorf("trip %s: step of %v s, speed %v, distance %v", tr.ID, dt, p.Speed, p.Distance)
				}
			}
			sum += p.Distance
		}
		if math.Abs(sum-s.Distance) > 1e-6*math.Max(1, sum) {
			t.Errorf("trip %s section %d: distance %v, points sum to %v", tr.ID, i, s.Distance, sum)
		}
		r := speedRange[s.Mode]
		if avg := s.Distance / s.Duration(); avg < r[0] || avg > r[1] {
			t.Errorf("trip %s: %v section averages %.2f m/s over %.0f m, want %v to %v", tr.ID, s.Mode, avg, s.Distance, r[0], r[1])
		}
		for _, p := range s.Points {
			if p.Speed > r[2] {
				t.Errorf("trip %s: %v at %.1f m/s", tr.ID, s.Mode, p.Speed)
				break
			}
		}
	}
	if d := tr.Distance(); d < 100 || d > 1.2e6 {
		t.Errorf("trip %s: %.0f m", tr.ID, d)
	}
}

var hexID = regexp.MustCompile(`^[0-9a-f]{24}$`)

// TestGeoJSON checks a rendered trip against what getTrips returns and against its own times: local
// dates and offsets must agree with Europe/Paris on both sides of the DST change.
func TestGeoJSON(t *testing.T) {
	g := mustNew(t, tripgen.Config{Users: 3, Days: 30, Seed: 11})
	paris, _ := time.LoadLocation("Europe/Paris")
	offsets := map[string]bool{}
	for u := range 3 {
		g.Trips(u, func(day int, tr *tripgen.Trip) bool {
			raw := tr.AppendGeoJSON(nil)
			if !json.Valid(raw) {
				t.Fatalf("trip %s: invalid JSON", tr.ID)
			}
			fc := gjson.ParseBytes(raw)
			if fc.Get("type").String() != "FeatureCollection" || fc.Get("id").String() != tr.ID || !hexID.MatchString(tr.ID) {
				t.Fatalf("trip %s: type %s id %s", tr.ID, fc.Get("type"), fc.Get("id"))
			}
			props := fc.Get("properties")
			for _, end := range []string{"start", "end"} {
				ts := props.Get(end + "_ts").Float()
				want := openpath.TimeOf(ts).In(paris)
				fmtTime := props.Get(end + "_fmt_time").String()
				if fmtTime != openpath.FormatTime(want) {
					t.Errorf("trip %s: %s_fmt_time %s, want %s", tr.ID, end, fmtTime, openpath.FormatTime(want))
				}
				parsed, err := time.Parse(time.RFC3339Nano, fmtTime)
				if err != nil || math.Abs(float64(parsed.UnixMicro())/1e6-ts) > 1e-6 {
					t.Errorf("trip %s: %s_fmt_time %s is not %s_ts %v (%v)", tr.ID, end, fmtTime, end, ts, err)
				}
				_, off := want.Zone()
				offsets[fmtTime[len(fmtTime)-6:]] = true
				if _, poff := parsed.Zone(); poff != off {
					t.Errorf("trip %s: offset %d, Europe/Paris has %d at that time", tr.ID, poff, off)
				}
				ld := props.Get(end + "_local_dt")
				if int(ld.Get("hour").Int()) != want.Hour() || int(ld.Get("day").Int()) != want.Day() ||
					ld.Get("timezone").String() != "Europe/Paris" || int(ld.Get("weekday").Int()) != (int(want.Weekday())+6)%7 {
					t.Errorf("trip %s: %s_local_dt %s, want %v", tr.ID, end, ld.Raw, want)
				}
			}
			feats := fc.Get("features").Array()
			if feats[0].Get("properties.feature_type").String() != "start_place" || feats[1].Get("properties.feature_type").String() != "end_place" {
				t.Errorf("trip %s: features start with %s, %s", tr.ID, feats[0].Get("properties.feature_type"), feats[1].Get("properties.feature_type"))
			}
			var sections, stops int
			for _, f := range feats[2:] {
				switch {
				case f.Get("properties.feature_type").String() == "stop":
					stops++
				case f.Get("type").String() == "FeatureCollection":
					sections++
					s := f.Get("features.0")
					p := s.Get("properties")
					n := len(s.Get("geometry.coordinates").Array())
					for _, arr := range []string{"times", "timestamps", "speeds", "distances"} {
						if got := len(p.Get(arr).Array()); got != n || n < 2 {
							t.Errorf("trip %s: %d %s for %d points", tr.ID, got, arr, n)
						}
					}
					if ms, ts := p.Get("timestamps.0").Int(), p.Get("times.0").Float(); ms != int64(math.Floor(ts*1000)) {
						t.Errorf("trip %s: timestamp %d for time %v", tr.ID, ms, ts)
					}
					if p.Get("trip_id.$oid").String() != tr.ID || !regexp.MustCompile(`^PredictedModeTypes\.[A-Z_]+$`).MatchString(p.Get("sensed_mode").String()) {
						t.Errorf("trip %s: section trip_id %s sensed_mode %s", tr.ID, p.Get("trip_id"), p.Get("sensed_mode"))
					}
				}
			}
			if sections != len(tr.Sections) || stops != len(tr.Stops) {
				t.Errorf("trip %s: %d section and %d stop features, want %d and %d", tr.ID, sections, stops, len(tr.Sections), len(tr.Stops))
			}
			return true
		})
	}
	if !offsets["+01:00"] || !offsets["+02:00"] {
		t.Errorf("30 days from %v should cross the DST change: offsets seen %v", g.Config().Start, offsets)
	}
}

// TestTripsAfterMidnight checks that Saturday nights out come home after local midnight, on a date
// that differs from the UTC date: the trips a UTC-day getTrips loses.
func TestTripsAfterMidnight(t *testing.T) {
	g := mustNew(t, tripgen.Config{Users: 6, Days: 56, Seed: 5})
	found := 0
	for u := range 6 {
		g.Trips(u, func(day int, tr *tripgen.Trip) bool {
			start := tr.Start()
			if start.Hour() == 0 {
				found++
				if openpath.DateOf(start) == openpath.DateOf(start.UTC()) {
					t.Errorf("trip %s starts at %v: local and UTC dates should differ in Europe/Paris", tr.ID, start)
				}
				if openpath.DateOf(start) != g.Date(day+1) {
					t.Errorf("trip %s of day %d starts on %v", tr.ID, day, openpath.DateOf(start))
				}
			}
			return true
		})
	}
	if found == 0 {
		t.Error("no trip starts between local midnight and 1am")
	}
}

func TestDayOutOfRange(t *testing.T) {
	g := mustNew(t, tripgen.Config{Users: 1, Days: 2, Seed: 1})
	for _, c := range [][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 2}} {
		if trips := g.Day(c[0], c[1]); trips != nil {
			t.Errorf("Day(%d, %d) = %d trips", c[0], c[1], len(trips))
		}
	}
}

// BenchmarkGenerate measures building and rendering a year of one user's trips.
func BenchmarkGenerate(b *testing.B) {
	g := mustNew(b, tripgen.Config{Users: 1, Days: 365, Seed: 1})
	var buf []byte
	trips, size := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		g.Trips(0, func(_ int, tr *tripgen.Trip) bool {
			buf = tr.AppendGeoJSON(buf[:0])
			trips++
			size += len(buf)
			return true
		})
	}
	b.ReportMetric(float64(trips)/b.Elapsed().Seconds(), "trips/s")
	b.ReportMetric(float64(size)/float64(trips), "bytes/trip")
}
