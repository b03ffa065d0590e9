package trip_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/sampledata"
	"github.com/coachco2/coachco2/pkg/trip"
)

var origin = trip.Origin{Server: "openpath.example.org", Device: "phone-1", AccountID: "acc1", App: "openpath", AppVersion: "1.0.0"}
var now = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// timelineTrips reads every trip FeatureCollection of the shared timeline samples.
func timelineTrips(t *testing.T) []json.RawMessage {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(sampledata.Dir(t), "timeline", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no timeline samples: %v", err)
	}
	var trips []json.RawMessage
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range gjson.GetBytes(raw, "data").Array() {
			trips = append(trips, json.RawMessage(tr.Raw))
		}
	}
	return trips
}

func TestFromTimelineSamples(t *testing.T) {
	trips := timelineTrips(t)
	ids := map[string]bool{}
	sections := 0
	for _, raw := range trips {
		doc, err := trip.FromTimeline(raw, origin, now)
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
	raw := timelineTrips(t)[0]
	a, err := trip.FromTimeline(raw, origin, now)
	if err != nil {
		t.Fatal(err)
	}
	// The server re-processed the trip after a pipeline reset: new trip id, same time span.
	reprocessed := strings.ReplaceAll(string(raw), gjson.GetBytes(raw, "id").String(), "0123456789abcdef01234567")
	b, err := trip.FromTimeline([]byte(reprocessed), origin, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || a.Server.TripID == b.Server.TripID {
		t.Fatalf("ids %s and %s (trip ids %s, %s): a re-processed trip must keep its document", a.ID, b.ID, a.Server.TripID, b.Server.TripID)
	}
	other := origin
	other.Device = "phone-2"
	c, _ := trip.FromTimeline(raw, other, now)
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
			doc, err := trip.FromComposite([]byte(entry.Raw), origin, now)
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

func TestInvalidTrips(t *testing.T) {
	for name, in := range map[string]string{
		"not JSON":        `{"type": "FeatureCollection"`,
		"not a trip":      `{"type": "Feature", "properties": {}}`,
		"no features":     `{"type": "FeatureCollection", "properties": {"start_ts": 1, "end_ts": 2, "start_fmt_time": "2016-01-01T00:00:00-08:00", "end_fmt_time": "2016-01-01T00:00:01-08:00"}}`,
		"string ts":       `{"type": "FeatureCollection", "features": [], "properties": {"start_ts": "1", "end_ts": 2}}`,
		"ends first":      `{"type": "FeatureCollection", "features": [], "properties": {"start_ts": 5, "end_ts": 2, "start_fmt_time": "2016-01-01T00:00:00-08:00", "end_fmt_time": "2016-01-01T00:00:01-08:00"}}`,
		"bad time":        `{"type": "FeatureCollection", "features": [], "properties": {"start_ts": 1, "end_ts": 2, "start_fmt_time": "yesterday", "end_fmt_time": "2016-01-01T00:00:01-08:00"}}`,
		"place as a trip": `{"type": "FeatureCollection", "features": [], "properties": {"feature_type": "place"}}`,
	} {
		if _, err := trip.FromTimeline([]byte(in), origin, now); !errors.Is(err, trip.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := trip.FromComposite([]byte(`{"_id": {"$oid": "x"}, "data": {"sections": []}}`), origin, now); !errors.Is(err, trip.ErrInvalid) {
		t.Errorf("composite without times: %v, want ErrInvalid", err)
	}
}

func TestLabelsLatestWins(t *testing.T) {
	var l trip.Labels
	if changed, _ := l.Apply(trip.KeyModeConfirm, trip.Label{Value: "bike", WriteTS: 10}); !changed {
		t.Fatal("first label not applied")
	}
	if changed, _ := l.Apply(trip.KeyModeConfirm, trip.Label{Value: "walk", WriteTS: 5}); changed || l.Mode.Value != "bike" {
		t.Fatalf("an older label replaced a newer one: %+v", l.Mode)
	}
	if changed, _ := l.Apply(trip.KeyModeConfirm, trip.Label{Value: "bike", WriteTS: 10}); changed {
		t.Fatal("the same label twice is a change")
	}
	if changed, _ := l.Apply(trip.KeyModeConfirm, trip.Label{Value: "e-bike", WriteTS: 11}); !changed || l.Mode.Value != "e-bike" {
		t.Fatalf("a newer label was not applied: %+v", l.Mode)
	}
	if _, err := l.Apply("manual/unknown", trip.Label{}); err == nil {
		t.Fatal("unknown key accepted")
	}
}

// FuzzConvert: no input panics the conversions; what they accept has a valid document.
func FuzzConvert(f *testing.F) {
	f.Add([]byte(`{"type": "FeatureCollection", "id": "a", "features": [], "properties": {"start_ts": 1, "end_ts": 2, "start_fmt_time": "2016-01-01T00:00:00-08:00", "end_fmt_time": "2016-01-01T00:00:01-08:00"}}`))
	f.Add([]byte(`{"_id": {"$oid": "x"}, "data": {"start_ts": 1, "end_ts": 2, "start_fmt_time": "2016-01-01T00:00:00-08:00", "end_fmt_time": "2016-01-01T00:00:01-08:00", "sections": [{"metadata": {"key": "analysis/inferred_section"}, "data": {"sensed_mode": 8, "start_ts": 1, "end_ts": 2}}], "locations": [{"data": {"ts": 1.5, "loc": {"coordinates": [1, 2]}}}]}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, convert := range []func([]byte, trip.Origin, time.Time) (*trip.Doc, error){trip.FromTimeline, trip.FromComposite} {
			doc, err := convert(in, origin, now)
			if err != nil {
				if !errors.Is(err, trip.ErrInvalid) {
					t.Fatalf("error %v does not wrap ErrInvalid", err)
				}
				continue
			}
			if _, err := json.Marshal(doc); err != nil {
				t.Fatalf("accepted input gives a document that does not marshal: %v", err)
			}
		}
	})
}
