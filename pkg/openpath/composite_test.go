package openpath_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/sampledata"
	"github.com/coachco2/coachco2/pkg/tripgen"
)

// compositeOddities are entries whose every corner the direct writer must write as encoding/json
// did: numbers it re-formats, escapes, HTML characters, duplicate and escaped keys, places and
// sections json.Unmarshal refuses, values it cannot write.
var compositeOddities = []string{
	`{"_id": {"$oid": "x"}, "data": {"start_ts": 1, "end_ts": 2, "start_fmt_time": "2016-01-01T00:00:00-08:00", "end_fmt_time": "2016-01-01T00:00:01-08:00", "sections": [{"metadata": {"key": "analysis/inferred_section"}, "data": {"sensed_mode": 8, "start_ts": 1, "end_ts": 2}}], "locations": [{"data": {"ts": 1.5, "loc": {"coordinates": [1, 2]}}}]}}`,
	`{"_id": "plain", "data": {"start_ts": 1.0, "end_ts": 2e0, "note": "a <b> & \u2028 \"q\" \\ é \u00e9", "n": [1.0, 1e21, 1e-7, 0.000001, -0, 12345678901234567890], "start_ts": 3,
	  "start_confirmed_place": {"_id": {"$oid": "p"}, "data": {"display_name": "Caf\u00e9 <&>", "location": {"type": "Point"}, "z": {"b": 1, "a": [true, false, null], "b": 2.50}, "exit_ts": 1.5e9}},
	  "end_confirmed_place": {"_id": 5, "data": {"display_name": "refused: bad id"}},
	  "start_loc": {"type": "Point", "coordinates": [ 1.0 , 2 ]}, "end_loc": null,
	  "sections": [{"_id": {"$oid": "s1"}, "metadata": {"key": "analysis/cleaned_section"}, "data": {"start_ts": 1, "end_ts": 1.6, "sensed_mode_str": "BICYCLING", "distance": 10.0, "k\u0065y": "escaped key", "distance": 11, "start_loc": {"coordinates": [0, 0]}, "end_loc": {"coordinates": [1, 1]}}},
	               {"_id": {"$oid": "s2"}, "data": {"start_ts": 1.5, "end_ts": 2, "sensed_mode": 2}}],
	  "locations": [{"data": {"ts": 1.5, "loc": {"coordinates": [1.5, 2.25]}, "speed": 3.0, "distance": 1e-9}}, {"data": {"ts": 1.55, "ts": 9, "loc": {"coordinates": [1, 2]}}}, {"data": {"ts": "1.7", "loc": {"coordinates": [3, 4]}}}, {"data": {"loc": {"coordinates": [5, 6]}}}, 7, {"data": []}]}}`,
	`{"_id": {"$oid": "y"}, "data": {"start_ts": 1, "end_ts": 2, "start_confirmed_place": {"DATA": {"a": 1}, "_id": "q"}, "end_confirmed_place": {"data": {"big": 1e400}}, "sections": [], "locations": null}}`,
	`{"_id": {"$oid": "y"}, "data": {"start_ts": 1, "end_ts": 2, "start_confirmed_place": {"d\u0061ta": {"a": 1}}, "end_confirmed_place": {"data": {"a": 1}, "data": {"b": 2}}}}`,
	`{"_id": {"$oid": "y"}, "data": {"start_ts": 1, "end_ts": 2, "start_confirmed_place": [1], "end_confirmed_place": "x", "sections": [{"data": {"start_ts": 1, "end_ts": 2, "huge": 1e400}}]}}`,
	`{"_id": {"$oid": "y"}, "data": {"start_ts": 1, "end_ts": 2, "sections": [{"data": {"start_ts": 1, "end_ts": 2}}], "locations": [{"data": {"ts": 1.2, "loc": {"coordinates": [1, 2]}, "speed": "NaN"}}, {"data": {"ts": 1.3, "loc": {"coordinates": [1, 2]}}}]}}`,
	`{"_id": {"$oid": "y"}, "data": {"start_ts": 1, "end_ts": 2, "sections": [5]}}`,
	`{"_id": {"$oid": "y"}, "data": {"start_ts": "1", "end_ts": 2}}`,
	`{"_id": {"$oid": "y"}, "data": {"start_ts": 1, "end_ts": 2, "sections": {}}}`,
	`{"_id": {"$oid": "y"}, "data": {"start_ts": 1, "end_ts": 2, "sections": null, "locations": null}}`,
	`{"_id": {"$oid": "y"}, "data": {"start_ts": 1, "end_ts": 2, "locations": [{"data": {"ts": 1, "loc": {"coordinates": [1, 2]}}, "data": {"ts": 5}}, {"d\u0061ta": {"ts": 1.5, "loc": {"type": "Point"}, "loc": {"coordinates": [3, 4]}}}], "locations": [{"data": {"ts": 1.2, "loc": {"coordinates": [5, 6]}}}], "sections": [{"data": {"start_ts": 0, "end_ts": 3}}]}}`,
	`{"_id": [], "data": {}}`,
	`{"_id": {"$oid": "y"}, "data": 5}`,
	`{"_id": {"$oid": "y"}, "data": {"confirmed_trip": {"$oid": "ct"}, "confirmed_trip": 5, "start_ts": 1, "end_ts": 2}}`,
	`{"_id": {"$oid": "y"}, "data": {"start_ts": 1, "end_ts": 2, "sections": [{"metadata": {"key": "analysis/inferred_section"}, "data": {"start_ts": 0, "end_ts": 3, "sensed_mode": 99, "feature_type": "x", "times": "overwritten"}}], "locations": [{"data": {"ts": 1, "loc": {"coordinates": [1, 2]}}}, {"data": {"ts": 2, "loc": {"coordinates": [3, 4]}}}]}}`,
	`null`, `[]`, `{}`, `"x"`,
}

// TestCompositeMatchesReference: the direct writer gives the bytes encoding/json gave through maps,
// or the same error, on the shared samples, generated trips and odd entries.
func TestCompositeMatchesReference(t *testing.T) {
	entries := compositeOddities
	files, _ := filepath.Glob(filepath.Join(sampledata.Dir(t), "composite", "*.json"))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range gjson.ParseBytes(raw).Array() {
			entries = append(entries, e.Raw)
		}
	}
	gen, err := tripgen.New(tripgen.Config{Users: 1, Days: 10, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	gen.Trips(0, func(_ int, tr *tripgen.Trip) bool {
		entries = append(entries, string(tr.AppendCompositeEntry(nil, gen.Users()[0].UUID, tr.ProcessedTS)))
		return true
	})
	if len(entries) < len(compositeOddities)+20 {
		t.Fatalf("only %d entries", len(entries))
	}
	for i, e := range entries {
		checkCompositeMatches(t, i, []byte(e))
	}
}

func checkCompositeMatches(t *testing.T, i int, entry []byte) {
	t.Helper()
	got, gotID, gotErr := openpath.CompositeToFeatureCollection(entry)
	want, wantID, wantErr := openpath.ReferenceComposite(entry)
	switch {
	case (gotErr == nil) != (wantErr == nil):
		t.Fatalf("entry %d: error %v, reference's %v", i, gotErr, wantErr)
	case gotErr != nil:
		if gotErr.Error() != wantErr.Error() {
			t.Errorf("entry %d: error %q, reference's %q", i, gotErr, wantErr)
		}
	case gotID != wantID || string(got) != string(want):
		t.Errorf("entry %d: id %q, reference's %q\n got %s\nwant %s", i, gotID, wantID, got, want)
	}
}

// FuzzCompositeMatchesReference is TestCompositeMatchesReference on any input.
func FuzzCompositeMatchesReference(f *testing.F) {
	for _, e := range compositeOddities {
		f.Add([]byte(e))
	}
	f.Fuzz(func(t *testing.T, entry []byte) { checkCompositeMatches(t, 0, entry) })
}
