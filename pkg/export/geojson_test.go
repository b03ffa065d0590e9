package export_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/co2"
	"github.com/coachco2/coachco2/pkg/export"
	"github.com/coachco2/coachco2/pkg/figures"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/sampledata"
	"github.com/coachco2/coachco2/pkg/settings"
	"github.com/coachco2/coachco2/pkg/trip"
)

// featureCollection is the RFC 7946 shape the export must decode into, strictly.
type featureCollection struct {
	Type     string    `json:"type"`
	Features []feature `json:"features"`
}

type feature struct {
	Type     string `json:"type"`
	Geometry *struct {
		Type        string      `json:"type"`
		Coordinates [][]float64 `json:"coordinates"`
	} `json:"geometry"`
	Properties export.GeoJSONProperties `json:"properties"`
}

func decodeStrict(t *testing.T, b []byte) featureCollection {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("the export is not valid JSON:\n%s", b)
	}
	var fc featureCollection
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		t.Fatalf("the export does not decode as a FeatureCollection: %v", err)
	}
	if fc.Type != "FeatureCollection" || fc.Features == nil {
		t.Fatalf("type %q, features %v: want a FeatureCollection with a features array", fc.Type, fc.Features)
	}
	return fc
}

func TestGeoJSONEmptyIsAValidEmptyCollection(t *testing.T) {
	var buf bytes.Buffer
	w := export.NewGeoJSONWriter(&buf)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fc := decodeStrict(t, buf.Bytes())
	if len(fc.Features) != 0 {
		t.Fatalf("features %v, want none", fc.Features)
	}
	if got := strings.TrimSpace(buf.String()); got != `{"type":"FeatureCollection","features":[]}` {
		t.Errorf("empty export %s", got)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Write(&trip.Doc{}, trip.Aggregation{}); err == nil {
		t.Error("Write after Close succeeded")
	}
}

// TestGeoJSONRoundTripsSamples exports every trip of the shared timeline samples, with the figures
// the app computes, and reads the export back: one Feature per section, coordinates exactly the
// series', properties those of the aggregation.
func TestGeoJSONRoundTripsSamples(t *testing.T) {
	set, err := co2.Lookup("coachco2-ademe")
	if err != nil {
		t.Fatal(err)
	}
	in := figures.NewInputs(set, settings.Defaults())
	type exported struct {
		doc *trip.Doc
		agg trip.Aggregation
	}
	var trips []exported
	var buf bytes.Buffer
	w := export.NewGeoJSONWriter(&buf)
	seen := map[string]bool{}
	for _, raw := range sampledata.TimelineTrips(t) {
		doc, err := openpath.FromTimeline(raw, openpath.Origin{Device: "phone-1"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if seen[doc.ID] {
			continue
		}
		seen[doc.ID] = true
		a, err := figures.Compute(doc, in)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(doc, a); err != nil {
			t.Fatal(err)
		}
		trips = append(trips, exported{doc, a})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fc := decodeStrict(t, buf.Bytes())

	i, lines := 0, 0
	for _, tr := range trips {
		sections, err := tr.doc.Sections()
		if err != nil {
			t.Fatal(err)
		}
		for j, s := range tr.agg.Sections {
			if i >= len(fc.Features) {
				t.Fatalf("%d features, want more", len(fc.Features))
			}
			f := fc.Features[i]
			i++
			p := f.Properties
			want := export.GeoJSONProperties{TripID: tr.doc.ID, TripStart: tr.doc.StartDate, TripEnd: tr.doc.EndDate,
				StartPlace: tr.agg.StartPlaceDisplayName, EndPlace: tr.agg.EndPlaceDisplayName, TripTitle: tr.agg.ShownTitle(), Purpose: string(tr.agg.Purpose),
				SectionIndex: j, Mode: string(s.Mode), DistanceM: s.Distance, DurationS: s.Duration, CO2Kg: s.CO2,
				StartDate: s.StartDate, EndDate: s.EndDate}
			if f.Type != "Feature" || p != want {
				t.Fatalf("feature %d: %s %+v, want %+v", i-1, f.Type, p, want)
			}
			var coords [][]float64
			if err := json.Unmarshal(sections[j].Track.Coordinates, &coords); err != nil {
				t.Fatalf("trip %s section %d: the series' coordinates: %v", tr.doc.ID, j, err)
			}
			if len(coords) < 2 {
				if f.Geometry != nil {
					t.Errorf("trip %s section %d: %d positions in the series, geometry %+v; want null", tr.doc.ID, j, len(coords), f.Geometry)
				}
				continue
			}
			lines++
			if f.Geometry == nil || f.Geometry.Type != "LineString" || len(f.Geometry.Coordinates) != len(coords) {
				t.Fatalf("trip %s section %d: geometry %+v, want a LineString of %d positions", tr.doc.ID, j, f.Geometry, len(coords))
			}
			for k, pos := range coords {
				got := f.Geometry.Coordinates[k]
				if len(got) < 2 || got[0] != pos[0] || got[1] != pos[1] {
					t.Fatalf("trip %s section %d position %d: %v, want %v (lon, lat)", tr.doc.ID, j, k, got, pos)
				}
				if got[0] < -180 || got[0] > 180 || got[1] < -90 || got[1] > 90 {
					t.Fatalf("position %v out of range", got)
				}
			}
		}
	}
	if i != len(fc.Features) {
		t.Fatalf("%d features, want %d (one per section)", len(fc.Features), i)
	}
	// The samples' README: 76 distinct trips, 114 sections.
	if len(trips) != 76 || len(fc.Features) != 114 || lines == 0 {
		t.Fatalf("%d trips, %d features (%d lines); want 76 trips and 114 features", len(trips), len(fc.Features), lines)
	}
}

// TestGeoJSONKeepsOnlyValidPositions: a section drawn from bad positions (out of range, not
// numbers) keeps the valid ones, and with fewer than two left it has a null geometry, never an
// invalid LineString.
func TestGeoJSONKeepsOnlyValidPositions(t *testing.T) {
	doc := &trip.Doc{ID: "t1", StartDate: "2024-01-01T08:00:00+01:00", EndDate: "2024-01-01T08:30:00+01:00"}
	section := func(coords string) string {
		return `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":` + coords + `},"properties":{}}]}`
	}
	doc.Series = []json.RawMessage{json.RawMessage(`{"type":"FeatureCollection","features":[` +
		section(`[[-1.15,46.16,12.5],[200,46],["x",1],[-1.14,46.15]]`) + `,` + section(`[[-1.15,46.16]]`) + `]}`)}
	a := trip.Aggregation{Purpose: trip.Commute, Sections: []trip.SectionAggregate{{Mode: trip.Bicycling}, {Mode: trip.Walking}, {Mode: trip.Walking}}}
	var buf bytes.Buffer
	w := export.NewGeoJSONWriter(&buf)
	if err := w.Write(doc, a); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fc := decodeStrict(t, buf.Bytes())
	if len(fc.Features) != 3 {
		t.Fatalf("%d features, want 3", len(fc.Features))
	}
	g := fc.Features[0].Geometry
	if g == nil || len(g.Coordinates) != 2 || len(g.Coordinates[0]) != 3 || g.Coordinates[0][2] != 12.5 || g.Coordinates[1][0] != -1.14 {
		t.Errorf("geometry %+v, want the two valid positions", g)
	}
	if fc.Features[1].Geometry != nil || fc.Features[2].Geometry != nil {
		t.Errorf("geometries %+v %+v, want null (one position; no series)", fc.Features[1].Geometry, fc.Features[2].Geometry)
	}
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// TestGeoJSONStreams: the writer passes features on as it goes (a long export does not wait for
// Close), and reports a write error.
func TestGeoJSONStreams(t *testing.T) {
	doc := &trip.Doc{ID: "t1", Series: []json.RawMessage{json.RawMessage(`{"type":"FeatureCollection","features":[]}`)}}
	a := trip.Aggregation{Sections: []trip.SectionAggregate{{Mode: trip.Walking, StartDate: strings.Repeat("x", 200)}}}
	var buf bytes.Buffer
	w := export.NewGeoJSONWriter(&buf)
	for range 100 {
		if err := w.Write(doc, a); err != nil {
			t.Fatal(err)
		}
	}
	if buf.Len() == 0 {
		t.Error("nothing written before Close: the export is not streamed")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if fc := decodeStrict(t, buf.Bytes()); len(fc.Features) != 100 {
		t.Fatalf("%d features, want 100", len(fc.Features))
	}

	w = export.NewGeoJSONWriter(&failingWriter{n: 5000})
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = w.Write(doc, a)
	}
	if err == nil {
		err = w.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error %v, want the write error", err)
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a write error succeeded")
	}
}
