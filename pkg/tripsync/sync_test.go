package tripsync_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/sampledata"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

var couch = vaulttest.NewServer()

func TestMain(m *testing.M) {
	if spec := os.Getenv(devserverEnv); spec != "" {
		os.Exit(serveDevserver(spec)) // the benchmarks' server, in a process of its own
	}
	os.Exit(couch.Run(m))
}

const token = "alice-token"

// env is one test's world: a tracking server, a vault, an account and the engine.
type env struct {
	t       testing.TB
	server  *devserver.Server
	http    *httptest.Server
	vault   *vault.Vault
	trips   *vault.DB
	store   *accounts.Store
	engine  *tripsync.Engine
	account string
}

func newEnv(t testing.TB, b vaulttest.Backend, data *devserver.UserData) *env {
	t.Helper()
	ctx := t.Context()
	srv, err := devserver.New(devserver.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if data != nil {
		if err := srv.SetUser(token, data); err != nil {
			t.Fatal(err)
		}
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	v, _, _ := b.Open(t)
	e := &env{t: t, server: srv, http: hs, vault: v}
	accountsDB, err := v.DB(ctx, vault.DoctypeAccounts)
	if err != nil {
		t.Fatal(err)
	}
	if e.store, err = accounts.Open(ctx, accountsDB, nil); err != nil {
		t.Fatal(err)
	}
	if e.trips, err = v.DB(ctx, vault.DoctypeTrips); err != nil {
		t.Fatal(err)
	}
	if e.engine, err = tripsync.New(ctx, e.trips, e.store); err != nil {
		t.Fatal(err)
	}
	a, _, err := e.store.Ensure(ctx, accounts.New{ServerURL: hs.URL, Token: token, Device: "phone-1"})
	if err != nil {
		t.Fatal(err)
	}
	e.account = a.ID
	return e
}

// sync runs the engine once with a fast-retrying client.
func (e *env) sync(ctx context.Context, opts tripsync.Options) (tripsync.Summary, error) {
	e.t.Helper()
	a, err := e.store.Get(ctx, e.account)
	if err != nil {
		e.t.Fatal(err)
	}
	client, err := openpath.New(e.http.URL, token, openpath.WithRetryPolicy(openpath.RetryPolicy{
		MaxRetries: 8, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}))
	if err != nil {
		e.t.Fatal(err)
	}
	sum, err := e.engine.Sync(ctx, a, client, opts)
	if err == nil {
		addsUp(e.t, sum)
	}
	return sum, err
}

// addsUp checks that a finished run accounts for every trip the server sent.
func addsUp(t testing.TB, s tripsync.Summary) {
	t.Helper()
	if s.Fetched != s.Created+s.Updated+s.Unchanged+s.Merged+s.Failed {
		t.Errorf("the summary does not add up: %d fetched != %d created + %d updated + %d unchanged + %d merged + %d failed",
			s.Fetched, s.Created, s.Updated, s.Unchanged, s.Merged, s.Failed)
	}
}

func (e *env) mustSync(opts tripsync.Options) tripsync.Summary {
	e.t.Helper()
	sum, err := e.sync(e.t.Context(), opts)
	if err != nil {
		e.t.Fatalf("sync: %v (summary %+v)", err, sum)
	}
	return sum
}

// stored is a trip document as the tests compare them.
type stored struct {
	ID     string            `json:"_id"`
	Rev    string            `json:"_rev"`
	Server trip.ServerInfo   `json:"openpath"`
	Labels trip.Labels       `json:"labels"`
	Manual json.RawMessage   `json:"manual"`
	Series []json.RawMessage `json:"series"`
}

// snapshot reads every trip of the vault, by id.
func (e *env) snapshot() map[string]stored {
	e.t.Helper()
	docs, err := vault.FindAll[stored](e.t.Context(), e.trips, vault.Query{})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]stored{}
	for _, d := range docs {
		out[d.ID] = d
	}
	return out
}

// sameVault compares two snapshots on what a sync decides: ids, server data and labels.
func sameVault(t testing.TB, got, want map[string]stored) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d trips, want %d", len(got), len(want))
	}
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			t.Fatalf("trip %s missing", id)
		}
		if g.Server != w.Server || !g.Labels.Equal(w.Labels) {
			t.Fatalf("trip %s differs:\n got %+v %s\nwant %+v %s", id, g.Server, labelsString(g.Labels), w.Server, labelsString(w.Labels))
		}
	}
}

func labelsString(l trip.Labels) string {
	b, _ := json.Marshal(l)
	return string(b)
}

func samples(t testing.TB) *devserver.UserData {
	t.Helper()
	data, err := devserver.LoadDir(sampledata.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	data.Composite = nil // the composite samples are another user's: serve the timeline trips
	return data
}

func forEachBackend(t *testing.T, test func(t *testing.T, b vaulttest.Backend)) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) { test(t, b) })
	}
}

// TestSamplesEndToEnd: the shared samples, served like a real server, land in the vault as 76
// trips and 114 sections; a second sync over the same entries writes nothing.
func TestSamplesEndToEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
		e := newEnv(t, b, samples(t))
		sum := e.mustSync(tripsync.Options{})
		if sum.Fetched != 76 || sum.Created != 76 || len(sum.Errors) != 0 {
			t.Fatalf("first sync: %+v", sum)
		}
		first := e.snapshot()
		sections := 0
		for _, d := range first {
			for _, f := range gjson.ParseBytes(d.Series[0]).Get("features").Array() {
				if f.Get("type").String() == "FeatureCollection" {
					sections++
				}
			}
		}
		if len(first) != 76 || sections != 114 {
			t.Fatalf("%d trips and %d sections in the vault, want 76 and 114", len(first), sections)
		}
		// Read everything again from the start: every trip is recognised, nothing is written.
		sum = e.mustSync(tripsync.Options{Since: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)})
		if sum.Fetched != 76 || sum.Unchanged != 76 || sum.Created+sum.Updated != 0 || sum.LabelsApplied != 0 {
			t.Fatalf("second sync: %+v", sum)
		}
		second := e.snapshot()
		for id, d := range first {
			if second[id].Rev != d.Rev {
				t.Fatalf("trip %s got a new revision on a sync that changed nothing", id)
			}
		}
	})
}

// TestLabelsLandOnTheirTrips: each label of the samples is on the trip its span overlaps most,
// the latest label of a key winning. The expectation is computed here from the raw samples.
func TestLabelsLandOnTheirTrips(t *testing.T) {
	data := samples(t)
	type span struct {
		id         string
		start, end float64
	}
	var trips []span
	for _, raw := range data.Trips {
		p := gjson.GetBytes(raw, "properties")
		trips = append(trips, span{trip.DocID("phone-1", p.Get("start_ts").Float()), p.Get("start_ts").Float(), p.Get("end_ts").Float()})
	}
	type label struct {
		value   string
		writeTS float64
	}
	want := map[string]map[string]label{} // trip id -> key -> label
	for _, raw := range data.Labels {
		e := gjson.ParseBytes(raw)
		if !slices.Contains(openpath.LabelKeys(), e.Get("metadata.key").String()) {
			continue // e.g. manual/place_addition_input: about places, not trips
		}
		s, en := e.Get("data.start_ts").Float(), e.Get("data.end_ts").Float()
		best, bestOverlap := "", 0.0
		for _, tr := range trips {
			if o := math.Min(en, tr.end) - math.Max(s, tr.start); o > bestOverlap {
				best, bestOverlap = tr.id, o
			}
		}
		if best == "" {
			continue
		}
		key := e.Get("metadata.key").String()
		if want[best] == nil {
			want[best] = map[string]label{}
		}
		if cur, ok := want[best][key]; !ok || e.Get("metadata.write_ts").Float() > cur.writeTS {
			want[best][key] = label{e.Get("data.label").String(), e.Get("metadata.write_ts").Float()}
		}
	}
	if len(want) == 0 {
		t.Fatal("no label matches a sample trip: the expectation is broken")
	}
	forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
		e := newEnv(t, b, data)
		e.mustSync(tripsync.Options{})
		got := e.snapshot()
		labelled := 0
		for id, d := range got {
			w := want[id]
			check := func(key string, l *trip.Label) {
				exp, ok := w[key]
				switch {
				case !ok && l != nil:
					t.Errorf("trip %s has %s %q, want none", id, key, l.Value)
				case ok && (l == nil || l.Value != exp.value):
					t.Errorf("trip %s: %s = %v, want %q", id, key, l, exp.value)
				}
			}
			check(trip.KeyModeConfirm, d.Labels.Mode)
			check(trip.KeyPurposeConfirm, d.Labels.Purpose)
			if d.Labels.Mode != nil || d.Labels.Purpose != nil {
				labelled++
			}
		}
		if labelled != len(want) {
			t.Errorf("%d trips labelled, want %d", labelled, len(want))
		}
	})
}

// parisTrip makes a sample trip start at 00:20 in Paris on 2024-03-10, which is 23:20 UTC the day
// before: a connector that asks getTrips for the UTC date misses it.
func parisTrip(t testing.TB, base json.RawMessage) json.RawMessage {
	t.Helper()
	var fc map[string]any
	if err := json.Unmarshal(base, &fc); err != nil {
		t.Fatal(err)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2024, 3, 10, 0, 20, 0, 0, paris)
	end := start.Add(25 * time.Minute)
	p := fc["properties"].(map[string]any)
	p["start_ts"], p["end_ts"] = float64(start.Unix()), float64(end.Unix())
	p["start_fmt_time"], p["end_fmt_time"] = openpath.FormatTime(start), openpath.FormatTime(end)
	p["start_local_dt"], p["end_local_dt"] = openpath.NewLocalDate(start), openpath.NewLocalDate(end)
	fc["id"] = "65ed0a000000000000000001"
	out, _ := json.Marshal(fc)
	return out
}

func TestTripAfterLocalMidnight(t *testing.T) {
	data := samples(t)
	data.Trips = []json.RawMessage{parisTrip(t, data.Trips[0])}
	data.Labels = nil
	forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
		e := newEnv(t, b, data)
		sum := e.mustSync(tripsync.Options{})
		if sum.Created != 1 {
			t.Fatalf("the trip after local midnight was not synced: %+v", sum)
		}
	})
}

// TestPipelineReset: the server re-processes everything under new ids; the vault keeps one
// document per trip, with the person's corrections.
func TestPipelineReset(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
		ctx := t.Context()
		e := newEnv(t, b, samples(t))
		twoHoursAgo := time.Now().Add(-2 * time.Hour)
		e.mustSync(tripsync.Options{Now: func() time.Time { return twoHoursAgo }})
		before := e.snapshot()
		var someID string
		for id := range before {
			someID = id
			break
		}
		// The person corrected a trip in the app.
		if _, err := vault.Update(ctx, e.trips, someID, func(d *map[string]any, found bool) error {
			(*d)["manual"] = map[string]any{"purpose": "SHOPPING", "title": "Market"}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := e.server.ResetPipeline(token, time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		sum := e.mustSync(tripsync.Options{})
		if sum.Fetched != 76 || sum.Created != 0 || sum.Updated != 76 {
			t.Fatalf("sync after a pipeline reset: %+v (want 76 re-processed trips, all updates)", sum)
		}
		after := e.snapshot()
		if len(after) != 76 {
			t.Fatalf("%d trips after a pipeline reset, want 76", len(after))
		}
		for id, d := range before {
			a, ok := after[id]
			if !ok || a.Server.TripID == d.Server.TripID || a.Server.StartTS != d.Server.StartTS || !a.Labels.Equal(d.Labels) {
				t.Fatalf("trip %s after the reset: %+v, before %+v", id, a.Server, d.Server)
			}
		}
		if m := gjson.GetBytes(after[someID].Manual, "purpose").String(); m != "SHOPPING" {
			t.Fatalf("the person's correction was lost: manual = %s", after[someID].Manual)
		}
	})
}

// cleanVault is the vault one uninterrupted, fault-free run gives.
func cleanVault(t *testing.T, b vaulttest.Backend) map[string]stored {
	e := newEnv(t, b, samples(t))
	e.mustSync(tripsync.Options{FirstWindow: 24 * time.Hour})
	return e.snapshot()
}

// TestInterruptedSyncConverges: runs cancelled at a random window, again and again, then one to
// the end, give exactly the vault of one clean run.
func TestInterruptedSyncConverges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
		want := cleanVault(t, b)
		e := newEnv(t, b, samples(t))
		rng := rand.New(rand.NewPCG(7, uint64(len(b.Name))))
		for range 6 {
			ctx, cancel := context.WithCancel(t.Context())
			stopAt, windows := 1+rng.IntN(40), 0
			_, err := e.sync(ctx, tripsync.Options{FirstWindow: 24 * time.Hour, Progress: func(tripsync.Summary) {
				if windows++; windows == stopAt {
					cancel()
				}
			}})
			cancel()
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run: %v", err)
			}
		}
		e.mustSync(tripsync.Options{FirstWindow: 24 * time.Hour})
		sameVault(t, e.snapshot(), want)
	})
}

// TestFaultyServerConverges: 20% of requests answered 500, latency and truncated answers still
// give the clean vault.
func TestFaultyServerConverges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
		want := cleanVault(t, b)
		e := newEnv(t, b, samples(t))
		if err := e.server.SetFaults(devserver.Faults{FailRate: 0.2, TruncateRate: 0.1, Latency: time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		e.mustSync(tripsync.Options{FirstWindow: 24 * time.Hour})
		sameVault(t, e.snapshot(), want)
		if st := e.server.Stats(); st.Failed == 0 || st.Truncated == 0 {
			t.Fatalf("no fault was injected: %+v", st)
		}
	})
}

// TestAuthRefusedChangesNothing: a token the server does not know stops the run at once.
func TestAuthRefusedChangesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
		e := newEnv(t, b, nil) // the server has no user with this token
		sum, err := e.sync(t.Context(), tripsync.Options{})
		if !errors.Is(err, openpath.ErrAuthRefused) {
			t.Fatalf("err = %v, want ErrAuthRefused", err)
		}
		if len(e.snapshot()) != 0 || sum.Created != 0 {
			t.Fatal("trips written after a refused token")
		}
		a, _ := e.store.Get(t.Context(), e.account)
		if a.Data.Cursors != (accounts.Cursors{}) {
			t.Fatalf("cursor moved after a refused token: %+v", a.Data.Cursors)
		}
	})
}

// TestMalformedTripIsSkipped: a trip that cannot be converted is reported, recorded in the
// account, and the others are saved.
func TestMalformedTripIsSkipped(t *testing.T) {
	data := samples(t)
	var fc map[string]any
	_ = json.Unmarshal(data.Trips[3], &fc)
	fc["properties"].(map[string]any)["end_fmt_time"] = "not a time"
	bad, _ := json.Marshal(fc)
	data.Trips[3] = bad
	forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
		e := newEnv(t, b, data)
		sum, err := e.sync(t.Context(), tripsync.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(sum.Errors) != 1 || sum.Created != 75 || sum.Failed != 1 || sum.Fetched != 76 || sum.Errors[0].TripID != fc["id"] {
			t.Fatalf("summary %+v: want 75 trips saved and the malformed one reported", sum)
		}
		a, _ := e.store.Get(t.Context(), e.account)
		if len(a.Data.FailedTrips) != 1 || a.Data.FailedTrips[0].TripID != fc["id"] {
			t.Fatalf("failed trips in the account: %+v", a.Data.FailedTrips)
		}
	})
}

// TestLabelBeforeItsTrip: a label for a trip the vault does not have yet waits in the account and
// lands on the trip when the trip arrives.
func TestLabelBeforeItsTrip(t *testing.T) {
	data := samples(t)
	data.Labels = nil
	late := data.Trips[5]
	data.Trips = slices.Delete(slices.Clone(data.Trips), 5, 6)
	forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
		e := newEnv(t, b, data)
		e.mustSync(tripsync.Options{})
		p := gjson.GetBytes(late, "properties")
		label, err := devserver.NewLabelEntry(devserver.LabelSpec{Key: openpath.KeyModeConfirm, Value: "e-bike",
			StartTS: p.Get("start_ts").Float() + 3, EndTS: p.Get("end_ts").Float() - 2, WriteTS: float64(time.Now().Add(-time.Hour).Unix())})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.server.AddLabels(token, label); err != nil {
			t.Fatal(err)
		}
		sum := e.mustSync(tripsync.Options{})
		if sum.LabelsPending != 1 || sum.LabelsApplied != 0 {
			t.Fatalf("label without its trip: %+v", sum)
		}
		// The trip arrives (the server processed it late).
		withTrip := *data
		withTrip.Trips = append(slices.Clone(data.Trips), late)
		withTrip.Labels = []json.RawMessage{label}
		if err := e.server.SetUser(token, &withTrip); err != nil {
			t.Fatal(err)
		}
		sum = e.mustSync(tripsync.Options{Since: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)})
		if sum.LabelsApplied != 1 || sum.LabelsPending != 0 {
			t.Fatalf("trip arrived after its label: %+v", sum)
		}
		got := e.snapshot()[trip.DocID("phone-1", p.Get("start_ts").Float())]
		if got.Labels.Mode == nil || got.Labels.Mode.Value != "e-bike" {
			t.Fatalf("label on the late trip: %s", labelsString(got.Labels))
		}
	})
}

// TestTimeBudget: a run whose budget is spent stops between windows and the next one resumes.
func TestTimeBudget(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
		e := newEnv(t, b, samples(t))
		sum := e.mustSync(tripsync.Options{Deadline: time.Now().Add(-time.Second)})
		if !sum.Partial || sum.Fetched != 0 {
			t.Fatalf("spent budget: %+v", sum)
		}
		sum = e.mustSync(tripsync.Options{})
		if sum.Partial || sum.Created != 76 {
			t.Fatalf("resumed run: %+v", sum)
		}
	})
}

func TestDryRunWritesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
		e := newEnv(t, b, samples(t))
		sum := e.mustSync(tripsync.Options{DryRun: true})
		if sum.Created != 76 || len(e.snapshot()) != 0 {
			t.Fatalf("dry run: %+v, %d trips in the vault", sum, len(e.snapshot()))
		}
		a, _ := e.store.Get(t.Context(), e.account)
		if a.Data.Cursors != (accounts.Cursors{}) {
			t.Fatalf("dry run moved the cursor: %+v", a.Data.Cursors)
		}
	})
}

// TestTwoRunsAtOnce: two runs of the same account at the same time make one document per trip.
func TestTwoRunsAtOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
		e := newEnv(t, b, samples(t))
		errs := make(chan error, 2)
		sums := make([]tripsync.Summary, 2)
		for i := range 2 {
			go func() {
				var err error
				sums[i], err = e.sync(t.Context(), tripsync.Options{FirstWindow: 24 * time.Hour})
				errs <- err
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if got := e.snapshot(); len(got) != 76 {
			t.Fatalf("%d trips after two concurrent runs, want 76", len(got))
		}
		if created := sums[0].Created + sums[1].Created; created != 76 {
			t.Fatalf("the two runs say they created %d + %d trips; the vault has 76", sums[0].Created, sums[1].Created)
		}
	})
}

// TestVaultDownMidSync: the vault stops answering in the middle of a sync; the run stops with a
// vault error and loses nothing: the next run, with the vault back, gives the clean vault.
func TestVaultDownMidSync(t *testing.T) {
	ctx := t.Context()
	want := cleanVault(t, couch.Backends()[0])
	stack := vaulttest.NewCozyStack(t, couch.URL(t), vaulttest.Instance(t), []byte(`{"permissions": {
		"a": {"type": "io.cozy.accounts"}, "t": {"type": "io.cozy.timeseries.geojson"}}}`))
	v, err := vault.OpenCozy(ctx, stack.URL, stack.Token)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	srv, _ := devserver.New(devserver.Options{Seed: 1})
	if err := srv.SetUser(token, samples(t)); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	accountsDB, _ := v.DB(ctx, vault.DoctypeAccounts)
	store, err := accounts.Open(ctx, accountsDB, nil)
	if err != nil {
		t.Fatal(err)
	}
	tripsDB, _ := v.DB(ctx, vault.DoctypeTrips)
	engine, err := tripsync.New(ctx, tripsDB, store)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := store.Ensure(ctx, accounts.New{ServerURL: hs.URL, Token: token, Device: "phone-1"})
	if err != nil {
		t.Fatal(err)
	}
	client, _ := openpath.New(hs.URL, token)
	_, err = engine.Sync(ctx, a, client, tripsync.Options{FirstWindow: 24 * time.Hour, Progress: func(s tripsync.Summary) {
		if s.Created > 0 {
			stack.Down.Store(true) // after the first window that saved trips
		}
	}})
	if !errors.Is(err, vault.ErrStore) {
		t.Fatalf("sync with the vault down: %v, want a vault error", err)
	}
	stack.Down.Store(false)
	if a, err = store.Get(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := engine.Sync(ctx, a, client, tripsync.Options{FirstWindow: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	got, err := vault.FindAll[stored](ctx, tripsDB, vault.Query{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]stored{}
	for _, d := range got {
		m[d.ID] = d
	}
	sameVault(t, m, want)
}

// TestCompositeTrips: a server that makes analysis/composite_trip entries is read through them
// (no getTrips call), and a second run changes nothing.
func TestCompositeTrips(t *testing.T) {
	data, err := devserver.LoadDir(sampledata.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	want := len(data.Composite)
	data.Trips, data.Labels = nil, nil
	forEachBackend(t, func(t *testing.T, b vaulttest.Backend) {
		e := newEnv(t, b, data)
		sum := e.mustSync(tripsync.Options{})
		if sum.Created != want || len(sum.Errors) != 0 {
			t.Fatalf("composite sync: %+v, want %d trips", sum, want)
		}
		if n := e.server.Stats().Requests["/timeline/getTrips"]; n != 0 {
			t.Fatalf("%d getTrips requests: composite entries carry the trips", n)
		}
		sum = e.mustSync(tripsync.Options{Since: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)})
		if sum.Unchanged != want || sum.Created+sum.Updated != 0 {
			t.Fatalf("second composite sync: %+v", sum)
		}
	})
}
