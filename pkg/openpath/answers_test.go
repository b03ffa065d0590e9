package openpath

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func decodeAll(data []byte, field string) ([]json.RawMessage, error) {
	var out []json.RawMessage
	err := decodeList(bytes.NewReader(data), field, func(raw json.RawMessage) error {
		out = append(out, raw)
		return nil
	})
	return out, err
}

func TestDecodeList(t *testing.T) {
	for _, c := range []struct {
		in      string
		n       int
		wantErr string
		offset  int64
	}{
		{in: `null`},
		{in: ` null `},
		{in: `{}`},
		{in: `{"phone_data": null}`},
		{in: `{"phone_data": []}`},
		{in: `{"other": {"phone_data": [1]}, "phone_data": [{"a": 1}, null, {"b": [2, {"c": 3}]}], "z": "y"}`, n: 2},
		{in: `{"phone_data": [{"a": "\u00e9\"}"}]}`, n: 1},
		{in: ``, wantErr: "empty answer"},
		{in: `[]`, wantErr: "want an object"},
		{in: `"x"`, wantErr: "want an object"},
		{in: `{"phone_data": {}}`, wantErr: "want a list"},
		{in: `{"phone_data": [1]}`, wantErr: "not an object", offset: 16},
		{in: `{"phone_data": [{"a": 1}, "x"]}`, wantErr: "not an object"},
		{in: `{"phone_data": [{"a": 1}, {"b": `, wantErr: "mid-JSON"},
		{in: `{"phone_data": [{"a": 1}]`, wantErr: "mid-JSON"},
		{in: `{"phone_data": [{"a": 1}]} {}`, wantErr: "data after the answer"},
		{in: `{"phone_data": [{"a": tru}]}`, wantErr: "invalid character"},
		{in: `<html>Service Unavailable</html>`, wantErr: "invalid character"},
	} {
		got, err := decodeAll([]byte(c.in), "phone_data")
		if c.wantErr == "" {
			if err != nil || len(got) != c.n {
				t.Errorf("%q: %d elements, %v; want %d", c.in, len(got), err, c.n)
			}
			continue
		}
		var pe *parseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%q: err = %v, want a parse error with %q", c.in, err, c.wantErr)
			continue
		}
		if c.offset != 0 && pe.Offset != c.offset {
			t.Errorf("%q: offset %d, want %d", c.in, pe.Offset, c.offset)
		}
	}
}

func TestDecodeListReaderError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader(`{"timeline": [{"a": 1}, {"b"`), errReader{boom})
	err := decodeList(r, "timeline", func(json.RawMessage) error { return nil })
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the reader's error", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestDecodeObject(t *testing.T) {
	var v struct {
		StartTS *float64 `json:"start_ts"`
	}
	if null, err := decodeObject(strings.NewReader(` null`), &v); !null || err != nil {
		t.Errorf("null: %v %v", null, err)
	}
	if _, err := decodeObject(strings.NewReader(`{"start_ts": 12.5, "x": [1]}`), &v); err != nil || *v.StartTS != 12.5 {
		t.Errorf("object: %v", err)
	}
	for _, bad := range []string{`{"start_ts": "soon"}`, `[1]`, `{"start_ts": 1`, ``, `{} {}`} {
		var pe *parseError
		if _, err := decodeObject(strings.NewReader(bad), &v); !errors.As(err, &pe) {
			t.Errorf("%q: err = %v, want a parse error", bad, err)
		}
	}
}

func TestMongoIDs(t *testing.T) {
	for in, want := range map[string]string{
		`{"$oid": "5fd7b7bdf181cd8feb045f29"}`:                 "5fd7b7bdf181cd8feb045f29",
		`{"$uuid": "1114befc-e277-4cf8-9b95-06dcbff3a52d"}`:    "1114befce2774cf89b9506dcbff3a52d",
		`{"$binary": {"base64": "AAECAw==", "subType": "04"}}`: "00010203",
		`{"$binary": "AAECAw==", "$type": "03"}`:               "00010203",
		`"plain"`:                                              "plain",
		`{"$date": 5}`:                                         "",
		`17`:                                                   "",
		`{"other": 1, "$oid": "aaaaaaaaaaaaaaaaaaaaaaaa", "z": true}`: "aaaaaaaaaaaaaaaaaaaaaaaa",
	} {
		if got := mongoID(gjson.Parse(in)); got != want {
			t.Errorf("mongoID(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestEntryAccessors(t *testing.T) {
	e := parseEntry(json.RawMessage(`{"data": {"start_ts": 10, "end_ts": 20, "label": "e-car_drove_alone", "start_local_dt": {"year": 2025, "month": 3, "day": 30, "timezone": "Europe/Paris"}}, "metadata": {"key": "manual/mode_confirm", "write_ts": 30.5, "write_local_dt": {"hour": 4}}, "_id": "abc"}`))
	if e.ID != "abc" || e.Metadata.Key != KeyModeConfirm || e.Metadata.WriteTS != 30.5 || e.Metadata.WriteLocalDt.Hour != 4 {
		t.Errorf("entry %+v", e)
	}
	l, err := e.Label()
	if err != nil || l.Value != "e-car_drove_alone" || l.StartLocalDt.Day != 30 || l.Overlap(15, 100) != 5 || l.Overlap(21, 25) != 0 {
		t.Errorf("label %+v, %v", l, err)
	}
	h, err := e.TripHeader()
	if d, _ := h.StartDate(); err != nil || d.String() != "2025-03-30" {
		t.Errorf("trip header %+v, %v", h, err)
	}
	for _, raw := range []string{`{"_id": "x"}`, `{"data": {"label": 3, "start_ts": 1, "end_ts": 2}}`, `{"data": {"label": "bike"}}`} {
		if _, err := parseEntry(json.RawMessage(raw)).Label(); !errors.Is(err, ErrInvalidEntry) {
			t.Errorf("Label of %s: %v", raw, err)
		}
	}
	if _, err := parseEntry(json.RawMessage(`{"data": {}}`)).TripHeader(); !errors.Is(err, ErrInvalidEntry) {
		t.Errorf("TripHeader without times: %v", err)
	}
}

// shapeOK reports whether valid JSON data is an answer decodeList must accept: null, or an object
// whose every field named field is null or a list of objects and nulls.
func shapeOK(data []byte, field string) bool {
	root := gjson.ParseBytes(data)
	if root.Type == gjson.Null {
		return true
	}
	if !root.IsObject() {
		return false
	}
	ok := true
	root.ForEach(func(k, v gjson.Result) bool {
		if k.String() != field || v.Type == gjson.Null {
			return true
		}
		if !v.IsArray() {
			ok = false
			return false
		}
		v.ForEach(func(_, el gjson.Result) bool {
			if el.Type != gjson.Null && !el.IsObject() {
				ok = false
			}
			return ok
		})
		return ok
	})
	return ok
}

// FuzzDecodeAnswer feeds arbitrary answers to the parsing of every route. It must never panic, must
// accept exactly the valid answers of the right shape, and must hand out only valid JSON objects.
// Seed corpus: testdata/fuzz/FuzzDecodeAnswer.
func FuzzDecodeAnswer(f *testing.F) {
	f.Add([]byte(`{"phone_data": [{"_id": {"$oid": "5fd7b7bdf181cd8feb045f29"}, "metadata": {"key": "manual/mode_confirm", "write_ts": 1}, "data": {"start_ts": 1, "end_ts": 2, "label": "bike"}}]}`))
	f.Add([]byte(`{"timeline": [{"type": "FeatureCollection", "id": "x", "properties": {"start_ts": 1, "start_local_dt": {"year": 2016, "month": 2, "day": 30}}}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		valid := json.Valid(data)
		for _, field := range []string{"phone_data", "timeline"} {
			els, err := decodeAll(data, field)
			if err != nil {
				var pe *parseError
				if !errors.As(err, &pe) {
					t.Fatalf("%s: not a parse error: %v", field, err)
				}
				if pe.Offset < 0 || pe.Offset > int64(len(data)) {
					t.Fatalf("%s: offset %d outside the %d-byte answer", field, pe.Offset, len(data))
				}
				if valid && shapeOK(data, field) {
					t.Fatalf("%s: a valid answer of the right shape was refused: %v", field, err)
				}
				continue
			}
			if !valid || !shapeOK(data, field) {
				t.Fatalf("%s: accepted an answer that is invalid (%v) or of the wrong shape", field, valid)
			}
			for _, raw := range els {
				if !json.Valid(raw) || raw[0] != '{' {
					t.Fatalf("%s: element %q is not a JSON object", field, raw)
				}
				e := parseEntry(raw)
				if d := e.Data(); d != nil && !json.Valid(d) {
					t.Fatalf("Data() = %q is not JSON", d)
				}
				_, _ = e.Label()
				if h, err := e.TripHeader(); err == nil {
					_, _ = h.StartDate()
				}
				tr := parseTrip(raw)
				_, _ = tr.StartDate()
			}
		}
		var rng struct {
			StartTS *float64 `json:"start_ts"`
			EndTS   *float64 `json:"end_ts"`
		}
		if _, err := decodeObject(bytes.NewReader(data), &rng); err == nil && !valid {
			t.Fatalf("decodeObject accepted invalid JSON")
		}
	})
}

// BenchmarkDecodeTimeline measures the client's parsing alone: a getTrips answer of 40 generated
// trips decoded from memory into typed headers and raw trips.
func BenchmarkDecodeTimeline(b *testing.B) {
	answer := []byte(`{"timeline": [`)
	n := 0
	for _, tr := range benchTrips(b) {
		if n > 0 {
			answer = append(answer, ", "...)
		}
		answer = append(answer, tr...)
		n++
	}
	answer = append(answer, "]}"...)
	b.SetBytes(int64(len(answer)))
	b.ReportAllocs()
	for b.Loop() {
		count := 0
		err := decodeList(bytes.NewReader(answer), "timeline", func(raw json.RawMessage) error {
			if parseTrip(raw).StartTS == 0 {
				b.Fatal("no start")
			}
			count++
			return nil
		})
		if err != nil || count != n {
			b.Fatal(count, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "trips/s")
}
