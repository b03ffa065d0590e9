package trip_test

import (
	"bytes"
	"encoding/json"
	"go/build"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/coachco2/coachco2/pkg/sampledata"
	"github.com/coachco2/coachco2/pkg/trip"
)

// TestDomainImportsOnlyTheStandardLibrary: the domain knows no storage, network or wire library;
// the conversion from the server's formats lives in pkg/openpath.
func TestDomainImportsOnlyTheStandardLibrary(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if first, _, _ := strings.Cut(imp, "/"); strings.Contains(first, ".") {
			t.Errorf("pkg/trip imports %s: the domain imports only the standard library", imp)
		}
	}
}

// TestRouteReadsSamples checks Route against a generic decoding of every sample trip: each section's
// figures, its track byte for byte, the trip's ends and place names.
func TestRouteReadsSamples(t *testing.T) {
	sections := 0
	for _, raw := range sampledata.TimelineTrips(t) {
		doc := &trip.Doc{ID: "t", Series: []json.RawMessage{raw}}
		r, err := doc.Route()
		if err != nil {
			t.Fatal(err)
		}
		var fc map[string]any
		if err := json.Unmarshal(raw, &fc); err != nil {
			t.Fatal(err)
		}
		var want []map[string]any // the section features
		var startPlace, endPlace any
		for _, f := range fc["features"].([]any) {
			f := f.(map[string]any)
			if f["type"] == "FeatureCollection" {
				want = append(want, f["features"].([]any)[0].(map[string]any))
				continue
			}
			switch p := f["properties"].(map[string]any); p["feature_type"] {
			case "start_place":
				startPlace = p["display_name"]
			case "end_place":
				endPlace = p["display_name"]
			}
		}
		if len(r.Sections) != len(want) {
			t.Fatalf("%d sections, want %d", len(r.Sections), len(want))
		}
		for i, s := range r.Sections {
			p := want[i]["properties"].(map[string]any)
			got := []any{s.Index, s.ID, s.SensedMode, s.Distance, s.Duration, s.StartTS, s.EndTS, s.StartDate, s.EndDate}
			exp := []any{i, want[i]["id"], p["sensed_mode"], p["distance"], p["duration"], p["start_ts"], p["end_ts"], p["start_fmt_time"], p["end_fmt_time"]}
			if !reflect.DeepEqual(got, exp) {
				t.Errorf("section %d: %v, want %v", i, got, exp)
			}
			for name, track := range map[string]json.RawMessage{"coordinates": s.Track.Coordinates, "distances": s.Track.Distances, "timestamps": s.Track.Timestamps, "speeds": s.Track.Speeds} {
				value := p[name]
				if name == "coordinates" {
					value = want[i]["geometry"].(map[string]any)["coordinates"]
				}
				var decoded any
				if err := json.Unmarshal(track, &decoded); err != nil && value != nil || !reflect.DeepEqual(decoded, value) || track != nil && !bytes.Contains(raw, track) {
					t.Errorf("section %d: %s %.60s is not the series' own", i, name, track)
				}
			}
			if n := len(s.Track.Positions()); n != len(want[i]["geometry"].(map[string]any)["coordinates"].([]any)) {
				t.Errorf("section %d: %d positions read", i, n)
			}
		}
		sections += len(r.Sections)
		props := fc["properties"].(map[string]any)
		start := props["start_loc"].(map[string]any)["coordinates"].([]any)
		end := props["end_loc"].(map[string]any)["coordinates"].([]any)
		if !r.HasEnds || r.Start != (trip.Point{Lon: start[0].(float64), Lat: start[1].(float64)}) || r.End != (trip.Point{Lon: end[0].(float64), Lat: end[1].(float64)}) {
			t.Errorf("ends %v %v %v, want %v %v", r.HasEnds, r.Start, r.End, start, end)
		}
		if name, _ := startPlace.(string); r.StartPlace != name {
			t.Errorf("start place %q, want %q", r.StartPlace, name)
		}
		if name, _ := endPlace.(string); r.EndPlace != name {
			t.Errorf("end place %q, want %q", r.EndPlace, name)
		}
	}
	if sections != 114 { // the samples' README
		t.Fatalf("%d sections, want 114", sections)
	}
}

func TestRouteOfOddSeries(t *testing.T) {
	read := func(series string) (trip.Route, error) {
		return (&trip.Doc{ID: "t", Series: []json.RawMessage{json.RawMessage(series)}}).Route()
	}
	// A section FeatureCollection without its Feature still counts, as zeros; places and stops
	// are not sections; a trip without start_loc has no ends.
	r, err := read(`{"type": "FeatureCollection", "properties": {"start_loc": null}, "features": [
		{"type": "Feature", "properties": {"feature_type": "stop"}},
		{"type": "FeatureCollection", "features": []},
		{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"distance": 12}}]}]}`)
	if err != nil || len(r.Sections) != 2 || r.Sections[0].Distance != 0 || r.Sections[1].Index != 1 || r.Sections[1].Distance != 12 || r.HasEnds {
		t.Errorf("route %+v, %v", r, err)
	}
	if r.Sections[1].Track.Coordinates != nil || r.Sections[1].Track.Positions() != nil {
		t.Errorf("a section without geometry has track %+v", r.Sections[1].Track)
	}
	// A member of the wrong type is an error that names it, never a silent zero.
	_, err = read(`{"type": "FeatureCollection", "features": [{"type": "FeatureCollection", "features": [{"properties": {"distance": "12"}}]}]}`)
	if err == nil || !strings.Contains(err.Error(), "distance") || !strings.Contains(err.Error(), "trip t") {
		t.Errorf("a string distance: %v, want an error naming the trip and the member", err)
	}
	if _, err := (&trip.Doc{ID: "t"}).Route(); err == nil {
		t.Error("a trip without a series reads")
	}
}

func TestTrackPositions(t *testing.T) {
	track := trip.Track{Coordinates: json.RawMessage(`[[-1.15, 46.16], [-1.14, 46.15, 12.5], [-1.13, 46.14, 3, "x"],
		[1], [null, 2], ["1", 2], [1e999, 2], [181, 2], [1, -91], [1, 2, "alt"], 5, null, {"lon": 1}]`)}
	want := []trip.Position{
		{Point: trip.Point{Lon: -1.15, Lat: 46.16}},
		{Point: trip.Point{Lon: -1.14, Lat: 46.15}, Alt: 12.5, HasAlt: true},
		{Point: trip.Point{Lon: -1.13, Lat: 46.14}, Alt: 3, HasAlt: true},
	}
	if got := track.Positions(); !reflect.DeepEqual(got, want) {
		t.Errorf("positions %+v, want %+v", got, want)
	}
	for _, coords := range []string{``, `null`, `{}`, `"[[1, 2]]"`} {
		if got := (trip.Track{Coordinates: json.RawMessage(coords)}).Positions(); len(got) != 0 {
			t.Errorf("coordinates %q: positions %v", coords, got)
		}
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

// TestHugeLabelIsCapped: a 10 MB label value is cut to MaxTextBytes on a UTF-8 boundary.
func TestHugeLabelIsCapped(t *testing.T) {
	huge := "x" + strings.Repeat("é", 5<<20) // "x" puts the cut inside an "é"
	var l trip.Labels
	if _, err := l.Apply(trip.KeyPurposeConfirm, trip.Label{Value: huge, WriteTS: 1}); err != nil {
		t.Fatal(err)
	}
	if v := l.Purpose.Value; len(v) > trip.MaxTextBytes || !utf8.ValidString(v) || !strings.HasSuffix(v, "…") {
		t.Errorf("label value of %d bytes", len(v))
	}
	if got := trip.CapText("court"); got != "court" {
		t.Errorf("CapText cut a short text: %q", got)
	}
}

// TestEncodeIsMarshal: Encode writes what json.Marshal writes, the series copied as they are.
func TestEncodeIsMarshal(t *testing.T) {
	series := json.RawMessage(`{"type":"FeatureCollection","features":[],"properties":{"name":"a <b> & c"}}`)
	for _, d := range []trip.Doc{
		{},
		{ID: "t1", Rev: "1-a", StartDate: "x", Series: []json.RawMessage{series}},
		{ID: "t2", Labels: trip.Labels{Mode: &trip.Label{Value: "bike", WriteTS: 2}}, Manual: json.RawMessage(`{"m":1}`), Series: []json.RawMessage{series, nil}},
		{ID: "t3", Series: []json.RawMessage{}},
	} {
		got, err := d.Encode()
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(&d)
		if err != nil {
			t.Fatal(err)
		}
		// Marshal escapes the series' <, > and & for HTML; Encode keeps them: the same JSON.
		var g, w any
		if json.Unmarshal(got, &g) != nil || json.Unmarshal(want, &w) != nil || !reflect.DeepEqual(g, w) {
			t.Errorf("Encode:\n%s\njson.Marshal:\n%s", got, want)
		}
	}
}
