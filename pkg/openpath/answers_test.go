package openpath

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/build"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func decodeAll(data []byte, field string) ([]json.RawMessage, error) {
	var out []json.RawMessage
	_, err := decodeList(bytes.NewReader(data), field, func(raw json.RawMessage) error {
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
		{in: `{"phone_data": []}`},
		{in: ` {"phone_data": [] } `},
		{in: `{"other": {"phone_data": [1]}, "phone_data": [{"a": 1}, {"b": [2, {"c": 3}]}], "z": "y"}`, n: 2},
		{in: `{"phone_data": [{"a": "\u00e9\"}"}]}`, n: 1},
		// Answers without their list are not "nothing": the sync would move its cursor past data
		// never fetched.
		{in: `{}`, wantErr: `"phone_data" is missing`, offset: 2},
		{in: `{"error": "database busy"}`, wantErr: `"phone_data" is missing`},
		{in: `{"phone_data": null}`, wantErr: `"phone_data" is null, want a list`},
		{in: `null`, wantErr: "answer is null, want an object"},
		{in: ` null `, wantErr: "answer is null, want an object"},
		{in: `{"phone_data": [{"a": 1}, null]}`, wantErr: `an element of "phone_data" is null`, offset: 26},
		{in: `{"phone_data": [], "phone_data": [{"a": 1}]}`, wantErr: "appears twice"},
		{in: ``, wantErr: "empty answer"},
		{in: `[]`, wantErr: "want an object"},
		{in: `"x"`, wantErr: "want an object"},
		{in: `{"phone_data": {}}`, wantErr: "want a list"},
		{in: `{"phone_data": "[]"}`, wantErr: "is a string, want a list"},
		{in: `{"phone_data": [1]}`, wantErr: "is a number, want an object", offset: 16},
		{in: `{"phone_data": [{"a": 1}, "x"]}`, wantErr: "is a string, want an object"},
		{in: `{"phone_data": [{"a": 1}, {"b": `, wantErr: "mid-JSON"},
		{in: `{"phone_data": [{"a": 1}]`, wantErr: "mid-JSON"},
		{in: `{"phone_data": [{"a": 1}]} {}`, wantErr: "data after the answer"},
		{in: `{"phone_data": [{"a": tru}]}`, wantErr: "invalid JSON"},
		{in: `<html>Service Unavailable</html>`, wantErr: "invalid JSON"},
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
	_, err := decodeList(r, "timeline", func(json.RawMessage) error { return nil })
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the reader's error", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestDecodeTimes(t *testing.T) {
	v, err := decodeTimes(strings.NewReader(`{"start_ts": 12.5, "x": [1], "end_ts": null}`), "start_ts", "end_ts")
	if err != nil || *v[0] != 12.5 || v[1] != nil {
		t.Errorf("object: %v, %v", v, err)
	}
	// What a real server answers for a new user: the fields are there, null.
	if v, err := decodeTimes(strings.NewReader(`{"complete_ts": null}`), "complete_ts"); err != nil || v[0] != nil {
		t.Errorf("null field: %v, %v", v, err)
	}
	for bad, want := range map[string]string{
		`{}`:                           `"start_ts" is missing`,
		`{"error": "database busy"}`:   `"start_ts" is missing`,
		`{"start_ts": 1}`:              `"end_ts" is missing`,
		` null`:                        "answer is null",
		`{"start_ts": "soon"}`:         "is a string, want a number or null",
		`{"start_ts": 1e999}`:          "out of range",
		`[1]`:                          "answer is a list",
		`{"start_ts": 1`:               "mid-JSON",
		``:                             "empty answer",
		`{} {}`:                        "data after the answer",
		`<pre>Internal Server Error`:   "invalid JSON",
		`{"start_ts": 1, "end_ts": x}`: "invalid JSON",
	} {
		var pe *parseError
		if _, err := decodeTimes(strings.NewReader(bad), "start_ts", "end_ts"); !errors.As(err, &pe) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want a parse error with %q", bad, err, want)
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

// TestNoUnsafe: the answers are read without the unsafe package; what a parse keeps does not alias
// the answer's bytes, which the caller may reuse.
func TestNoUnsafe(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(pkg.Imports, "unsafe") {
		t.Error("pkg/openpath imports unsafe")
	}
	raw := []byte(`{"_id": {"$oid": "5fd7b7bdf181cd8feb045f29"}, "metadata": {"key": "manual/mode_confirm", "write_ts": 1}, "data": {"start_ts": 1, "end_ts": 2, "label": "bike"}}`)
	e := parseEntry(raw)
	l, err := e.Label()
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		raw[i] = ' '
	}
	if e.ID != "5fd7b7bdf181cd8feb045f29" || e.Metadata.Key != KeyModeConfirm || l.Value != "bike" {
		t.Errorf("entry %+v, label %+v changed with the answer's bytes", e, l)
	}
}

// shapeOK reports whether valid JSON data is an answer decodeList must accept: an object with
// exactly one field named field, a list of objects.
func shapeOK(data []byte, field string) bool {
	root := gjson.ParseBytes(data)
	if !root.IsObject() {
		return false
	}
	found, ok := 0, true
	root.ForEach(func(k, v gjson.Result) bool {
		if k.String() != field {
			return true
		}
		found++
		if !v.IsArray() {
			ok = false
			return false
		}
		v.ForEach(func(_, el gjson.Result) bool {
			ok = el.IsObject()
			return ok
		})
		return ok
	})
	return ok && found == 1
}

// timesOK reports whether valid JSON data is an answer decodeTimes must accept for names: an
// object where each name is present, a number or null.
func timesOK(data []byte, names ...string) bool {
	var fields map[string]json.RawMessage
	if json.Unmarshal(data, &fields) != nil || fields == nil {
		return false
	}
	for _, n := range names {
		v, ok := fields[n]
		if !ok {
			return false
		}
		var f *float64
		if json.Unmarshal(v, &f) != nil {
			return false
		}
	}
	return true
}

// knownSays and knownHints are every phrase serverSays and redirectHint (for the base URL of
// FuzzDecodeAnswer) may return.
var (
	knownSays = []string{"", "no account found for this token", "the token is not in the server's token list",
		"the request names no user", "max_entries refused", "trunc_method refused", "the server could not read the date",
		"injected fault (devserver)"}
	knownHints = []string{"without saying where", "to an unreadable location", "to another host",
		"to another path on the same host", "to https on the same host: try https://openpath.example.org/api"}
)

// FuzzDecodeAnswer feeds arbitrary answers to the parsing of every route. It must never panic, must
// accept exactly the valid answers of the right shape (an answer without its list or fields is
// refused, never read as "nothing"), and must hand out only valid JSON objects. Read as an error
// page or a Location header, the data only ever yields the client's own phrases.
// Seed corpus: testdata/fuzz/FuzzDecodeAnswer.
func FuzzDecodeAnswer(f *testing.F) {
	f.Add([]byte(`{"phone_data": [{"_id": {"$oid": "5fd7b7bdf181cd8feb045f29"}, "metadata": {"key": "manual/mode_confirm", "write_ts": 1}, "data": {"start_ts": 1, "end_ts": 2, "label": "bike"}}]}`))
	f.Add([]byte(`{"timeline": [{"type": "FeatureCollection", "id": "x", "properties": {"start_ts": 1, "start_local_dt": {"year": 2016, "month": 2, "day": 30}}}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		valid := json.Valid(data)
		for _, field := range []string{"phone_data", "timeline"} {
			els, err := decodeAll(data, field)
			// The fast path gives what encoding/json's decoder gives, elements and errors alike.
			var slow []json.RawMessage
			serr := decodeListSlowly(bytes.NewReader(data), field, func(raw json.RawMessage) error {
				slow = append(slow, raw)
				return nil
			})
			if fmt.Sprint(err) != fmt.Sprint(serr) || (err == nil && !slices.EqualFunc(els, slow, func(a, b json.RawMessage) bool { return bytes.Equal(a, b) })) {
				t.Fatalf("%s: decodeList gives %d elements, %v; encoding/json's decoder %d, %v", field, len(els), err, len(slow), serr)
			}
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
		// Error answers and redirects: whatever they hold, the client says one of its own phrases.
		says := serverSays(data)
		if !slices.Contains(knownSays, says) {
			t.Fatalf("serverSays = %q, not one of the client's phrases", says)
		}
		base, _ := url.Parse("http://openpath.example.org/api")
		req, _ := url.Parse("http://openpath.example.org/api/pipeline/get_range_ts")
		if hint := redirectHint(base, req, string(data)); !slices.Contains(knownHints, hint) {
			t.Fatalf("redirectHint = %q, not one of the client's phrases", hint)
		}
		for _, names := range [][]string{{"start_ts", "end_ts"}, {"complete_ts"}} {
			v, err := decodeTimes(bytes.NewReader(data), names...)
			want := valid && timesOK(data, names...)
			if (err == nil) != want {
				t.Fatalf("decodeTimes(%v) = %v, %v; want accepted = %v", names, v, err, want)
			}
			var pe *parseError
			if err != nil && !errors.As(err, &pe) {
				t.Fatalf("decodeTimes: not a parse error: %v", err)
			}
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
		_, err := decodeList(bytes.NewReader(answer), "timeline", func(raw json.RawMessage) error {
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
