package openpath_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/sampledata"
	"github.com/coachco2/coachco2/pkg/trip"
)

var origin = openpath.Origin{Server: "openpath.example.org", Device: "phone-1", AccountID: "acc1", App: "openpath", AppVersion: "1.0.0"}
var now = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func TestFromTimelineSamples(t *testing.T) {
	trips := sampledata.TimelineTrips(t)
	ids := map[string]bool{}
	sections := 0
	for _, raw := range trips {
		doc, err := openpath.FromTimeline(raw, origin, now)
		if err != nil {
			t.Fatalf("trip %s: %v", gjson.GetBytes(raw, "id"), err)
		}
		props := gjson.GetBytes(raw, "properties")
		if doc.StartDate != props.Get("start_fmt_time").String() || doc.EndDate != props.Get("end_fmt_time").String() {
			t.Errorf("dates %s..%s, want the server's fmt times", doc.StartDate, doc.EndDate)
		}
		if string(doc.Series[0]) != string(raw) {
			t.Errorf("trip %s: the series is not the server's FeatureCollection byte for byte", doc.Server.TripID)
		}
		if doc.CaptureDevice != "phone-1" || doc.Source != "openpath.example.org" || doc.CozyMetadata.SourceAccount != "acc1" || doc.CozyMetadata.CreatedByApp != "openpath" {
			t.Errorf("metadata: %+v", doc)
		}
		if ids[doc.ID] {
			t.Errorf("two trips share id %s", doc.ID)
		}
		ids[doc.ID] = true
		for _, f := range gjson.GetBytes(raw, "features").Array() {
			if f.Get("type").String() == "FeatureCollection" {
				sections++
			}
		}
	}
	// The samples' README: 76 distinct trips, 114 sections.
	if len(ids) != 76 || sections != 114 {
		t.Fatalf("%d trips, %d sections; want 76 and 114", len(ids), sections)
	}
}

func TestDocIDIsStableAcrossReprocessing(t *testing.T) {
	raw := sampledata.TimelineTrips(t)[0]
	a, err := openpath.FromTimeline(raw, origin, now)
	if err != nil {
		t.Fatal(err)
	}
	// The server re-processed the trip after a pipeline reset: new trip id, same time span.
	reprocessed := strings.ReplaceAll(string(raw), gjson.GetBytes(raw, "id").String(), "0123456789abcdef01234567")
	b, err := openpath.FromTimeline([]byte(reprocessed), origin, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || a.Server.TripID == b.Server.TripID {
		t.Fatalf("ids %s and %s (trip ids %s, %s): a re-processed trip must keep its document", a.ID, b.ID, a.Server.TripID, b.Server.TripID)
	}
	other := origin
	other.Device = "phone-2"
	c, _ := openpath.FromTimeline(raw, other, now)
	if c.ID == a.ID {
		t.Fatal("two devices' trips share an id")
	}
}

func TestFromCompositeSamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sampledata.Dir(t), "composite", "*.json"))
	if len(files) == 0 {
		t.Fatal("no composite samples")
	}
	total := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, entry := range gjson.ParseBytes(raw).Array() {
			doc, err := openpath.FromComposite([]byte(entry.Raw), origin, now)
			if err != nil {
				t.Fatalf("%s: %v", entry.Get("_id.$oid"), err)
			}
			total++
			fc := gjson.ParseBytes(doc.Series[0])
			if fc.Get("type").String() != "FeatureCollection" || fc.Get("properties.start_fmt_time").String() != entry.Get("data.start_fmt_time").String() {
				t.Fatalf("converted header: %s", fc.Get("properties").Raw[:200])
			}
			wantSections := entry.Get("data.sections.#").Int()
			var gotSections int64
			for _, feat := range fc.Get("features").Array() {
				if feat.Get("type").String() != "FeatureCollection" {
					continue
				}
				gotSections++
				sec := feat.Get("features.0")
				mode := sec.Get("properties.sensed_mode").String()
				if !strings.HasPrefix(mode, "MotionTypes.") && !strings.HasPrefix(mode, "PredictedModeTypes.") {
					t.Errorf("section mode %q is not an enum name", mode)
				}
				n := sec.Get("geometry.coordinates.#").Int()
				if n < 2 || sec.Get("properties.distance").Float() <= 0 {
					t.Errorf("section with %d points, distance %v", n, sec.Get("properties.distance"))
				}
				if ts := sec.Get("properties.times.#").Int(); ts != 0 && ts != n {
					t.Errorf("%d times for %d points", ts, n)
				}
			}
			if gotSections != wantSections {
				t.Errorf("%d sections, want %d", gotSections, wantSections)
			}
		}
	}
	if total == 0 {
		t.Fatal("no composite trips")
	}
}

// TestHugeTextIsCapped: a 10 MB place name (or label) is cut to MaxTextBytes on a UTF-8 boundary;
// the rest of the trip is kept as it was, and a trip without a long text stays byte for byte.
func TestHugeTextIsCapped(t *testing.T) {
	huge := "x" + strings.Repeat("é", 5<<20) // 10 MB; "x" puts the cut inside an "é"
	checkCapped := func(t *testing.T, what string, series []byte, original gjson.Result, path string) {
		t.Helper()
		if len(series) > 2*trip.MaxTextBytes+len(original.Raw)/100 || !json.Valid(series) {
			t.Fatalf("%s: %d-byte series (valid JSON: %v)", what, len(series), json.Valid(series))
		}
		got := gjson.GetBytes(series, path).String()
		if len(got) > trip.MaxTextBytes || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || !strings.HasPrefix(huge, strings.TrimSuffix(got, "…")) {
			t.Errorf("%s: %s is %d bytes, valid UTF-8 %v, suffix %q", what, path, len(got), utf8.ValidString(got), got[max(0, len(got)-8):])
		}
		if len(got) < trip.MaxTextBytes-8 {
			t.Errorf("%s: cut to %d bytes, far below the cap", what, len(got))
		}
	}

	raw := sampledata.TimelineTrips(t)[0]
	var fc map[string]any
	if err := json.Unmarshal(raw, &fc); err != nil {
		t.Fatal(err)
	}
	fc["features"].([]any)[0].(map[string]any)["properties"].(map[string]any)["display_name"] = huge
	big, _ := json.Marshal(fc)
	doc, err := openpath.FromTimeline(big, origin, now)
	if err != nil {
		t.Fatal(err)
	}
	checkCapped(t, "timeline", doc.Series[0], gjson.ParseBytes(raw), "features.0.properties.display_name")
	// Everything else is untouched.
	series := gjson.ParseBytes(doc.Series[0])
	orig := gjson.ParseBytes(raw)
	for _, path := range []string{"properties", "features.1", "features.2", "id"} {
		var a, b any
		_ = json.Unmarshal([]byte(series.Get(path).Raw), &a)
		_ = json.Unmarshal([]byte(orig.Get(path).Raw), &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("timeline: %s changed", path)
		}
	}
	if again, _ := openpath.FromTimeline(big, origin, now); again.Server.Hash != doc.Server.Hash {
		t.Error("the same trip converted twice gives two hashes")
	}

	// A composite trip whose confirmed place has the huge name.
	files, _ := filepath.Glob(filepath.Join(sampledata.Dir(t), "composite", "*.json"))
	if len(files) == 0 {
		t.Fatal("no composite samples")
	}
	all, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(gjson.GetBytes(all, "0").Raw), &entry); err != nil {
		t.Fatal(err)
	}
	data := entry["data"].(map[string]any)
	place, _ := data["start_confirmed_place"].(map[string]any)
	if place == nil {
		place = map[string]any{"data": map[string]any{}}
		data["start_confirmed_place"] = place
	}
	place["data"].(map[string]any)["display_name"] = huge
	bigEntry, _ := json.Marshal(entry)
	cdoc, err := openpath.FromComposite(bigEntry, origin, now)
	if err != nil {
		t.Fatal(err)
	}
	checkCapped(t, "composite", cdoc.Series[0], gjson.Parse(gjson.GetBytes(all, "0").Raw), "features.0.properties.display_name")
	if cdoc.Server.TripID == "" || cdoc.Server.TripID != gjson.GetBytes(cdoc.Series[0], "id").String() {
		t.Errorf("composite trip id %q", cdoc.Server.TripID)
	}
}

func TestInvalidTrips(t *testing.T) {
	for name, in := range map[string]string{
		"not JSON":        `{"type": "FeatureCollection"`,
		"not a trip":      `{"type": "Feature", "properties": {}}`,
		"no features":     `{"type": "FeatureCollection", "properties": {"start_ts": 1, "end_ts": 2, "start_fmt_time": "2016-01-01T00:00:00-08:00", "end_fmt_time": "2016-01-01T00:00:01-08:00"}}`,
		"string ts":       `{"type": "FeatureCollection", "features": [], "properties": {"start_ts": "1", "end_ts": 2}}`,
		"ends first":      `{"type": "FeatureCollection", "features": [], "properties": {"start_ts": 5, "end_ts": 2, "start_fmt_time": "2016-01-01T00:00:00-08:00", "end_fmt_time": "2016-01-01T00:00:01-08:00"}}`,
		"bad time":        `{"type": "FeatureCollection", "features": [], "properties": {"start_ts": 1, "end_ts": 2, "start_fmt_time": "yesterday", "end_fmt_time": "2016-01-01T00:00:01-08:00"}}`,
		"place as a trip": `{"type": "FeatureCollection", "features": [], "properties": {"feature_type": "place"}}`,
		// The app could not read the section's distance: refused here, not stored to fail later.
		"string distance": `{"type": "FeatureCollection", "features": [{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"distance": "12"}}]}], "properties": {"start_ts": 1, "end_ts": 2, "start_fmt_time": "2016-01-01T00:00:00-08:00", "end_fmt_time": "2016-01-01T00:00:01-08:00"}}`,
	} {
		if _, err := openpath.FromTimeline([]byte(in), origin, now); !errors.Is(err, openpath.ErrInvalidTrip) {
			t.Errorf("%s: %v, want ErrInvalidTrip", name, err)
		}
	}
	for name, in := range map[string]string{
		"no times":        `{"_id": {"$oid": "x"}, "data": {"sections": []}}`,
		"string distance": `{"_id": {"$oid": "x"}, "data": {"start_ts": 1, "end_ts": 2, "start_fmt_time": "2016-01-01T00:00:00-08:00", "end_fmt_time": "2016-01-01T00:00:01-08:00", "sections": [{"data": {"distance": "12", "start_ts": 1, "end_ts": 2}}]}}`,
	} {
		if _, err := openpath.FromComposite([]byte(in), origin, now); !errors.Is(err, openpath.ErrInvalidTrip) {
			t.Errorf("composite, %s: %v, want ErrInvalidTrip", name, err)
		}
	}
}

// FuzzConvert: no input panics the conversions; what they accept has a valid document whose route
// reads. Seed corpus: testdata/fuzz/FuzzConvert.
func FuzzConvert(f *testing.F) {
	f.Add([]byte(`{"type": "FeatureCollection", "id": "a", "features": [], "properties": {"start_ts": 1, "end_ts": 2, "start_fmt_time": "2016-01-01T00:00:00-08:00", "end_fmt_time": "2016-01-01T00:00:01-08:00"}}`))
	f.Add([]byte(`{"_id": {"$oid": "x"}, "data": {"start_ts": 1, "end_ts": 2, "start_fmt_time": "2016-01-01T00:00:00-08:00", "end_fmt_time": "2016-01-01T00:00:01-08:00", "sections": [{"metadata": {"key": "analysis/inferred_section"}, "data": {"sensed_mode": 8, "start_ts": 1, "end_ts": 2}}], "locations": [{"data": {"ts": 1.5, "loc": {"coordinates": [1, 2]}}}]}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, convert := range []func([]byte, openpath.Origin, time.Time) (*trip.Doc, error){openpath.FromTimeline, openpath.FromComposite} {
			doc, err := convert(in, origin, now)
			if err != nil {
				if !errors.Is(err, openpath.ErrInvalidTrip) {
					t.Fatalf("error %v does not wrap ErrInvalidTrip", err)
				}
				continue
			}
			if _, err := json.Marshal(doc); err != nil {
				t.Fatalf("accepted input gives a document that does not marshal: %v", err)
			}
			if id := gjson.GetBytes(doc.Series[0], "id").String(); doc.Server.TripID != id {
				t.Fatalf("trip id %q, its FeatureCollection's %q", doc.Server.TripID, id)
			}
			if r, err := doc.Route(); err != nil {
				t.Fatalf("accepted input gives a route that does not read: %v", err)
			} else {
				for _, s := range r.Sections {
					_ = s.Track.Positions()
				}
			}
		}
	})
}

// TestCompositeTripIDAsWritten: a composite trip's id is the one its FeatureCollection holds, as
// a re-sync reads it back from the vault: an id with bytes that are not UTF-8 has them as U+FFFD,
// and an id over trip.MaxTextBytes is cut.
func TestCompositeTripIDAsWritten(t *testing.T) {
	long := strings.Repeat("x", trip.MaxTextBytes+10)
	for _, id := range []string{"plain-id", "a\xffb<&>", long} {
		entry, _ := json.Marshal(map[string]any{"_id": "x", "data": map[string]any{
			"confirmed_trip": id, "start_ts": 1.7e9, "end_ts": 1.7e9 + 60,
			"start_fmt_time": "2023-11-14T22:13:20+00:00", "end_fmt_time": "2023-11-14T22:14:20+00:00",
			"start_loc": map[string]any{"type": "Point", "coordinates": []float64{1, 2}},
			"end_loc":   map[string]any{"type": "Point", "coordinates": []float64{1.01, 2}},
		}})
		if id == "a\xffb<&>" { // json.Marshal wrote U+FFFD: put the bad byte back
			entry = []byte(strings.Replace(string(entry), `a\ufffdb`, "a\xffb", 1))
		}
		doc, err := openpath.FromComposite(entry, origin, now)
		if err != nil {
			t.Fatalf("%.20q: %v", id, err)
		}
		if want := gjson.GetBytes(doc.Series[0], "id").String(); doc.Server.TripID != want || !utf8.ValidString(doc.Server.TripID) {
			t.Errorf("%.20q: trip id %.20q, the FeatureCollection's %.20q", id, doc.Server.TripID, want)
		}
	}
}
