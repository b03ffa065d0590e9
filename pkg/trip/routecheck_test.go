package trip

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/sampledata"
)

// routeCases are series CheckRoute must judge as Route does: members of the wrong type at each
// level, names encoding/json matches case-insensitively, numbers out of float64's range, nulls.
var routeCases = []string{
	`{"features": [], "properties": {"start_loc": {"coordinates": [2.35, 48.85]}, "end_loc": null}}`,
	`{"features": null, "properties": null, "type": "FeatureCollection", "id": 12}`,
	`{"features": [{"type": "Feature", "properties": {"feature_type": "start_place", "display_name": "Home"}}]}`,
	`{"features": [{"type": 1}]}`,
	`{"features": [{"properties": {"display_name": ["x"]}}]}`,
	`{"features": {}}`,
	`{"features": [null, 3]}`,
	`{"properties": {"start_loc": {"coordinates": [1e400, 2]}}}`,
	`{"properties": {"start_loc": {"coordinates": [1, "2"]}}}`,
	`{"properties": {"start_loc": {"coordinates": [1, null, -0.5e-3]}}}`,
	`{"properties": {"start_loc": "here"}}`,
	`{"Properties": {"start_loc": "here"}}`,
	`{"FEATURES": 1}`,
	`{"features": [{"features": [{"id": "s", "geometry": {"coordinates": [[1, 2], [3, 4]]}, "properties": {"sensed_mode": "MotionTypes.BICYCLING", "distance": 1.5, "duration": 3, "start_ts": 1, "end_ts": 2, "distances": [0, 1], "timestamps": "x", "speeds": {}}}]}]}`,
	`{"features": [{"features": [{"properties": {"distance": "far"}}]}]}`,
	`{"features": [{"features": [{"properties": {"start_ts": true}}]}]}`,
	`{"features": [{"features": [{"properties": {"Start_TS": "x"}}]}]}`,
	`{"features": [{"features": [{"geometry": []}]}]}`,
	`{"features": [{"features": [{"id": 7}]}]}`,
	`{"features": [], "features": 1}`,
	`{"features": [{"features": [{"properties": {"distance": 1e309}}]}]}`,
	`{"features": [{"features": [{"properties": {"di\u0073tance": "far"}}]}]}`,
	`{"features": [{"features": [{"properties": {"ſensed_mode": 1}}]}]}`,
	`{"other": {"features": 1, "deep": [1, "}", {"a": "]"}]}, "properties": {"x": -1}}`,
	`{"properties": {"start_loc": {"coordinates": [` + strings.Repeat("9", 299) + `, ` + strings.Repeat("9", 309) + `]}}}`,
	`{"properties": {"start_loc": {"coordinates": [` + strings.Repeat("9", 308) + `.5, 1E-400, -1e308]}}}`,
	`[]`, `"series"`, `12`, `null`,
}

// TestCheckRoute: CheckRoute returns Route's error, nil included, and takes its fast path on the
// samples' series.
func TestCheckRoute(t *testing.T) {
	for _, c := range routeCases {
		sameAsRoute(t, []byte(c))
	}
	samples := sampledata.TimelineTrips(t)
	for _, raw := range samples {
		sameAsRoute(t, raw)
		if !routeReads(raw) {
			t.Errorf("a sample's series takes the slow path: %.200s", raw)
		}
	}
}

func sameAsRoute(t *testing.T, series []byte) {
	t.Helper()
	d := &Doc{ID: "t", Series: []json.RawMessage{series}}
	_, want := d.Route()
	if got := d.CheckRoute(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("CheckRoute(%.300s) = %v, Route gives %v", series, got, want)
	}
}

// FuzzCheckRoute: on any valid JSON, CheckRoute and Route agree.
func FuzzCheckRoute(f *testing.F) {
	for _, c := range routeCases {
		f.Add([]byte(c))
	}
	f.Add([]byte(strings.Repeat(`{"features": [`, 3)))
	f.Fuzz(func(t *testing.T, series []byte) {
		if !json.Valid(series) {
			return
		}
		sameAsRoute(t, series)
	})
}
