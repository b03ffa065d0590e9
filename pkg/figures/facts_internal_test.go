package figures

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/tripgen"
)

// routeWithoutTracks is what routeOf must give: Route, tracks left out.
func routeWithoutTracks(d *trip.Doc) (trip.Route, error) {
	r, err := d.Route()
	for i := range r.Sections {
		r.Sections[i].Track = trip.Track{}
	}
	return r, err
}

// TestRouteOfIsRoute: the fast reading of a route gives what Route gives, on generated trips.
func TestRouteOfIsRoute(t *testing.T) {
	gen, err := tripgen.New(tripgen.Config{Users: 2, Days: 60, Seed: 3, Start: openpath.Date{Year: 2024, Month: 1, Day: 1}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for u := range 2 {
		gen.Trips(u, func(_ int, tr *tripgen.Trip) bool {
			doc, err := openpath.FromTimeline(tr.AppendGeoJSON(nil), openpath.Origin{Device: "phone", App: "openpath"}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if !doc.RouteIsPlain() {
				t.Fatalf("a generated trip is not plain")
			}
			if _, ok := readRoute(doc.Series[0]); !ok {
				t.Fatalf("trip %d: the one-pass reading left a generated trip to Route", n)
			}
			want, err := routeWithoutTracks(doc)
			got, gotErr := routeOf(doc)
			if err != nil || gotErr != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("trip %d: routeOf %+v, %v; Route %+v, %v", n, got, gotErr, want, err)
			}
			n++
			return true
		})
	}
	if n < 100 {
		t.Fatalf("%d trips generated", n)
	}
}

// FuzzRouteOf: on any valid series, routeOf gives Route's result, error included.
func FuzzRouteOf(f *testing.F) {
	for _, s := range []string{
		`{"properties":{"start_loc":{"coordinates":[-1.1,46.1]},"end_loc":{"coordinates":[-1.2,46.2]}},"features":[{"type":"Feature","properties":{"feature_type":"start_place","display_name":"Home"}},{"type":"FeatureCollection","features":[{"id":"s1","properties":{"sensed_mode":"MotionTypes.ON_FOOT","distance":120.5,"duration":60,"start_ts":1,"end_ts":61,"start_fmt_time":"a","end_fmt_time":"b"}}]}]}`,
		`{"features":[{"type":"FeatureCollection","features":[]},{"type":"FeatureCollection","features":null},null]}`,
		`{"features":[{"type":"FeatureCollection","features":[{"properties":{"distance":1,"distance":2}}]}]}`,
		`{"features":[{"type":"FeatureCollection","features":[{"properties":{"Distance":1}}]}]}`,
		`{"features":[{"type":"FeatureCollection","features":[{"properties":{"sensed_mode":"\u00e9\ud800"}}]}]}`,
		`{"properties":{"start_loc":{"coordinates":[1,null]},"end_loc":{"coordinates":[2,3,4]}},"features":[{"properties":{"feature_type":"end_place","display_name":"\u00e9"}}]}`,
		`{"features":[{"type":"FeatureCollection","features":[{"properties":{"distance":"1"}}]}]}`,
		`{"features":{"a":1}}`,
		`{"features":null,"properties":{"start_loc":{"coordinates":[1,2]},"end_loc":{"coordinates":[3,4]}}}`,
		`{"features":[{"type":"FeatureCollection","features":[null,{"id":"s2"}]},{"type":"Feature","properties":null},7,[]]}`,
		`{"features":[{"type":"FeatureCollection","features":{"0":{"id":"s1"}}}]}`,
		`{"features":[{"t\u0079pe":"FeatureCollection","features":[{"id":"s1"}]}]}`,
		`{"features":[{"features":[{"geometry":{"coordinates":[[1,2],[3,4]]},"id":"s1","properties":{"distances":[0,5],"distance":5,"speeds":[0,1],"sensed_mode":"MotionTypes.BICYCLING"}}],"type":"FeatureCollection"},{"properties":{"feature_type":"start_place","display_name":"A"}},{"properties":{"feature_type":"start_place","display_name":"B"}}]}`,
		`{"features":[{"type":"FeatureCollection","features":[{"id":7,"properties":[1]}]},{"type":"FeatureCollection","features":[{"properties":"x"}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, series []byte) {
		if !json.Valid(series) {
			return
		}
		d := &trip.Doc{ID: "t", Series: []json.RawMessage{series}}
		want, wantErr := routeWithoutTracks(d)
		got, err := routeOf(d)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("routeOf error %v, Route error %v", err, wantErr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("routeOf %+v, Route %+v", got, want)
		}
	})
}

// BenchmarkRouteOf reads the route of generated trips, as a sync does for every trip it writes.
func BenchmarkRouteOf(b *testing.B) {
	gen, err := tripgen.New(tripgen.Config{Users: 2, Days: 60, Seed: 3, Start: openpath.Date{Year: 2024, Month: 1, Day: 1}})
	if err != nil {
		b.Fatal(err)
	}
	var docs []*trip.Doc
	size := 0
	for u := range 2 {
		gen.Trips(u, func(_ int, tr *tripgen.Trip) bool {
			doc, err := openpath.FromTimeline(tr.AppendGeoJSON(nil), openpath.Origin{Device: "phone", App: "openpath"}, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			docs, size = append(docs, doc), size+len(doc.Series[0])
			return true
		})
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, d := range docs {
			if _, err := routeOf(d); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(docs))/b.Elapsed().Seconds(), "trips/s")
}
