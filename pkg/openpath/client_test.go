package openpath_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/sampledata"
	"github.com/coachco2/coachco2/pkg/syncbuf"
	"github.com/coachco2/coachco2/pkg/tripgen"
	"github.com/tidwall/gjson"
)

// fastRetries retries quickly, for tests.
func fastRetries(n int) openpath.Option {
	return openpath.WithRetryPolicy(openpath.RetryPolicy{MaxRetries: n, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
}

func newClient(t testing.TB, url, token string, opts ...openpath.Option) *openpath.Client {
	t.Helper()
	c, err := openpath.New(url, token, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newDevserver(t testing.TB, opts devserver.Options) (*devserver.Server, string) {
	t.Helper()
	srv, err := devserver.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts.URL
}

// serveSamples serves the shared samples directory as one user, "samples".
func serveSamples(t testing.TB, opts devserver.Options) (*devserver.Server, string) {
	t.Helper()
	data, err := devserver.LoadDir(sampledata.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	srv, url := newDevserver(t, opts)
	if err := srv.SetUser("samples", data); err != nil {
		t.Fatal(err)
	}
	return srv, url
}

// syncAll discovers every trip from the confirmed_trip entries and fetches them day by day, the way a
// connector does; it returns the trips by id.
func syncAll(ctx context.Context, t testing.TB, c *openpath.Client) (map[string]openpath.Trip, error) {
	span, err := c.PipelineRange(ctx)
	if err != nil {
		return nil, err
	}
	if span.Empty {
		return nil, nil
	}
	entries, err := c.FindEntries(ctx, openpath.EntryQuery{
		Keys: []string{openpath.KeyConfirmedTrip}, Start: span.StartTS, End: span.EndTS, KeyTime: openpath.KeyTimeStartTS,
	})
	if err != nil {
		return nil, err
	}
	var days []openpath.Date
	for _, e := range entries {
		h, err := e.TripHeader()
		if err != nil {
			t.Fatalf("entry %s: %v", e.ID, err)
		}
		day, err := h.StartDate()
		if err != nil {
			t.Fatalf("entry %s: %v", e.ID, err)
		}
		days = append(days, day)
	}
	slices.SortFunc(days, openpath.Date.Compare)
	trips := map[string]openpath.Trip{}
	for _, day := range slices.Compact(days) {
		got, err := c.Trips(ctx, day)
		if err != nil {
			return nil, err
		}
		for _, tr := range got {
			trips[tr.ID] = tr
		}
	}
	return trips, nil
}

func sectionCount(raw []byte) int {
	n := 0
	gjson.GetBytes(raw, "features").ForEach(func(_, f gjson.Result) bool {
		if f.Get("type").String() == "FeatureCollection" {
			n += int(f.Get(`features.#(properties.feature_type=="section")#|#`).Int())
		}
		return true
	})
	return n
}

func TestSamples(t *testing.T) {
	_, url := serveSamples(t, devserver.Options{})
	c := newClient(t, url, "samples")
	ctx := t.Context()
	trips, err := syncAll(ctx, t, c)
	if err != nil {
		t.Fatal(err)
	}
	sections := 0
	for id, tr := range trips {
		sections += sectionCount(tr.Raw)
		if tr.StartTS == 0 || tr.EndTS <= tr.StartTS || tr.StartFmtTime == "" || tr.Distance <= 0 {
			t.Errorf("trip %s: header %+v", id, tr.TripHeader)
		}
		if !json.Valid(tr.Raw) || !bytes.HasPrefix(bytes.TrimSpace(tr.Raw), []byte("{")) {
			t.Errorf("trip %s: raw is not a JSON object", id)
		}
		day, err := tr.StartDate()
		if err != nil || day.String() != tr.StartFmtTime[:10] {
			t.Errorf("trip %s: start date %v (%v), fmt time %s", id, day, err, tr.StartFmtTime)
		}
	}
	if len(trips) != 76 || sections != 114 {
		t.Errorf("%d distinct trips, %d sections; want 76 and 114", len(trips), sections)
	}

	entries, err := c.FindEntries(ctx, openpath.EntryQuery{Keys: openpath.LabelKeys(), Start: 0, End: 2e9})
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]int{}
	for _, e := range entries {
		l, err := e.Label()
		if err != nil {
			t.Errorf("label %s: %v", e.ID, err)
			continue
		}
		values[l.Value]++
		if l.EndTS <= l.StartTS || l.StartLocalDt.Timezone == "" || e.Metadata.WriteTS == 0 || len(e.ID) != 24 || len(e.UserID) != 32 {
			t.Errorf("label %s: %+v, metadata %+v, user %q", e.ID, l, e.Metadata, e.UserID)
		}
		// Each label overlaps the trip it was given for.
		best := 0.0
		for _, tr := range trips {
			best = max(best, l.Overlap(tr.StartTS, tr.EndTS))
		}
		if best <= 0 {
			t.Errorf("label %s (%s %s) overlaps no trip", e.ID, e.Metadata.Key, l.Value)
		}
	}
	if len(entries) != 37 || values["bike"] != 6 || values["karate"] != 1 || values["Not a trip"] != 1 {
		t.Errorf("%d labels, values %v", len(entries), values)
	}
	if ts, ok, err := c.CompleteTS(ctx); err != nil || !ok || ts < 1.4e9 {
		t.Errorf("CompleteTS = %v, %v, %v", ts, ok, err)
	}
	st := c.Stats()
	if st.Routes[openpath.RouteGetTrips].Items != 76 || st.Total().Retries != 0 || st.Total().Failures != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestLocalDay checks the trips just after local midnight (the previous day in UTC) are returned for
// their local day, and only for it.
func TestLocalDay(t *testing.T) {
	gen, err := tripgen.New(tripgen.Config{Users: 6, Days: 28, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	srv, url := newDevserver(t, devserver.Options{})
	srv.AddGenerated(gen)
	ctx := t.Context()
	checked := 0
	for _, p := range gen.Users() {
		c := newClient(t, url, p.Token)
		gen.Trips(p.Index, func(day int, tr *tripgen.Trip) bool {
			start := tr.Start()
			if start.Hour() != 0 {
				return true
			}
			local, utc := openpath.DateOf(start), openpath.DateOf(start.UTC())
			if local == utc {
				t.Fatalf("trip %s at %v: not the previous day in UTC", tr.ID, start)
			}
			has := func(d openpath.Date) bool {
				trips, err := c.Trips(ctx, d)
				if err != nil {
					t.Fatal(err)
				}
				return slices.ContainsFunc(trips, func(x openpath.Trip) bool { return x.ID == tr.ID })
			}
			if !has(local) || has(utc) {
				t.Errorf("trip %s starting %v: in getTrips/%v %v, in getTrips/%v (UTC) %v", tr.ID, start, local, has(local), utc, has(utc))
			}
			checked++
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no trip just after local midnight in the generated data")
	}
}

func TestFindEntriesInclusiveAndSorted(t *testing.T) {
	_, url := serveSamples(t, devserver.Options{})
	c := newClient(t, url, "samples")
	ctx := t.Context()
	all, err := c.FindEntries(ctx, openpath.EntryQuery{Keys: []string{openpath.KeyConfirmedTrip, openpath.KeyModeConfirm}, Start: 0, End: 2e9})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(all, func(a, b openpath.Entry) int {
		if a.Metadata.WriteTS != b.Metadata.WriteTS {
			return compare(a.Metadata.WriteTS, b.Metadata.WriteTS)
		}
		return strings.Compare(a.ID, b.ID)
	}) {
		t.Error("entries are not sorted by write_ts then _id")
	}
	// Bounds equal to entries' write times include those entries.
	lo, hi := all[10].Metadata.WriteTS, all[20].Metadata.WriteTS
	got, err := c.FindEntries(ctx, openpath.EntryQuery{Keys: []string{openpath.KeyConfirmedTrip, openpath.KeyModeConfirm}, Start: lo, End: hi})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 11 || got[0].ID != all[10].ID || got[10].ID != all[20].ID {
		t.Errorf("[%v, %v]: %d entries from %s to %s, want 11 from %s to %s", lo, hi, len(got), got[0].ID, got[len(got)-1].ID, all[10].ID, all[20].ID)
	}
	last, err := c.FindEntries(ctx, openpath.EntryQuery{Keys: []string{openpath.KeyConfirmedTrip, openpath.KeyModeConfirm}, Start: 0, End: 2e9, MaxEntries: 3, Trunc: openpath.TruncLast})
	if err != nil || len(last) != 3 || last[2].ID != all[len(all)-1].ID {
		t.Errorf("last 3: %d entries, %v", len(last), err)
	}
	for _, q := range []openpath.EntryQuery{{}, {Keys: []string{"x"}, Start: 2, End: 1}, {Keys: []string{"x"}, MaxEntries: 3}} {
		if _, err := c.FindEntries(ctx, q); err == nil {
			t.Errorf("FindEntries(%+v) accepted", q)
		}
	}
}

func compare(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestAuthRefusedNotRetried(t *testing.T) {
	srv, url := serveSamples(t, devserver.Options{})
	c := newClient(t, url, "not-a-user", fastRetries(5))
	_, err := c.PipelineRange(t.Context())
	var ae *openpath.AuthError
	if !errors.Is(err, openpath.ErrAuthRefused) || !errors.As(err, &ae) || ae.StatusCode != 403 || ae.Route != string(openpath.RouteRangeTS) {
		t.Fatalf("err = %v (%#v), want a 403 AuthError", err, err)
	}
	if errors.Is(err, openpath.ErrServerDown) || errors.Is(err, openpath.ErrMalformed) {
		t.Errorf("a refusal also matches other sentinels: %v", err)
	}
	if n := srv.Stats().Requests["/pipeline/get_range_ts"]; n != 1 {
		t.Errorf("%d requests reached the server, want 1 (no retry)", n)
	}
	if st := c.Stats().Routes[openpath.RouteRangeTS]; st.Requests != 1 || st.Failures != 1 || st.Retries != 0 {
		t.Errorf("client stats %+v", st)
	}
	if ae.Message != "no account found for this token" || !strings.Contains(err.Error(), "(server said: no account found for this token)") {
		t.Errorf("the server's explanation is missing: %v", err)
	}
}

// TestRetriesConverge: with 20% of answers 500 and 20% cut mid-JSON, a sync still gets exactly what
// a clean server gives.
func TestRetriesConverge(t *testing.T) {
	_, cleanURL := serveSamples(t, devserver.Options{})
	want, err := syncAll(t.Context(), t, newClient(t, cleanURL, "samples"))
	if err != nil {
		t.Fatal(err)
	}
	srv, url := serveSamples(t, devserver.Options{Seed: 7, Faults: devserver.Faults{FailRate: 0.2, TruncateRate: 0.2}})
	c := newClient(t, url, "samples", fastRetries(12))
	got, err := syncAll(t.Context(), t, c)
	if err != nil {
		t.Fatalf("sync under faults: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d trips under faults, %d clean", len(got), len(want))
	}
	for id, tr := range want {
		if !bytes.Equal(got[id].Raw, tr.Raw) {
			t.Errorf("trip %s differs under faults", id)
		}
	}
	st, sst := c.Stats().Total(), srv.Stats()
	if st.Retries == 0 || sst.Failed == 0 || sst.Truncated == 0 || st.Failures != 0 {
		t.Errorf("client %+v, server %+v: faults were not exercised", st, sst)
	}
	t.Logf("%d calls, %d requests, %d retries; server injected %d 500s and %d cut answers", st.Calls, st.Requests, st.Retries, sst.Failed, sst.Truncated)
}

func TestServerDown(t *testing.T) {
	srv, url := serveSamples(t, devserver.Options{Faults: devserver.Faults{FailRate: 1}})
	for _, retries := range []int{0, 3} {
		c := newClient(t, url, "samples", fastRetries(retries))
		before := srv.Stats().Requests["/timeline/getTrips"]
		_, err := c.Trips(t.Context(), openpath.Date{Year: 2016, Month: 6, Day: 20})
		var se *openpath.ServerError
		if !errors.Is(err, openpath.ErrServerDown) || !errors.As(err, &se) || se.StatusCode != 500 || se.Attempts != retries+1 {
			t.Fatalf("retries %d: err = %v", retries, err)
		}
		if se.Route != "/timeline/getTrips/2016-06-20" || !strings.Contains(err.Error(), "injected fault") {
			t.Errorf("error %q should name the route and carry the server's message", err)
		}
		if n := srv.Stats().Requests["/timeline/getTrips"] - before; n != int64(retries+1) {
			t.Errorf("retries %d: %d requests", retries, n)
		}
	}
	// Nobody listening: a connection error, retried, then ErrServerDown.
	c := newClient(t, "http://127.0.0.1:1", "samples", fastRetries(1))
	if _, err := c.PipelineRange(t.Context()); !errors.Is(err, openpath.ErrServerDown) {
		t.Errorf("no server: %v", err)
	}
}

func TestMalformedAnswers(t *testing.T) {
	srv, url := serveSamples(t, devserver.Options{Faults: devserver.Faults{TruncateRate: 1}})
	c := newClient(t, url, "samples", fastRetries(3))
	_, err := c.Trips(t.Context(), openpath.Date{Year: 2016, Month: 7, Day: 27})
	var me *openpath.MalformedError
	if !errors.Is(err, openpath.ErrMalformed) || !errors.As(err, &me) || me.Attempts != 4 {
		t.Fatalf("err = %v", err)
	}
	if me.Route != "/timeline/getTrips/2016-07-27" || me.Offset <= 0 || !strings.Contains(err.Error(), fmt.Sprintf("at byte %d", me.Offset)) {
		t.Errorf("error %q should name the route and the byte offset", err)
	}
	if srv.Stats().Truncated != 4 {
		t.Errorf("server stats %+v", srv.Stats())
	}
}

// TestAnswersOfRealServers covers answers a real server gives that the devserver does not: nulls
// where e-mission writes None, unknown fields, ids in extended JSON, HTML error pages.
func TestAnswersOfRealServers(t *testing.T) {
	answers := map[string]string{
		"/pipeline/get_range_ts":              `{"start_ts": null, "end_ts": null}`,
		"/pipeline/get_complete_ts":           `{"complete_ts": null, "extra": [1, {"x": null}]}`,
		"/datastreams/find_entries/timestamp": `{"phone_data": [{"_id": {"$oid": "5fd7b7bdf181cd8feb045f29"}, "user_id": {"$binary": "ERS+/OJ3TPiblQbc2/OlLQ==", "$type": "03"}, "metadata": {"key": "manual/mode_confirm", "write_ts": 1607970514, "future": true}, "data": {"start_ts": 1, "end_ts": 2, "label": "bike"}}], "more": {"a": [1, 2]}}`,
		"/timeline/getTrips/2016-07-27":       `{"timeline": []}`,
		"/timeline/getTrips/2016-07-28":       `{"timeline": [{"type": "FeatureCollection", "id": {"$oid": "57cf6672f6858f4e2c23814c"}, "features": [], "properties": {"start_ts": 5, "end_ts": 6, "start_fmt_time": "2016-07-28T23:59:00-07:00"}}]}`,
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a, ok := answers[r.URL.Path]; ok {
			io.WriteString(w, a)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `<html><body><h1>Error: 400 Bad Request</h1><pre>bad day</pre></body></html>`)
	}))
	defer ts.Close()
	c := newClient(t, ts.URL, "tok", fastRetries(2))
	ctx := t.Context()
	if r, err := c.PipelineRange(ctx); err != nil || !r.Empty {
		t.Errorf("PipelineRange = %+v, %v; want Empty", r, err)
	}
	if _, ok, err := c.CompleteTS(ctx); err != nil || ok {
		t.Errorf("CompleteTS: ok %v, %v", ok, err)
	}
	entries, err := c.FindEntries(ctx, openpath.EntryQuery{Keys: openpath.LabelKeys(), End: 1})
	if err != nil || len(entries) != 1 {
		t.Fatalf("FindEntries = %d, %v", len(entries), err)
	}
	e := entries[0]
	if e.ID != "5fd7b7bdf181cd8feb045f29" || e.UserID != "1114befce2774cf89b9506dcdbf3a52d" || e.Metadata.WriteTS != 1607970514 {
		t.Errorf("entry %+v", e)
	}
	if l, err := e.Label(); err != nil || l.Value != "bike" {
		t.Errorf("Label = %+v, %v", l, err)
	}
	if string(e.Data()) != `{"start_ts": 1, "end_ts": 2, "label": "bike"}` {
		t.Errorf("Data = %s", e.Data())
	}
	if trips, err := c.Trips(ctx, openpath.Date{Year: 2016, Month: 7, Day: 27}); err != nil || len(trips) != 0 {
		t.Errorf("empty timeline: %v, %v", trips, err)
	}
	trips, err := c.Trips(ctx, openpath.Date{Year: 2016, Month: 7, Day: 28})
	if err != nil || len(trips) != 1 || trips[0].ID != "57cf6672f6858f4e2c23814c" {
		t.Fatalf("Trips = %+v, %v", trips, err)
	}
	if d, err := trips[0].StartDate(); err != nil || d.String() != "2016-07-28" {
		t.Errorf("StartDate from start_fmt_time = %v, %v", d, err)
	}
	_, err = c.Trips(ctx, openpath.Date{Year: 2016, Month: 7, Day: 29})
	var se *openpath.StatusError
	// An explanation the client does not recognize is not quoted.
	if !errors.As(err, &se) || se.StatusCode != 400 || se.Message != "" || strings.Contains(err.Error(), "bad day") || errors.Is(err, openpath.ErrServerDown) {
		t.Errorf("400: %v", err)
	}
	if st := c.Stats().Routes[openpath.RouteGetTrips]; st.Requests != 3 {
		t.Errorf("a 400 was retried: %+v", st)
	}
}

// TestAnswerWithoutPayload: an answer that lacks its list or fields ({}, a null field, an error
// object, a wrong type) is malformed, retried, then an ErrMalformed error, on every route; never
// "no trips" or "nothing processed yet".
func TestAnswerWithoutPayload(t *testing.T) {
	bad := []string{`{}`, `null`, `{"error": "database busy"}`, `{"phone_data": null, "timeline": null, "start_ts": null}`,
		`{"phone_data": {}, "timeline": "none", "start_ts": "x", "end_ts": 1, "complete_ts": "x"}`, `{"phone_data": [null], "timeline": [null], "start_ts": 1, "end_ts": null}`}
	for _, answer := range bad {
		var requests sync.Map
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, _ := requests.LoadOrStore(r.URL.Path, new(atomic.Int64))
			n.(*atomic.Int64).Add(1)
			io.WriteString(w, answer)
		}))
		c := newClient(t, ts.URL, "tok", fastRetries(2))
		ctx := t.Context()
		calls := map[string]func() error{
			"/pipeline/get_range_ts": func() error {
				r, err := c.PipelineRange(ctx)
				if r.Empty {
					t.Errorf("%s: PipelineRange read as Empty", answer)
				}
				return err
			},
			"/pipeline/get_complete_ts": func() error { _, _, err := c.CompleteTS(ctx); return err },
			"/datastreams/find_entries/timestamp": func() error {
				_, err := c.FindEntries(ctx, openpath.EntryQuery{Keys: []string{openpath.KeyCompositeTrip}, End: 1})
				return err
			},
			"/timeline/getTrips/2016-07-27": func() error {
				_, err := c.Trips(ctx, openpath.Date{Year: 2016, Month: 7, Day: 27})
				return err
			},
		}
		for route, call := range calls {
			err := call()
			var me *openpath.MalformedError
			if !errors.Is(err, openpath.ErrMalformed) || !errors.As(err, &me) || me.Attempts != 3 || me.Route != route {
				t.Errorf("%s %s: err = %v, want ErrMalformed after 3 attempts", route, answer, err)
			}
			if n, _ := requests.Load(route); n == nil || n.(*atomic.Int64).Load() != 3 {
				t.Errorf("%s %s: not retried", route, answer)
			}
		}
		ts.Close()
	}

	// What a real server answers when there is nothing: empty lists and null times.
	srv, url := newDevserver(t, devserver.Options{})
	if err := srv.SetUser("new-user", &devserver.UserData{}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, url, "new-user")
	ctx := t.Context()
	if r, err := c.PipelineRange(ctx); err != nil || !r.Empty {
		t.Errorf("new user: PipelineRange = %+v, %v; want Empty", r, err)
	}
	if _, ok, err := c.CompleteTS(ctx); err != nil || ok {
		t.Errorf("new user: CompleteTS ok = %v, %v", ok, err)
	}
	if e, err := c.FindEntries(ctx, openpath.EntryQuery{Keys: openpath.LabelKeys(), End: 2e9}); err != nil || len(e) != 0 {
		t.Errorf("new user: FindEntries = %d, %v", len(e), err)
	}
	if trips, err := c.Trips(ctx, openpath.Date{Year: 2016, Month: 7, Day: 27}); err != nil || len(trips) != 0 {
		t.Errorf("new user: Trips = %v, %v; want none", trips, err)
	}
}

// TestAnswerSizeCap: an answer over the cap fails after reading at most the cap, without a retry
// and naming the cap; an answer of exactly the cap is read; a Content-Length over the cap fails
// before reading anything.
func TestAnswerSizeCap(t *testing.T) {
	const limit = 256 << 10
	var written atomic.Int64
	stopped := make(chan struct{}, 16)
	endless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { stopped <- struct{}{} }()
		// An answer that never ends: one entry whose place name grows forever.
		if _, err := io.WriteString(w, `{"phone_data": [{"data": {"display_name": "`); err != nil {
			return
		}
		chunk := []byte(strings.Repeat("Rue de la République ", 1000))
		for r.Context().Err() == nil {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer endless.Close()
	c := newClient(t, endless.URL, "tok", fastRetries(3), openpath.WithMaxAnswerBytes(limit))
	_, err := c.FindEntries(t.Context(), openpath.EntryQuery{Keys: []string{openpath.KeyCompositeTrip}, End: 1})
	if !errors.Is(err, openpath.ErrAnswerTooLarge) || !errors.Is(err, openpath.ErrMalformed) || !strings.Contains(err.Error(), "cap of 262144 bytes") {
		t.Fatalf("err = %v, want ErrAnswerTooLarge naming the cap", err)
	}
	<-stopped // the server saw the client go away
	st := c.Stats().Routes[openpath.RouteFindEntries]
	if st.Requests != 1 || st.Retries != 0 {
		t.Errorf("an over-cap answer was retried: %+v", st)
	}
	if st.Bytes > limit {
		t.Errorf("the client read %d bytes, more than the %d-byte cap", st.Bytes, limit)
	}
	t.Logf("client read %d bytes; the server wrote %d before the connection closed", st.Bytes, written.Load())

	// Exactly at the cap: accepted; one byte over: refused. The server declares no length.
	entry := `{"data": {"display_name": "` + strings.Repeat("é", 1000) + `"}}`
	answer := `{"phone_data": [` + entry + `, ` + entry + `]}`
	exact := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, answer[:1]) // flushed: chunked, without Content-Length
		w.(http.Flusher).Flush()
		io.WriteString(w, answer[1:])
	}))
	defer exact.Close()
	for _, limit := range []int64{int64(len(answer)), int64(len(answer)) - 1} {
		c := newClient(t, exact.URL, "tok", fastRetries(3), openpath.WithMaxAnswerBytes(limit))
		entries, err := c.FindEntries(t.Context(), openpath.EntryQuery{Keys: []string{openpath.KeyCompositeTrip}, End: 1})
		if fits := limit == int64(len(answer)); fits != (err == nil) || fits && len(entries) != 2 || !fits && !errors.Is(err, openpath.ErrAnswerTooLarge) {
			t.Errorf("cap %d for a %d-byte answer: %d entries, %v", limit, len(answer), len(entries), err)
		}
	}

	// A declared Content-Length over the cap: nothing is read.
	declared := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		io.WriteString(w, answer)
	}))
	defer declared.Close()
	c = newClient(t, declared.URL, "tok", openpath.WithMaxAnswerBytes(100))
	_, err = c.Trips(t.Context(), openpath.Date{Year: 2016, Month: 7, Day: 27})
	if !errors.Is(err, openpath.ErrAnswerTooLarge) || c.Stats().Total().Bytes != 0 || c.Stats().Total().Requests != 1 {
		t.Errorf("declared length over the cap: %v, stats %+v", err, c.Stats().Total())
	}
	if _, err := openpath.New(declared.URL, "tok", openpath.WithMaxAnswerBytes(0)); err == nil {
		t.Error("New accepted a zero cap")
	}
}

func TestWrongURLRedirects(t *testing.T) {
	_, url := serveSamples(t, devserver.Options{})
	c := newClient(t, url+"/api/", "samples", fastRetries(3))
	_, err := c.PipelineRange(t.Context())
	var se *openpath.StatusError
	if !errors.As(err, &se) || se.StatusCode != 301 || se.Redirect != "to another host" || !strings.Contains(err.Error(), "redirects to another host: check the server URL") {
		t.Fatalf("err = %v", err)
	}
	if n := c.Stats().Total().Requests; n != 1 {
		t.Errorf("%d requests: a redirect is not retried", n)
	}
	if _, err := openpath.New("openpath.example.org", "t"); err == nil {
		t.Error("New accepted a URL without scheme")
	}
	if _, err := openpath.New("https://openpath.example.org", ""); err == nil {
		t.Error("New accepted an empty token")
	}
}

func TestContextCancel(t *testing.T) {
	_, url := serveSamples(t, devserver.Options{Faults: devserver.Faults{Latency: time.Minute}})
	c := newClient(t, url, "samples")
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := c.Trips(ctx, openpath.Date{Year: 2016, Month: 6, Day: 20})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(began) > 30*time.Second {
		t.Errorf("err = %v after %v, want the context's deadline promptly", err, time.Since(began))
	}
	if errors.Is(err, openpath.ErrServerDown) {
		t.Errorf("a cancelled call is not a server outage: %v", err)
	}

	// Cancelled while waiting to retry: once the client says it will retry, not after a while.
	_, url = serveSamples(t, devserver.Options{Faults: devserver.Faults{FailRate: 1}})
	var logs syncbuf.Buffer
	c = newClient(t, url, "samples", openpath.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		openpath.WithRetryPolicy(openpath.RetryPolicy{MaxRetries: 5, InitialBackoff: 20 * time.Second, MaxBackoff: time.Minute}))
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	retrying := logs.Holds("openpath: retrying")
	go func() {
		select {
		case <-retrying:
			cancel()
		case <-ctx.Done():
		}
	}()
	began = time.Now()
	_, err = c.PipelineRange(ctx)
	if !errors.Is(err, context.Canceled) || time.Since(began) > 8*time.Second {
		t.Errorf("err = %v after %v, want context.Canceled promptly", err, time.Since(began))
	}
}

func TestRequestTimeout(t *testing.T) {
	// The server takes a minute: a client that waited for it would take minutes, one that cuts
	// each attempt at 100 ms takes well under the bound below, however loaded the machine.
	_, url := serveSamples(t, devserver.Options{Faults: devserver.Faults{Latency: time.Minute}})
	c := newClient(t, url, "samples", fastRetries(1), openpath.WithRequestTimeout(100*time.Millisecond))
	began := time.Now()
	_, err := c.PipelineRange(t.Context())
	var se *openpath.ServerError
	if !errors.As(err, &se) || se.Attempts != 2 || !strings.Contains(err.Error(), "within 100ms") {
		t.Errorf("err = %v, want ServerDown after 2 timed out attempts", err)
	}
	if took := time.Since(began); took > 30*time.Second {
		t.Errorf("took %v: the attempts were not cut at their timeout", took)
	}
}

// tokenForms returns token as a server may echo it: raw, JSON-escaped the ways Go and Python
// escape (\u0026, \u00e9, \"), every character as \uXXXX, HTML-escaped, URL-escaped, quoted.
func tokenForms(token string) []string {
	goJSON, _ := json.Marshal(token)
	var ascii, all strings.Builder
	for _, r := range token {
		switch {
		case r == '"' || r == '\\':
			ascii.WriteString(`\` + string(r))
		case r < 0x20 || r > 0x7e:
			fmt.Fprintf(&ascii, `\u%04x`, r)
		default:
			ascii.WriteRune(r)
		}
		fmt.Fprintf(&all, `\u%04x`, r)
	}
	forms := []string{token, string(goJSON[1 : len(goJSON)-1]), ascii.String(), all.String(), html.EscapeString(token),
		url.QueryEscape(token), url.PathEscape(token), strconv.Quote(token), strconv.QuoteToASCII(token)}
	slices.Sort(forms)
	return slices.Compact(forms)
}

// echoScenarios are failures of a server that echoes the token of the request in every escaping.
// Each is one way for the token to reach an error: a body, a header, a URL.
var echoScenarios = []string{"401 json", "403 html", "404 text", "500 html", "503 json", "200 error object",
	"200 cut", "200 not json", "302 elsewhere", "303 unreadable", "307 same host", "301 https", "redirect to nowhere"}

func echoServer(t *testing.T, scenario *atomic.Pointer[string]) *httptest.Server {
	t.Helper()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct{ User string }
		_ = json.Unmarshal(body, &req)
		forms := tokenForms(req.User)
		echo := "no account for " + strings.Join(forms, " | ")
		jsonEcho, _ := json.Marshal(map[string]string{"error": echo, "user": req.User})
		page := "<html><body><h1>Error</h1><pre>" + html.EscapeString(echo) + " " + echo + "</pre></body></html>"
		switch *scenario.Load() {
		case "401 json":
			w.WriteHeader(401)
			w.Write(jsonEcho)
		case "403 html":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(403)
			io.WriteString(w, page)
		case "404 text":
			w.WriteHeader(404)
			io.WriteString(w, echo)
		case "500 html":
			w.WriteHeader(500)
			io.WriteString(w, page)
		case "503 json":
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(503)
			w.Write(jsonEcho)
		case "200 error object":
			w.Write(jsonEcho)
		case "200 cut":
			fmt.Fprintf(w, `{"phone_data": [{"user": %s`, jsonEcho)
		case "200 not json":
			io.WriteString(w, echo)
		case "302 elsewhere":
			w.Header().Set("Location", "https://elsewhere.example/"+url.PathEscape(req.User)+"?user="+url.QueryEscape(req.User))
			w.WriteHeader(302)
			io.WriteString(w, page)
		case "303 unreadable":
			w.Header().Set("Location", "https://%zz"+url.PathEscape(req.User)+"/"+req.User)
			w.WriteHeader(303)
		case "307 same host":
			w.Header().Set("Location", "/"+url.PathEscape(req.User)+"/api?user="+url.QueryEscape(req.User))
			w.WriteHeader(307)
		case "301 https":
			w.Header().Set("Location", "https://"+r.Host+"/"+url.PathEscape(req.User))
			w.WriteHeader(301)
		case "redirect to nowhere":
			// Followed by a caller's http.Client (307 keeps the POST): the failing URL holds the token.
			w.Header().Set("Location", "http://127.0.0.1:1/"+url.PathEscape(req.User)+"?user="+url.QueryEscape(req.User))
			w.WriteHeader(307)
		}
	}))
}

// errorTexts calls every route and returns the error texts, in order, with their %+v and %#v forms.
func errorTexts(t *testing.T, c *openpath.Client) (texts, verbose []string) {
	ctx := t.Context()
	var errs []error
	_, err := c.PipelineRange(ctx)
	errs = append(errs, err)
	_, _, err = c.CompleteTS(ctx)
	errs = append(errs, err)
	_, err = c.FindEntries(ctx, openpath.EntryQuery{Keys: openpath.LabelKeys(), End: 2e9})
	errs = append(errs, err)
	_, err = c.Trips(ctx, openpath.Date{Year: 2016, Month: 6, Day: 20})
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			texts = append(texts, "<nil>")
			continue
		}
		texts = append(texts, err.Error())
		verbose = append(verbose, fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
			verbose = append(verbose, u.Error())
		}
	}
	verbose = append(verbose, fmt.Sprintf("%v %+v %#v %s", c, c, c, c))
	return texts, verbose
}

// TestTokenNeverLeaks runs every failure path against a server that echoes the token in every
// escaping, in bodies, headers and redirect URLs, with a debug logger in text and JSON. For
// realistic tokens, no error text nor log line holds the token in any form. For short tokens,
// which are letters of any text, the messages are exactly the client's own: the same as for
// another token, never mangled by a search-and-replace.
func TestTokenNeverLeaks(t *testing.T) {
	realistic := []string{`nrelop_prog_sub_a&b<c"é9f2`, `nrelop_larochelle_test_S3cr3t\/'>é&amp;`, "nrelop_open_default_w8Kq3xZ"}
	short := []string{"t", "p", "http", "é"}
	var scenario atomic.Pointer[string]
	echo := echoServer(t, &scenario)
	defer echo.Close()
	_, devURL := serveSamples(t, devserver.Options{Faults: devserver.Faults{FailRate: 0.5, TruncateRate: 0.5}})
	follow := openpath.WithHTTPClient(&http.Client{}) // follows redirects, unlike the default

	type run struct{ texts, verbose []string }
	runs := map[string]map[string]run{} // scenario -> token -> errors
	var logs syncbuf.Buffer
	for _, token := range append(slices.Clone(realistic), short...) {
		text := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		jsonLog := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		for i, sc := range echoScenarios {
			scenario.Store(&sc)
			log := text
			if i%2 == 1 {
				log = jsonLog
			}
			opts := []openpath.Option{fastRetries(2), openpath.WithLogger(log)}
			if sc == "redirect to nowhere" {
				opts = append(opts, follow)
			}
			texts, verbose := errorTexts(t, newClient(t, echo.URL, token, opts...))
			if runs[sc] == nil {
				runs[sc] = map[string]run{}
			}
			runs[sc][token] = run{texts, verbose}
			log.Info("done", "client", newClient(t, echo.URL, token))
		}
		// The devserver refuses these tokens (403) or fails (500, cut answers), a missing server
		// refuses the connection.
		for name, url := range map[string]string{"devserver": devURL, "no server": "http://127.0.0.1:1"} {
			texts, verbose := errorTexts(t, newClient(t, url, token, fastRetries(2), openpath.WithLogger(text)))
			if runs[name] == nil {
				runs[name] = map[string]run{}
			}
			runs[name][token] = run{texts, verbose}
		}
	}

	allLogs := logs.String()
	for _, token := range realistic {
		for _, form := range append(tokenForms(token), "prog_sub_a", "S3cr3t", "w8Kq3xZ") {
			if !strings.Contains(token, form) && !slices.Contains(tokenForms(token), form) {
				continue
			}
			if strings.Contains(allLogs, form) {
				t.Errorf("token %s: the logs hold %q", token, form)
			}
			for sc, byToken := range runs {
				r := byToken[token]
				for _, text := range append(slices.Clone(r.texts), r.verbose...) {
					if strings.Contains(text, form) {
						t.Errorf("token %s, %s: an error holds %q: %s", token, sc, form, text)
					}
				}
			}
		}
	}
	if strings.Contains(allLogs, "REDACTED") {
		t.Errorf("the logs were redacted by search-and-replace: the token was in them")
	}

	// The same failure gives the same text whatever the token (byte offsets aside: an echo of a
	// longer token is longer).
	digits := regexp.MustCompile(`0x[0-9a-f]+|[0-9]+`)
	failures := 0
	for sc, byToken := range runs {
		ref := byToken[realistic[0]]
		if sc == "devserver" {
			continue // its faults are drawn from the request, token included
		}
		for _, token := range short {
			for i, text := range byToken[token].texts {
				if text == "<nil>" {
					continue
				}
				failures++
				if strings.Contains(text, "REDACTED") || !strings.Contains(text, "openpath: POST /") {
					t.Errorf("%s, token %q: mangled: %s", sc, token, text)
				}
				if digits.ReplaceAllString(text, "N") != digits.ReplaceAllString(ref.texts[i], "N") {
					t.Errorf("%s: the text depends on the token:\n  %q: %s\n  %q: %s", sc, token, text, realistic[0], ref.texts[i])
				}
			}
		}
	}
	if failures < 4*len(short)*len(echoScenarios) {
		t.Errorf("only %d failures: the leak paths were not exercised", failures)
	}
	if !strings.Contains(allLogs, "openpath: retrying") || !strings.Contains(allLogs, "http://127.0.0.1") {
		t.Errorf("retries were not logged, or the client's URL was mangled in the logs:\n%s", allLogs[:min(len(allLogs), 2000)])
	}
	// What the client says about the answers it classifies.
	for sc, want := range map[string]string{
		"403 html":            "the server refused the token",
		"401 json":            "401 Unauthorized",
		"500 html":            "server unavailable after 3 attempt(s): 500 Internal Server Error",
		"200 error object":    `"phone_data" is missing`,
		"200 not json":        "invalid JSON",
		"302 elsewhere":       "redirects to another host",
		"303 unreadable":      "redirects to an unreadable location",
		"307 same host":       "redirects to another path on the same host",
		"301 https":           "redirects to https on the same host: try https://127.0.0.1",
		"redirect to nowhere": "no answer: connection refused",
	} {
		if got := strings.Join(runs[sc]["t"].texts, "\n"); !strings.Contains(got, want) {
			t.Errorf("%s: want %q in\n%s", sc, want, got)
		}
	}
}

func TestDate(t *testing.T) {
	d, err := openpath.ParseDate("2024-02-29")
	if err != nil || d.String() != "2024-02-29" || d.AddDays(1).String() != "2024-03-01" || d.AddDays(-60).String() != "2023-12-31" {
		t.Errorf("ParseDate = %v, %v", d, err)
	}
	for _, bad := range []string{"2023-02-29", "2024-2-29", "20240229", "2024-13-01", "abcd-ef-gh", ""} {
		if _, err := openpath.ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) succeeded", bad)
		}
	}
	if d, err := openpath.DateOfFmtTime("2016-06-20T23:28:03.395000-07:00"); err != nil || d.String() != "2016-06-20" {
		t.Errorf("DateOfFmtTime = %v, %v", d, err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	at := time.Date(2025, 3, 30, 3, 0, 0, 5000, paris) // just after the DST change
	if got := openpath.FormatTime(at); got != "2025-03-30T03:00:00.000005+02:00" {
		t.Errorf("FormatTime = %s", got)
	}
	if got := openpath.FormatTime(at.Add(-5 * time.Microsecond)); got != "2025-03-30T03:00:00+02:00" {
		t.Errorf("FormatTime without fraction = %s", got)
	}
	ld := openpath.NewLocalDate(at)
	if ld.Weekday != 6 || ld.Hour != 3 || ld.Timezone != "Europe/Paris" {
		t.Errorf("NewLocalDate = %+v (Sunday is 6)", ld)
	}
	if got := openpath.TimeOf(1466436483.395).UnixMicro(); got != 1466436483395000 {
		t.Errorf("TimeOf = %d", got)
	}
	if _, err := (openpath.TripHeader{ID: "x"}).StartDate(); !errors.Is(err, openpath.ErrInvalidEntry) {
		t.Errorf("StartDate of an empty header: %v", err)
	}
}

// TestConcurrentUse shares one client between goroutines fetching days under faults: results must
// match a sequential clean fetch, and the counters must add up.
func TestConcurrentUse(t *testing.T) {
	gen, err := tripgen.New(tripgen.Config{Users: 1, Days: 40, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	srv, url := newDevserver(t, devserver.Options{Seed: 3, Faults: devserver.Faults{FailRate: 0.2, TruncateRate: 0.1}})
	token := srv.AddGenerated(gen)[0]
	c := newClient(t, url, token, fastRetries(15))
	ctx := t.Context()
	type result struct {
		day   int
		trips []openpath.Trip
		err   error
	}
	results := make(chan result)
	for d := range 40 {
		go func() {
			trips, err := c.Trips(ctx, gen.Date(d))
			results <- result{d, trips, err}
		}()
	}
	total := 0
	for range 40 {
		r := <-results
		if r.err != nil {
			t.Fatalf("day %d: %v", r.day, r.err)
		}
		want := 0
		for d := max(r.day-1, 0); d <= r.day; d++ {
			for _, tr := range gen.Day(0, d) {
				if openpath.DateOf(tr.Start()) == gen.Date(r.day) {
					want++
					if !slices.ContainsFunc(r.trips, func(x openpath.Trip) bool { return x.ID == tr.ID && bytes.Equal(x.Raw, tr.AppendGeoJSON(nil)) }) {
						t.Errorf("day %d: trip %s missing or different", r.day, tr.ID)
					}
				}
			}
		}
		if len(r.trips) != want {
			t.Errorf("day %d: %d trips, want %d", r.day, len(r.trips), want)
		}
		total += len(r.trips)
	}
	st := c.Stats().Routes[openpath.RouteGetTrips]
	if st.Calls != 40 || st.Items != int64(total) || st.Requests != st.Calls+st.Retries || st.Retries == 0 {
		t.Errorf("stats %+v for %d trips", st, total)
	}
}
