package sharing_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/coach/coachtest"
	"github.com/coachco2/coachco2/pkg/collector"
	"github.com/coachco2/coachco2/pkg/netguard"
	"github.com/coachco2/coachco2/pkg/sandbox"
	"github.com/coachco2/coachco2/pkg/sharing"
	"github.com/coachco2/coachco2/pkg/study"
	"github.com/coachco2/coachco2/pkg/vault"
)

const adminToken = "test-admin-token-0123456789"

// now is the tests' clock: the trips coachtest.Fill generates start on 2022-01-01.
var now = time.Date(2022, 6, 10, 12, 0, 0, 0, time.UTC)

// ticks makes the service's clock advance a millisecond at each reading, so that the log's
// order is the order of the requests.
var ticks atomic.Int64

func clock() time.Time { return now }

func tickingClock() time.Time { return now.Add(time.Duration(ticks.Add(1)) * time.Millisecond) }

// countingListener counts the connections a server accepted.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// collectorEnv is a real collector over a SQLite file, behind an optional fault injector.
type collectorEnv struct {
	store    *collector.Store
	ts       *httptest.Server
	accepted atomic.Int64
	// fail503 makes the next POSTs reach the collector, then answer 503 as if the answer was lost.
	fail503 atomic.Int64
	mu      sync.Mutex
	posts   int
}

func newCollector(t *testing.T) *collectorEnv {
	t.Helper()
	ctx := t.Context()
	store, err := collector.Open(ctx, filepath.Join(t.TempDir(), "collector.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv, err := collector.NewServer(store, collector.Options{AdminToken: adminToken, Now: clock, Rate: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e := &collectorEnv{store: store}
	e.ts = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			e.mu.Lock()
			e.posts++
			e.mu.Unlock()
			if e.fail503.Load() > 0 {
				e.fail503.Add(-1)
				srv.ServeHTTP(httptest.NewRecorder(), r) // stored, answer lost
				http.Error(w, `{"error":{"code":"internal","message":"lost"}}`, http.StatusServiceUnavailable)
				return
			}
		}
		srv.ServeHTTP(w, r)
	}))
	e.ts.Listener = countingListener{Listener: e.ts.Listener, n: &e.accepted}
	e.ts.Start()
	t.Cleanup(e.ts.Close)
	return e
}

// descriptor returns a study's descriptor for this collector.
func (e *collectorEnv) descriptor(id string, version, k int, measures ...study.MeasureID) []byte {
	d := map[string]any{
		"id": id, "version": version, "title": "Self-data and everyday mobility", "institution": "Université de test",
		"contact": "dpo@univ-example.fr", "purpose": map[string]string{"fr": "Mesurer…", "en": "Measure…"},
		"collector_url": e.ts.URL, "measures": measures, "period": map[string]string{"from": "2022-01", "to": "2022-04"},
		"retention_months": 12, "k": k,
		"profile_fields": []map[string]any{{"name": "age_band", "label": map[string]string{"fr": "Âge", "en": "Age"},
			"values": []string{"18-29", "30-44", "45-59", "60+"}}},
	}
	b, _ := json.Marshal(d)
	return b
}

// register publishes a descriptor at the collector, as researchers do.
func (e *collectorEnv) register(t *testing.T, raw []byte) {
	t.Helper()
	d, err := study.ParseDescriptor(raw)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, e.ts.URL+"/studies/"+d.ID, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("register: %d %s", resp.StatusCode, b)
	}
}

type aggregates struct {
	Aggregates []struct {
		Measure string  `json:"measure"`
		Period  string  `json:"period"`
		Group   string  `json:"group"`
		Count   int     `json:"count"`
		Sum     float64 `json:"sum"`
	} `json:"aggregates"`
	Suppressed []json.RawMessage `json:"suppressed"`
}

func (e *collectorEnv) aggregates(t *testing.T, id, query string) (aggregates, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/studies/"+id+"/aggregates?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("aggregates: %d %s", resp.StatusCode, b)
	}
	var a aggregates
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a, string(b)
}

func (e *collectorEnv) count(t *testing.T, id string) int {
	t.Helper()
	n, err := e.store.CountContributions(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// participant is a person's vault with trips, their coach, and the sharing service behind a
// network guard that allows only what CollectorHosts says.
type participant struct {
	vault *vault.Vault
	svc   *sharing.Service
	guard *netguard.Guard
}

var manifestPolicy = sync.OnceValues(func() (vault.Policy, error) {
	b, err := os.ReadFile("../../manifest.webapp")
	if err != nil {
		return nil, err
	}
	m, err := sandbox.ParseManifest(b)
	if err != nil {
		return nil, err
	}
	return m.Policy(), nil
})

func newParticipant(t *testing.T, trips int) *participant {
	t.Helper()
	return newParticipantWith(t, trips, nil)
}

// newParticipantWith is newParticipant whose sharing reaches the collectors through the
// transport transport gives, over the guard, instead of straight through it (transport nil).
func newParticipantWith(t *testing.T, trips int, transport func(*netguard.Guard) sharing.Transport) *participant {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	plain, err := vault.Open(ctx, filepath.Join(dir, "vault.db"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	coachtest.Fill(t, plain, trips)
	plain.Close()
	// The app's own permissions: the transmission log is append-only (GET, POST).
	policy, err := manifestPolicy()
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(ctx, filepath.Join(dir, "vault.db"), "alice", vault.WithPolicy(policy))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	c, err := coach.Open(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	g := netguard.New()
	opts := sharing.Options{
		Client:  &http.Client{Transport: g.Transport()},
		Backoff: 5 * time.Millisecond, Now: tickingClock,
	}
	if transport != nil {
		opts.Transport = transport(g)
	}
	svc, err := sharing.New(ctx, v, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &participant{vault: v, svc: svc, guard: g}
}

// share allows the collectors of the active consents, as app serve does, then shares.
func (p *participant) share(t *testing.T) sharing.Summary {
	t.Helper()
	ctx := t.Context()
	hosts, err := p.svc.CollectorHosts(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.guard.SetAllowed("collectors", hosts); err != nil {
		t.Fatal(err)
	}
	sum, err := p.svc.Share(ctx, now)
	if err != nil {
		t.Fatalf("share: %v (%+v)", err, sum)
	}
	return sum
}

func (p *participant) log(t *testing.T) []sharing.Transmission {
	t.Helper()
	log, err := p.svc.Transmissions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return log
}

const studyID = "mobility-test-2022"

var allMeasures = []study.MeasureID{study.CO2Monthly, study.DistanceMonthlyByMode, study.TripsMonthlyByPurpose,
	study.ModalShareMonthly, study.BikeCommuteDaysYearly}

func TestNoConsentNothingLeaves(t *testing.T) {
	ctx := t.Context()
	col := newCollector(t)
	raw := col.descriptor(studyID, 1, 5, allMeasures...)
	col.register(t, raw)
	before := col.accepted.Load()
	p := newParticipant(t, 300)
	if _, err := p.svc.AddStudy(ctx, raw); err != nil {
		t.Fatal(err)
	}
	hosts, err := p.svc.CollectorHosts(ctx, now)
	if err != nil || len(hosts) != 0 {
		t.Fatalf("hosts without consent = %v, %v", hosts, err)
	}
	sum := p.share(t)
	if len(sum.Studies) != 0 || sum.Sent != 0 {
		t.Fatalf("summary without consent: %+v", sum)
	}
	if st := p.guard.Stats(); st.Dialed != 0 {
		t.Fatalf("the guard dialed %d connections without consent", st.Dialed)
	}
	if got := col.accepted.Load(); got != before {
		t.Fatalf("the collector accepted %d connections without consent", got-before)
	}
	if log := p.log(t); len(log) != 0 {
		t.Fatalf("log without consent: %+v", log)
	}
	// And the guard would refuse the collector anyway.
	_, err = (&http.Client{Transport: p.guard.Transport()}).Get(col.ts.URL + "/healthz")
	if !errors.Is(err, netguard.ErrBlocked) {
		t.Fatalf("GET the collector without consent: %v, want ErrBlocked", err)
	}
	if got := col.accepted.Load(); got != before {
		t.Fatal("a blocked request reached the collector")
	}
	if n := col.count(t, studyID); n != 0 {
		t.Fatalf("collector holds %d contributions", n)
	}
}

var (
	periodRE   = regexp.MustCompile(`^\d{4}(-\d{2})?$`)
	dayRE      = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)
	allowedKey = []string{"study_id", "study_version", "pseudonym", "measure", "period", "value", "values", "profile"}
)

// checkPayload fails unless the payload holds only contributions of the granted measures, with
// nothing identifying.
func checkPayload(t *testing.T, payload string, granted []study.MeasureID) {
	t.Helper()
	for _, word := range []string{"lat", "lon", "coordinates", "geometry", "place", "address", "trip", `"_id"`, "start", "end", "La Rochelle"} {
		if strings.Contains(strings.ToLower(payload), strings.ToLower(word)) {
			t.Errorf("payload contains %q: %s", word, payload)
		}
	}
	if dayRE.MatchString(payload) {
		t.Errorf("payload contains a date finer than a month: %s", payload)
	}
	var b struct {
		Contributions []map[string]json.RawMessage `json:"contributions"`
	}
	if err := json.Unmarshal([]byte(payload), &b); err != nil {
		t.Fatal(err)
	}
	for _, c := range b.Contributions {
		for k := range c {
			if !slices.Contains(allowedKey, k) {
				t.Errorf("contribution field %q", k)
			}
		}
		var m study.MeasureID
		var period string
		json.Unmarshal(c["measure"], &m)
		json.Unmarshal(c["period"], &period)
		if !slices.Contains(granted, m) {
			t.Errorf("measure %q was not granted", m)
		}
		if !periodRE.MatchString(period) {
			t.Errorf("period %q", period)
		}
	}
}

func TestGrantShareResendRevoke(t *testing.T) {
	ctx := t.Context()
	col := newCollector(t)
	raw := col.descriptor(studyID, 1, 5, allMeasures...)
	col.register(t, raw)
	p := newParticipant(t, 400)
	if _, err := p.svc.AddStudy(ctx, raw); err != nil {
		t.Fatal(err)
	}
	granted := []study.MeasureID{study.CO2Monthly, study.ModalShareMonthly}

	// Invalid grants.
	if _, err := p.svc.Grant(ctx, studyID, []study.MeasureID{study.TripsMonthlyByMode}, nil); err == nil {
		t.Fatal("granted a measure the study does not ask for")
	}
	if _, err := p.svc.Grant(ctx, studyID, granted, map[string]string{"age_band": "12"}); err == nil {
		t.Fatal("granted a profile value the study does not offer")
	}
	if _, err := p.svc.Grant(ctx, studyID, granted, map[string]string{"town": "x"}); err == nil {
		t.Fatal("granted a profile field the study does not offer")
	}
	if _, err := p.svc.Grant(ctx, "nope", granted, nil); !errors.Is(err, sharing.ErrUnknownStudy) {
		t.Fatalf("grant to an unknown study: %v", err)
	}

	c, err := p.svc.Grant(ctx, studyID, granted, map[string]string{"age_band": "30-44"})
	if err != nil {
		t.Fatal(err)
	}
	if !study.ValidPseudonym(c.Pseudonym) {
		t.Fatalf("pseudonym %q", c.Pseudonym)
	}
	if want := time.Date(2023, 5, 1, 0, 0, 0, 0, time.UTC); !c.ExpiresAt.Equal(want) {
		t.Fatalf("expiry %v, want %v", c.ExpiresAt, want)
	}
	preview, err := p.svc.Preview(ctx, studyID, granted, now)
	if err != nil {
		t.Fatal(err)
	}
	// The first batch's answer is lost: the app retries, and the collector counts it once.
	col.fail503.Store(1)
	sum := p.share(t)
	// 4 months of CO2, 4 months of modal shares.
	if sum.Sent != 8 || len(sum.Studies) != 1 || sum.Studies[0].Attempts != 2 {
		t.Fatalf("summary %+v", sum)
	}
	if n := col.count(t, studyID); n != 8 {
		t.Fatalf("collector holds %d contributions, want 8", n)
	}
	log := p.log(t)
	if len(log) != 2 || log[1].Status != 503 || log[0].Status != 200 || !log[0].OK || log[0].Payload != log[1].Payload {
		t.Fatalf("log %+v", log)
	}
	if log[0].Payload != string(preview) {
		t.Fatalf("sent\n%s\npreviewed\n%s", log[0].Payload, preview)
	}
	var res study.BatchResult
	if err := json.Unmarshal([]byte(log[0].Answer), &res); err != nil || res.Unchanged != 8 || !strings.Contains(log[0].Payload, c.Pseudonym) {
		t.Fatalf("payload/answer: %s / %s", log[0].Payload, log[0].Answer)
	}
	trips, err := p.vault.DB(ctx, vault.DoctypeTrips)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := vault.FindAll[struct {
		ID string `json:"_id"`
	}](ctx, trips, vault.Query{Fields: []string{"_id"}})
	if err != nil || len(ids) < 300 {
		t.Fatalf("trip ids: %d, %v", len(ids), err)
	}
	for _, tr := range log {
		checkPayload(t, tr.Payload, granted)
		for _, id := range ids {
			if strings.Contains(tr.Payload, id.ID) {
				t.Fatalf("payload holds trip id %s", id.ID)
			}
		}
	}

	// Sharing again sends nothing: every complete period went.
	sum = p.share(t)
	if sum.Sent != 0 || sum.Studies[0].Pending != 0 || len(p.log(t)) != 2 {
		t.Fatalf("second share: %+v", sum)
	}
	// A resend of the same batch does not double count.
	resend(t, p, col, log[0])
	if n := col.count(t, studyID); n != 8 {
		t.Fatalf("after a resend, %d contributions", n)
	}

	// Revocation: the collector deletes, the log shows the DELETE, nothing is sent again.
	if err := p.svc.Revoke(ctx, studyID); err != nil {
		t.Fatal(err)
	}
	if n := col.count(t, studyID); n != 0 {
		t.Fatalf("after revocation, the collector holds %d contributions", n)
	}
	log = p.log(t)
	if log[0].Kind != sharing.KindWithdrawal || log[0].Method != http.MethodDelete || log[0].Status != 200 || !log[0].OK ||
		!strings.HasSuffix(log[0].URL, "/participants/"+c.Pseudonym) || !strings.Contains(strings.ReplaceAll(log[0].Answer, " ", ""), `"deleted":8`) {
		t.Fatalf("withdrawal log %+v", log[0])
	}
	active, err := p.svc.Active(ctx, now)
	if err != nil || len(active) != 0 {
		t.Fatalf("active after revoke: %v %v", active, err)
	}
	hosts, _ := p.svc.CollectorHosts(ctx, now)
	if len(hosts) != 0 {
		t.Fatalf("hosts after a confirmed withdrawal: %v", hosts)
	}
	sum = p.share(t)
	if sum.Sent != 0 || len(sum.Studies) != 0 || len(p.log(t)) != 3 {
		t.Fatalf("share after revoke: %+v", sum)
	}
	// A new consent draws a new pseudonym and sends everything again.
	c2, err := p.svc.Grant(ctx, studyID, granted, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Pseudonym == c.Pseudonym {
		t.Fatal("pseudonym reused")
	}
	if sum = p.share(t); sum.Sent != 8 {
		t.Fatalf("share after a new consent: %+v", sum)
	}
}

// resend posts a logged payload again, as a retry after a lost answer would.
func resend(t *testing.T, p *participant, col *collectorEnv, tr sharing.Transmission) {
	t.Helper()
	resp, err := (&http.Client{Transport: p.guard.Transport()}).Post(tr.URL, "application/json", strings.NewReader(tr.Payload))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(strings.ReplaceAll(string(b), " ", ""), `"created":0`) {
		t.Fatalf("resend: %d %s", resp.StatusCode, b)
	}
}

func TestKAnonymity(t *testing.T) {
	ctx := t.Context()
	col := newCollector(t)
	raw := col.descriptor(studyID, 1, 5, study.CO2Monthly)
	col.register(t, raw)
	query := "measure=co2_monthly_kg&period=2022-02"
	for i := 1; i <= 5; i++ {
		p := newParticipant(t, 300)
		if _, err := p.svc.AddStudy(ctx, raw); err != nil {
			t.Fatal(err)
		}
		if _, err := p.svc.Grant(ctx, studyID, []study.MeasureID{study.CO2Monthly}, nil); err != nil {
			t.Fatal(err)
		}
		if sum := p.share(t); sum.Sent != 4 {
			t.Fatalf("participant %d: %+v", i, sum)
		}
		a, body := col.aggregates(t, studyID, query)
		if i < 5 {
			if len(a.Aggregates) != 0 || len(a.Suppressed) == 0 {
				t.Fatalf("%d participants visible: %s", i, body)
			}
			continue
		}
		if len(a.Aggregates) != 1 || a.Aggregates[0].Count != 5 {
			t.Fatalf("5 participants: %s", body)
		}
	}
}

func TestNewVersionNeedsNewConsent(t *testing.T) {
	ctx := t.Context()
	col := newCollector(t)
	v1 := col.descriptor(studyID, 1, 5, study.CO2Monthly)
	col.register(t, v1)
	p := newParticipant(t, 300)
	if _, err := p.svc.AddStudy(ctx, v1); err != nil {
		t.Fatal(err)
	}
	c1, err := p.svc.Grant(ctx, studyID, []study.MeasureID{study.CO2Monthly}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum := p.share(t); sum.Sent != 4 {
		t.Fatalf("v1: %+v", sum)
	}
	// Same version, other content: refused.
	changed := bytes.Replace(v1, []byte(`"k":5`), []byte(`"k":6`), 1)
	if _, err := p.svc.AddStudy(ctx, changed); err == nil {
		t.Fatal("a changed descriptor under the same version was accepted")
	}
	v2 := col.descriptor(studyID, 2, 5, study.CO2Monthly, study.TripsMonthlyByPurpose)
	col.register(t, v2)
	if _, err := p.svc.AddStudy(ctx, v2); err != nil {
		t.Fatal(err)
	}
	active, _ := p.svc.Active(ctx, now)
	if len(active) != 0 {
		t.Fatalf("a v1 consent is active under v2: %+v", active)
	}
	need, _ := p.svc.NeedsNewConsent(ctx)
	if len(need) != 1 || need[0].Version != 2 {
		t.Fatalf("needs new consent: %+v", need)
	}
	logged := len(p.log(t))
	if sum := p.share(t); len(sum.Studies) != 0 || len(p.log(t)) != logged {
		t.Fatalf("shared without a consent to v2: %+v", sum)
	}
	c2, err := p.svc.Grant(ctx, studyID, []study.MeasureID{study.CO2Monthly, study.TripsMonthlyByPurpose}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Pseudonym == c1.Pseudonym || c2.StudyVersion != 2 {
		t.Fatalf("new consent %+v", c2)
	}
	// CO2 went under v1 already: only the new measure is sent.
	sum := p.share(t)
	if sum.Sent != 4 {
		t.Fatalf("v2: %+v", sum)
	}
	for _, tr := range p.log(t)[:1] {
		if strings.Contains(tr.Payload, string(study.CO2Monthly)) || !strings.Contains(tr.Payload, `"study_version":2`) {
			t.Fatalf("v2 payload: %s", tr.Payload)
		}
	}
	consents, _ := p.svc.Consents(ctx)
	if len(consents) != 2 || !consents[0].Superseded || consents[0].Withdraw {
		t.Fatalf("consents %+v", consents)
	}
}

func TestRetries(t *testing.T) {
	ctx := t.Context()
	for _, tc := range []struct {
		status, attempts int
	}{{500, 3}, {422, 1}, {400, 1}, {429, 3}} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			var hits atomic.Int64
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.WriteHeader(tc.status)
				io.WriteString(w, `{"error":{"code":"x","message":"no"}}`)
			}))
			defer ts.Close()
			col := &collectorEnv{ts: ts}
			raw := col.descriptor(studyID, 1, 5, study.CO2Monthly)
			p := newParticipant(t, 50)
			if _, err := p.svc.AddStudy(ctx, raw); err != nil {
				t.Fatal(err)
			}
			if _, err := p.svc.Grant(ctx, studyID, []study.MeasureID{study.CO2Monthly}, nil); err != nil {
				t.Fatal(err)
			}
			p.guard.AllowLoopback(true)
			p.svc = mustNew(t, p, 3)
			if _, err := p.svc.Share(ctx, now); err == nil {
				t.Fatal("no error")
			}
			if got := hits.Load(); got != int64(tc.attempts) {
				t.Fatalf("%d attempts, want %d", got, tc.attempts)
			}
			if got := len(p.log(t)); got != tc.attempts {
				t.Fatalf("%d logged, want %d", got, tc.attempts)
			}
		})
	}
}

func mustNew(t *testing.T, p *participant, attempts int) *sharing.Service {
	t.Helper()
	c, err := coach.Open(t.Context(), p.vault)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := sharing.New(t.Context(), p.vault, c, sharing.Options{
		Client: &http.Client{Transport: p.guard.Transport()}, Attempts: attempts, Backoff: time.Millisecond, Now: tickingClock})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}
