package devserver_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/sampledata"
	"github.com/coachco2/coachco2/pkg/tripgen"
)

// start serves srv on a real loopback listener for the test.
func start(t *testing.T, srv *devserver.Server) string {
	t.Helper()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL
}

func newServer(t *testing.T, opts devserver.Options) *devserver.Server {
	t.Helper()
	srv, err := devserver.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// post sends body to path and returns the status and answer.
func post(t *testing.T, base, path string, body any) (int, []byte) {
	t.Helper()
	b, ok := body.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Post(base+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: reading: %v", path, err)
	}
	return resp.StatusCode, out
}

// mustPost posts and requires a 200 with valid JSON.
func mustPost(t *testing.T, base, path string, body any) gjson.Result {
	t.Helper()
	status, out := post(t, base, path, body)
	if status != http.StatusOK || !gjson.ValidBytes(out) {
		t.Fatalf("POST %s: %d %.300s", path, status, out)
	}
	return gjson.ParseBytes(out)
}

type query = map[string]any

func samples(t *testing.T) (*devserver.Server, string) {
	t.Helper()
	data, err := devserver.LoadDir(sampledata.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, devserver.Options{})
	if err := srv.SetUser("samples", data); err != nil {
		t.Fatal(err)
	}
	return srv, start(t, srv)
}

func TestAuthAndRoutes(t *testing.T) {
	srv := newServer(t, devserver.Options{})
	if err := srv.SetUser("tok", &devserver.UserData{}); err != nil {
		t.Fatal(err)
	}
	base := start(t, srv)
	for _, c := range []struct {
		name, path string
		body       any
		want       int
	}{
		{"known token", "/pipeline/get_range_ts", query{"user": "tok"}, 200},
		{"no user", "/pipeline/get_range_ts", query{}, 401},
		{"no user on find_entries", "/datastreams/find_entries/timestamp", query{"key_list": []string{"a"}}, 401},
		{"unknown token", "/timeline/getTrips/2016-06-20", query{"user": "nope"}, 403},
		{"empty token", "/pipeline/get_complete_ts", query{"user": ""}, 403},
		{"token not a string", "/pipeline/get_complete_ts", query{"user": 3}, 403},
		{"body not JSON", "/pipeline/get_range_ts", []byte("user=tok"), 400},
		{"unknown route redirects like Bottle", "/pipeline/nothing", query{"user": "tok"}, 301},
		{"profile", "/profile/get", query{"user": "tok"}, 200},
	} {
		if status, out := post(t, base, c.path, c.body); status != c.want {
			t.Errorf("%s: %d %.200s, want %d", c.name, status, out, c.want)
		}
	}
	resp, err := http.Get(base + "/pipeline/get_range_ts")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", resp.StatusCode)
	}
	if got := mustPost(t, base, "/pipeline/get_range_ts", query{"user": "tok"}); got.Get("start_ts").Type != gjson.Null || got.Get("end_ts").Type != gjson.Null {
		t.Errorf("range of a user without trips: %s, want nulls", got.Raw)
	}
	if !srv.RemoveUser("tok") {
		t.Error("RemoveUser: no user")
	}
	if status, _ := post(t, base, "/pipeline/get_range_ts", query{"user": "tok"}); status != 403 {
		t.Errorf("removed user: %d, want 403", status)
	}
}

func TestSamplesServed(t *testing.T) {
	srv, base := samples(t)
	sum, _ := srv.User("samples")
	if sum.Trips != 76 {
		t.Errorf("%d trips, want 76", sum.Trips)
	}
	// Walk every local day between the range's ends and count what getTrips gives.
	rng := mustPost(t, base, "/pipeline/get_range_ts", query{"user": "samples"})
	entries := mustPost(t, base, "/datastreams/find_entries/timestamp", query{
		"user": "samples", "key_list": []string{openpath.KeyCleanedTrip}, "start_time": 0, "end_time": rng.Get("end_ts").Float() + 86400,
	}).Get("phone_data").Array()
	if len(entries) != 76 {
		t.Fatalf("%d cleaned_trip entries, want 76", len(entries))
	}
	days := map[string]bool{}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, e := range entries {
		days[e.Get("data.start_fmt_time").String()[:10]] = true
		lo, hi = math.Min(lo, e.Get("data.start_ts").Float()), math.Max(hi, e.Get("data.end_ts").Float())
	}
	// As e-mission: the range spans the trip entries (the 2023 composite trips do not count), and
	// complete_ts is its end plus 5 s.
	if rng.Get("start_ts").Float() != lo || rng.Get("end_ts").Float() != hi {
		t.Errorf("get_range_ts = %s, want %v to %v", rng.Raw, lo, hi)
	}
	if c := mustPost(t, base, "/pipeline/get_complete_ts", query{"user": "samples"}).Get("complete_ts").Float(); c != hi+5 {
		t.Errorf("complete_ts = %v, want %v", c, hi+5)
	}
	ids := map[string]bool{}
	sections := 0
	for day := range days {
		for _, trip := range mustPost(t, base, "/timeline/getTrips/"+day, query{"user": "samples"}).Get("timeline").Array() {
			ids[trip.Get("id").String()] = true
			if got := trip.Get("properties.start_fmt_time").String()[:10]; got != day {
				t.Errorf("getTrips/%s returned a trip of %s", day, got)
			}
			for _, f := range trip.Get("features").Array() {
				if f.Get("type").String() == "FeatureCollection" {
					sections += int(f.Get(`features.#(properties.feature_type=="section")#|#`).Int())
				}
			}
		}
	}
	if len(ids) != 76 || sections != 114 {
		t.Errorf("getTrips over all days: %d trips, %d sections; want 76 and 114", len(ids), sections)
	}
	// shankari_2016-08-05.json says 2016-07-05 in its metadata: its trips are served on their own date.
	if n := len(mustPost(t, base, "/timeline/getTrips/2016-08-05", query{"user": "samples"}).Get("timeline").Array()); n != 2 {
		t.Errorf("getTrips/2016-08-05: %d trips, want 2", n)
	}
	if got := mustPost(t, base, "/timeline/getTrips/2016-07-05", query{"user": "samples"}).Get("timeline"); !got.IsArray() || len(got.Array()) != 0 {
		t.Errorf("getTrips/2016-07-05: %s, want []", got.Raw)
	}
	labels := mustPost(t, base, "/datastreams/find_entries/timestamp", query{
		"user": "samples", "key_list": openpath.LabelKeys(), "start_time": 0, "end_time": 2e9,
	}).Get("phone_data").Array()
	if len(labels) != 37 {
		t.Errorf("%d mode and purpose labels, want 37", len(labels))
	}
	composite := mustPost(t, base, "/datastreams/find_entries/timestamp", query{
		"user": "samples", "key_list": []string{openpath.KeyCompositeTrip}, "start_time": 0, "end_time": 2e9,
	}).Get("phone_data").Array()
	if len(composite) != 7 {
		t.Errorf("%d composite trips, want 7", len(composite))
	}
}

// trip returns a minimal timeline trip starting at start (in its zone) for dur.
func trip(id string, start time.Time, dur time.Duration, withLocalDt bool) json.RawMessage {
	end := start.Add(dur)
	props := query{
		"start_ts": float64(start.UnixMicro()) / 1e6, "end_ts": float64(end.UnixMicro()) / 1e6,
		"start_fmt_time": openpath.FormatTime(start), "end_fmt_time": openpath.FormatTime(end),
		"duration": dur.Seconds(), "distance": 1234.5, "feature_type": "trip",
	}
	if withLocalDt {
		props["start_local_dt"] = openpath.NewLocalDate(start)
		props["end_local_dt"] = openpath.NewLocalDate(end)
	}
	b, _ := json.Marshal(query{"type": "FeatureCollection", "id": id, "properties": props, "features": []any{}})
	return b
}

func TestGetTripsByLocalDate(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	la, _ := time.LoadLocation("America/Los_Angeles")
	srv := newServer(t, devserver.Options{})
	afterMidnight := time.Date(2025, 6, 14, 0, 20, 5, 123456000, paris) // 2025-06-13 22:20 UTC
	lateEvening := time.Date(2025, 6, 14, 21, 10, 0, 0, la)             // 2025-06-15 04:10 UTC
	err := srv.SetUser("u", &devserver.UserData{Trips: []json.RawMessage{
		trip("aaaaaaaaaaaaaaaaaaaaaaa1", afterMidnight, 20*time.Minute, true),
		trip("aaaaaaaaaaaaaaaaaaaaaaa2", lateEvening, 30*time.Minute, false), // date from start_fmt_time
	}})
	if err != nil {
		t.Fatal(err)
	}
	base := start(t, srv)
	for day, want := range map[string][]string{
		"2025-06-13": nil,
		"2025-06-14": {"aaaaaaaaaaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaaaaaaaaaa2"},
		"2025-06-15": nil,
		"2025-6-14":  {"aaaaaaaaaaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaaaaaaaaaa2"}, // dateutil reads it too
	} {
		var got []string
		for _, tr := range mustPost(t, base, "/timeline/getTrips/"+day, query{"user": "u"}).Get("timeline.#.id").Array() {
			got = append(got, tr.String())
		}
		if !slices.Equal(got, want) {
			t.Errorf("getTrips/%s = %v, want %v", day, got, want)
		}
	}
	if status, _ := post(t, base, "/timeline/getTrips/yesterday", query{"user": "u"}); status != 500 {
		t.Errorf("getTrips/yesterday: %d, want 500 as the server's date parser fails", status)
	}
	// A trip without a local date is refused when loaded, not silently never served.
	bad, _ := json.Marshal(query{"type": "FeatureCollection", "id": "x", "properties": query{"start_ts": 1, "end_ts": 2}})
	if err := srv.SetUser("v", &devserver.UserData{Trips: []json.RawMessage{bad}}); err == nil {
		t.Error("SetUser accepted a trip without a local start date")
	}
}

func label(t *testing.T, key, value string, start, end, write float64, id string) json.RawMessage {
	t.Helper()
	e, err := devserver.NewLabelEntry(devserver.LabelSpec{Key: key, Value: value, StartTS: start, EndTS: end, WriteTS: write, TimeZone: "Europe/Paris", ID: id})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestFindEntriesBoundsAndOrder(t *testing.T) {
	srv := newServer(t, devserver.Options{})
	err := srv.SetUser("u", &devserver.UserData{Labels: []json.RawMessage{
		label(t, openpath.KeyModeConfirm, "bike", 1000, 1500, 5000, "bbbbbbbbbbbbbbbbbbbbbbb3"),
		label(t, openpath.KeyPurposeConfirm, "work", 1000, 1500, 5000, "bbbbbbbbbbbbbbbbbbbbbbb1"), // same time: by _id
		label(t, openpath.KeyModeConfirm, "walk", 2000, 2600, 4000, "bbbbbbbbbbbbbbbbbbbbbbb2"),
		label(t, openpath.KeyModeConfirm, "car", 3000, 3500, 6000.5, "bbbbbbbbbbbbbbbbbbbbbbb4"),
		label(t, "manual/place_addition_input", "x", 3000, 3500, 5500, "bbbbbbbbbbbbbbbbbbbbbbb5"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	base := start(t, srv)
	find := func(q query) []string {
		t.Helper()
		q["user"] = "u"
		var ids []string
		for _, id := range mustPost(t, base, "/datastreams/find_entries/timestamp", q).Get("phone_data.#._id.$oid").Array() {
			ids = append(ids, id.String()[23:])
		}
		return ids
	}
	labels := openpath.LabelKeys()
	for _, c := range []struct {
		q    query
		want []string
	}{
		{query{"key_list": labels, "start_time": 0, "end_time": 1e4}, []string{"2", "1", "3", "4"}},
		{query{"key_list": labels, "start_time": 4000, "end_time": 6000.5}, []string{"2", "1", "3", "4"}}, // inclusive bounds
		{query{"key_list": labels, "start_time": 4000.001, "end_time": 6000.499}, []string{"1", "3"}},
		{query{"key_list": labels, "start_time": 5000, "end_time": 5000}, []string{"1", "3"}},
		{query{"key_list": labels, "start_time": 1000, "end_time": 2000, "key_time": "data.start_ts"}, []string{"1", "3", "2"}},
		{query{"key_list": labels, "start_time": 1400, "end_time": 1600, "key_time": "data.end_ts"}, []string{"1", "3"}},
		{query{"key_list": []string{openpath.KeyModeConfirm}, "start_time": 0, "end_time": 1e4}, []string{"2", "3", "4"}},
		{query{"key_list": []string{"manual/place_addition_input", "manual/place_addition_input"}, "start_time": 0, "end_time": 1e4}, []string{"5"}},
		{query{"key_list": []string{"nothing/here"}, "start_time": 0, "end_time": 1e4}, nil},
		{query{"key_list": labels, "start_time": 1970, "end_time": 1970, "key_time": "metadata.write_local_dt.year"}, []string{"1", "2", "3", "4"}}, // any path
		{query{"key_list": labels, "start_time": 0, "end_time": 1e4, "key_time": "data.nothing"}, nil},
	} {
		if got := find(c.q); !slices.Equal(got, c.want) {
			t.Errorf("find_entries %v = %v, want %v", c.q, got, c.want)
		}
	}
	// max_entries and trunc_method, with the server's own failures.
	all := query{"key_list": labels, "start_time": 0, "end_time": 1e4}
	with := func(extra query) query {
		q := query{}
		for k, v := range all {
			q[k] = v
		}
		for k, v := range extra {
			q[k] = v
		}
		return q
	}
	if got := find(with(query{"max_entries": 2, "trunc_method": "last"})); !slices.Equal(got, []string{"3", "4"}) {
		t.Errorf("last 2 = %v", got)
	}
	if got := find(with(query{"max_entries": 2, "trunc_method": "sample"})); !slices.Equal(got, []string{"2", "4"}) {
		t.Errorf("sample 2 of 4 = %v, want every 3rd", got)
	}
	if got := find(with(query{"max_entries": 10, "trunc_method": "first"})); len(got) != 4 {
		t.Errorf("first 10 of 4 = %v, want all: no truncation, no error", got)
	}
	for _, bad := range []query{
		{"max_entries": 2, "trunc_method": "first"}, // e-mission's bug: truncates then aborts
		{"max_entries": 2},                          // trunc_method needed
		{"max_entries": 2.5, "trunc_method": "last"},
		{"max_entries": "2", "trunc_method": "last"},
		{"max_entries": 2, "trunc_method": "middle"},
	} {
		q := with(bad)
		q["user"] = "u"
		if status, _ := post(t, base, "/datastreams/find_entries/timestamp", q); status != 500 {
			t.Errorf("find_entries with %v: %d, want 500 as the real server", bad, status)
		}
	}
	if status, _ := post(t, base, "/datastreams/find_entries/timestamp", query{"user": "u", "key_list": labels}); status != 500 {
		t.Errorf("find_entries without bounds: %d, want 500", status)
	}
}

func TestDerivedTripEntries(t *testing.T) {
	srv, base := samples(t)
	q := query{"user": "samples", "key_list": []string{openpath.KeyConfirmedTrip}, "start_time": 0, "end_time": 2e9}
	entries := mustPost(t, base, "/datastreams/find_entries/timestamp", q).Get("phone_data").Array()
	again := mustPost(t, start(t, srv), "/datastreams/find_entries/timestamp", q).Get("phone_data").Array()
	prev := math.Inf(-1)
	for i, e := range entries {
		w := e.Get("metadata.write_ts").Float()
		end := e.Get("data.end_ts").Float()
		if w < prev || w < end+300 || w > end+3600 {
			t.Errorf("entry %d: write_ts %v for a trip ending at %v (previous %v)", i, w, end, prev)
		}
		prev = w
		if again[i].Raw != e.Raw {
			t.Errorf("entry %d differs between two requests", i)
		}
		if e.Get("metadata.key").String() != openpath.KeyConfirmedTrip || e.Get("data.start_local_dt.year").Int() < 2015 {
			t.Errorf("entry %d: %.300s", i, e.Raw)
		}
		day := e.Get("data.start_fmt_time").String()[:10]
		tl := mustPost(t, base, "/timeline/getTrips/"+day, query{"user": "samples"})
		cleaned := e.Get("data.cleaned_trip.$oid").String()
		if !tl.Get(fmt.Sprintf(`timeline.#(id==%q)`, cleaned)).Exists() {
			t.Errorf("entry %d: data.cleaned_trip %s is not in getTrips/%s", i, cleaned, day)
		}
	}
	// A second server over the same data gives the same write times: repeated runs see the same data.
	srv2, base2 := samples(t)
	_ = srv2
	other := mustPost(t, base2, "/datastreams/find_entries/timestamp", q).Get("phone_data").Array()
	for i := range entries {
		if other[i].Raw != entries[i].Raw {
			t.Fatalf("entry %d differs between two servers", i)
		}
	}
}

var oidRE = regexp.MustCompile(`"[0-9a-f]{24}"`)

func TestResetPipeline(t *testing.T) {
	srv, base := samples(t)
	day := "2016-07-27"
	before := mustPost(t, base, "/timeline/getTrips/"+day, query{"user": "samples"}).Get("timeline").Array()
	labelsBefore := mustPost(t, base, "/datastreams/find_entries/timestamp", query{"user": "samples", "key_list": openpath.LabelKeys(), "start_time": 0, "end_time": 2e9}).Raw
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := srv.ResetPipeline("samples", at); err != nil {
		t.Fatal(err)
	}
	after := mustPost(t, base, "/timeline/getTrips/"+day, query{"user": "samples"}).Get("timeline").Array()
	if len(after) != len(before) || len(after) != 22 {
		t.Fatalf("%d trips after the reset, %d before", len(after), len(before))
	}
	for i := range after {
		a, b := after[i], before[i]
		if a.Get("id").String() == b.Get("id").String() {
			t.Errorf("trip %d kept its id %s", i, a.Get("id"))
		}
		if a.Get("properties.start_ts").Raw != b.Get("properties.start_ts").Raw || a.Get("properties.end_ts").Raw != b.Get("properties.end_ts").Raw {
			t.Errorf("trip %d changed its span", i)
		}
		// Same bytes except the ids, and the sections point at the new trip id.
		if oidRE.ReplaceAllString(a.Raw, `"id"`) != oidRE.ReplaceAllString(b.Raw, `"id"`) {
			t.Errorf("trip %d changed beyond its ids", i)
		}
		if got := a.Get(`features.#(type=="FeatureCollection").features.0.properties.trip_id.$oid`).String(); got != a.Get("id").String() {
			t.Errorf("trip %d: section trip_id %s, trip id %s", i, got, a.Get("id"))
		}
	}
	entries := mustPost(t, base, "/datastreams/find_entries/timestamp", query{"user": "samples",
		"key_list": []string{openpath.KeyCleanedTrip, openpath.KeyCompositeTrip}, "start_time": float64(at.Unix()), "end_time": float64(at.Unix()) + 3600}).Get("phone_data").Array()
	if len(entries) != 76+7 {
		t.Errorf("%d trip entries written after the reset, want all 83", len(entries))
	}
	for _, e := range entries {
		if e.Get("metadata.key").String() == openpath.KeyCompositeTrip && e.Get("metadata.write_ts").Float() < float64(at.Unix()) {
			t.Errorf("composite entry not rewritten: %.200s", e.Raw)
		}
	}
	if got := mustPost(t, base, "/datastreams/find_entries/timestamp", query{"user": "samples", "key_list": openpath.LabelKeys(), "start_time": 0, "end_time": 2e9}).Raw; got != labelsBefore {
		t.Error("a pipeline reset changed the user's labels")
	}
	// A second reset gives other ids again.
	if err := srv.ResetPipeline("samples", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	again := mustPost(t, base, "/timeline/getTrips/"+day, query{"user": "samples"}).Get("timeline.0.id").String()
	if again == after[0].Get("id").String() || again == before[0].Get("id").String() {
		t.Errorf("second reset: id %s", again)
	}
	if sum, _ := srv.User("samples"); sum.Resets != 2 {
		t.Errorf("Resets = %d", sum.Resets)
	}
}

func TestAddLabelsLater(t *testing.T) {
	srv := newServer(t, devserver.Options{})
	if err := srv.SetUser("u", &devserver.UserData{}); err != nil {
		t.Fatal(err)
	}
	base := start(t, srv)
	q := query{"user": "u", "key_list": openpath.LabelKeys(), "start_time": 0, "end_time": 1e10}
	if n := len(mustPost(t, base, "/datastreams/find_entries/timestamp", q).Get("phone_data").Array()); n != 0 {
		t.Fatalf("%d labels before", n)
	}
	if err := srv.AddLabels("u", label(t, openpath.KeyReplacedMode, "no_travel", 10, 20, 30, "")); err != nil {
		t.Fatal(err)
	}
	got := mustPost(t, base, "/datastreams/find_entries/timestamp", q).Get("phone_data")
	if got.Get("#").Int() != 1 || got.Get("0.data.label").String() != "no_travel" || len(got.Get("0._id.$oid").String()) != 24 {
		t.Errorf("after AddLabels: %s", got.Raw)
	}
	if err := srv.AddLabels("nobody", label(t, openpath.KeyModeConfirm, "bike", 1, 2, 3, "")); err == nil {
		t.Error("AddLabels to an unknown user succeeded")
	}
	if err := srv.AddLabels("u", json.RawMessage(`{"data": {}}`)); err == nil {
		t.Error("AddLabels accepted an entry without metadata")
	}
}

func TestGeneratedUsers(t *testing.T) {
	gen, err := tripgen.New(tripgen.Config{Users: 2, Days: 20, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, devserver.Options{})
	tokens := srv.AddGenerated(gen)
	if !slices.Equal(tokens, []string{"user001", "user002"}) {
		t.Fatalf("tokens %v", tokens)
	}
	base := start(t, srv)
	for d := range 20 {
		want := gen.Day(1, d)
		for _, tr := range want {
			date := openpath.DateOf(tr.Start())
			got := mustPost(t, base, "/timeline/getTrips/"+date.String(), query{"user": "user002"}).Get(fmt.Sprintf(`timeline.#(id==%q)`, tr.ID))
			if got.Raw != string(tr.AppendGeoJSON(nil)) {
				t.Fatalf("getTrips/%s does not serve trip %s as generated", date, tr.ID)
			}
		}
	}
	labels := mustPost(t, base, "/datastreams/find_entries/timestamp", query{"user": "user001", "key_list": openpath.LabelKeys(), "start_time": 0, "end_time": 2e9}).Get("phone_data").Array()
	if len(labels) == 0 {
		t.Fatal("no labels for a generated user")
	}
	for _, l := range labels {
		if l.Get("data.label").String() == "" || l.Get("user_id.$uuid").String() != gen.Users()[0].UUID {
			t.Errorf("label %.300s", l.Raw)
		}
	}
	if err := srv.ResetPipeline("user001", time.Now()); err != nil {
		t.Fatal(err)
	}
	first := gen.Day(0, 0)[0]
	got := mustPost(t, base, "/timeline/getTrips/"+openpath.DateOf(first.Start()).String(), query{"user": "user001"}).Get("timeline.0")
	if got.Get("id").String() == first.ID || got.Get("properties.start_ts").Float() != first.StartTS() {
		t.Errorf("after a reset: id %s (was %s), start %v (was %v)", got.Get("id"), first.ID, got.Get("properties.start_ts"), first.StartTS())
	}
}

// faultRun sends the same sequence of requests and returns the statuses, "cut" for a truncated answer.
func faultRun(t *testing.T, seed int64) []string {
	t.Helper()
	srv := newServer(t, devserver.Options{Seed: seed, Faults: devserver.Faults{FailRate: 0.3, TruncateRate: 0.3}})
	gen, _ := tripgen.New(tripgen.Config{Users: 1, Days: 3, Seed: 1})
	srv.AddGenerated(gen)
	base := start(t, srv)
	var out []string
	for i := range 40 {
		path := fmt.Sprintf("/timeline/getTrips/2025-03-%02d", 17+i%3)
		resp, err := http.Post(base+path, "application/json", strings.NewReader(`{"user": "user001"}`))
		if err != nil {
			out = append(out, "conn")
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case err != nil || (resp.StatusCode == 200 && !json.Valid(body)):
			out = append(out, "cut")
		default:
			out = append(out, fmt.Sprint(resp.StatusCode))
		}
	}
	st := srv.Stats()
	if st.Failed == 0 || st.Truncated == 0 || st.Requests["/timeline/getTrips"] != 40 {
		t.Errorf("stats %+v", st)
	}
	return out
}

func TestFaultsReproducible(t *testing.T) {
	a, b, c := faultRun(t, 1), faultRun(t, 1), faultRun(t, 2)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different faults:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("different seeds, same faults: %v", a)
	}
	counts := map[string]int{}
	for _, s := range a {
		counts[s]++
	}
	if counts["500"] == 0 || counts["cut"] == 0 || counts["200"] == 0 {
		t.Errorf("faults %v", counts)
	}
	t.Logf("40 requests at fail 0.3, truncate 0.3: %v", counts)
}

func TestFaultOptionsValidated(t *testing.T) {
	for _, f := range []devserver.Faults{{FailRate: -0.1}, {FailRate: 1.5}, {TruncateRate: 2}, {Latency: -time.Second}} {
		if _, err := devserver.New(devserver.Options{Faults: f}); err == nil {
			t.Errorf("New accepted %+v", f)
		}
	}
}

func TestLoadDirErrors(t *testing.T) {
	if _, err := devserver.LoadDir(t.TempDir()); err == nil {
		t.Error("LoadDir of an empty directory succeeded")
	}
	if _, err := devserver.LoadDir("/does/not/exist"); err == nil {
		t.Error("LoadDir of a missing directory succeeded")
	}
}

// Generated users are a current server's: each trip is also an analysis/composite_trip entry,
// written with the trip, that converts to the same trip as its getTrips FeatureCollection; with
// TimelineOnly they are an old server's, without composite entries.
func TestGeneratedCompositeTrips(t *testing.T) {
	gen, err := tripgen.New(tripgen.Config{Users: 1, Days: 10, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	all := query{"user": "user001", "key_list": []string{openpath.KeyCompositeTrip}, "start_time": 0, "end_time": 2e9}
	srv := newServer(t, devserver.Options{})
	srv.AddGenerated(gen)
	base := start(t, srv)
	entries := mustPost(t, base, "/datastreams/find_entries/timestamp", all).Get("phone_data").Array()
	var want []tripgen.Trip
	for d := range 10 {
		want = append(want, gen.Day(0, d)...)
	}
	if len(entries) != len(want) || len(want) == 0 {
		t.Fatalf("%d composite entries for %d trips", len(entries), len(want))
	}
	byStart := map[float64]tripgen.Trip{}
	for _, tr := range want {
		byStart[tr.StartTS()] = tr
	}
	now := time.Now()
	for _, e := range entries {
		tr, ok := byStart[e.Get("data.start_ts").Float()]
		if !ok {
			t.Fatalf("composite entry of no trip: %.300s", e.Raw)
		}
		if e.Get("metadata.key").String() != openpath.KeyCompositeTrip || e.Get("metadata.write_ts").Float() != tr.ProcessedTS {
			t.Errorf("metadata %s, want the composite key written at %v", e.Get("metadata").Raw, tr.ProcessedTS)
		}
		doc, err := openpath.FromComposite([]byte(e.Raw), openpath.Origin{Device: "d"}, now)
		if err != nil {
			t.Fatalf("FromComposite: %v", err)
		}
		timeline, err := openpath.FromTimeline(tr.AppendGeoJSON(nil), openpath.Origin{Device: "d"}, now)
		if err != nil {
			t.Fatal(err)
		}
		gotRoute, err := doc.Route()
		if err != nil {
			t.Fatal(err)
		}
		wantRoute, _ := timeline.Route()
		if doc.ID != timeline.ID || doc.Server.StartTS != tr.StartTS() || doc.Server.EndTS != tr.EndTS() ||
			len(gotRoute.Sections) != len(wantRoute.Sections) {
			t.Errorf("composite trip %s converts to %s %v-%v with %d sections, want %s %v-%v with %d",
				tr.ID, doc.ID, doc.Server.StartTS, doc.Server.EndTS, len(gotRoute.Sections), timeline.ID, tr.StartTS(), tr.EndTS(), len(wantRoute.Sections))
			continue
		}
		for i, s := range gotRoute.Sections {
			if s.SensedMode != wantRoute.Sections[i].SensedMode {
				t.Errorf("trip %s section %d: mode %q, want %q", tr.ID, i, s.SensedMode, wantRoute.Sections[i].SensedMode)
			}
		}
	}

	old := newServer(t, devserver.Options{TimelineOnly: true})
	old.AddGenerated(gen)
	if n := len(mustPost(t, start(t, old), "/datastreams/find_entries/timestamp", all).Get("phone_data").Array()); n != 0 {
		t.Errorf("a timeline-only server answers %d composite entries", n)
	}
}
