package collector

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/study"
	"github.com/coachco2/coachco2/pkg/syncbuf"
)

const testToken = "test-admin-token-0123456789"

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// backend opens stores on one database for the suite.
type backend struct {
	name string
	// dsn returns a fresh, empty database's DSN for a test; opening it again later reopens the
	// same database.
	dsn func(t *testing.T) string
}

func sqliteBackend() backend {
	return backend{name: BackendSQLite, dsn: func(t *testing.T) string {
		return filepath.Join(t.TempDir(), "collector.db")
	}}
}

// postgresBackend gives each test its own schema of the database at base.
func postgresBackend(base string) backend {
	return backend{name: BackendPostgres, dsn: func(t *testing.T) string {
		t.Helper()
		db, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatal(err)
		}
		schema := "t_" + randomHex(8)
		if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
			db.Close()
			t.Fatalf("create schema: %v", err)
		}
		t.Cleanup(func() {
			db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		})
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		return base + sep + "search_path=" + schema
	}}
}

// env is a collector served by httptest over a real store.
type env struct {
	t      *testing.T
	dsn    string
	store  *Store
	srv    *httptest.Server
	clock  *clock
	logs   *syncbuf.Buffer
	opts   Options
	client *http.Client
}

type envOption func(*Options)

func newEnv(t *testing.T, b backend, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, dsn: b.dsn(t), clock: &clock{t: time.Date(2026, 7, 15, 10, 0, 0, 0, time.UTC)}, logs: &syncbuf.Buffer{}}
	e.opts = Options{AdminToken: testToken, Rate: -1, Now: e.clock.Now,
		Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, o := range opts {
		o(&e.opts)
	}
	e.start()
	t.Cleanup(e.stop)
	return e
}

func (e *env) start() {
	e.t.Helper()
	st, err := Open(e.t.Context(), e.dsn)
	if err != nil {
		e.t.Fatalf("open store: %v", err)
	}
	srv, err := NewServer(st, e.opts)
	if err != nil {
		st.Close()
		e.t.Fatal(err)
	}
	e.store, e.srv, e.client = st, httptest.NewServer(srv), &http.Client{Timeout: 30 * time.Second}
}

func (e *env) stop() {
	if e.srv != nil {
		e.srv.Close()
		e.srv = nil
	}
	if e.store != nil {
		e.store.Close()
		e.store = nil
	}
}

// restart closes the server and the store and opens them again on the same database.
func (e *env) restart() {
	e.t.Helper()
	e.stop()
	e.start()
}

// response is an HTTP answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorCode returns the "code" of an error answer.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	var body struct {
		Error apiError `json:"error"`
	}
	r.json(t, &body)
	if body.Error.Code == "" || body.Error.Message == "" {
		t.Fatalf("error answer without code or message: %s", r.body)
	}
	return string(body.Error.Code)
}

func (e *env) do(method, path string, body []byte, header map[string]string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func admin() map[string]string { return map[string]string{"Authorization": "Bearer " + testToken} }

// putStudy registers a descriptor and fails the test unless it is created or updated.
func (e *env) putStudy(d *study.Descriptor) {
	e.t.Helper()
	b, _ := json.Marshal(d)
	r := e.do(http.MethodPut, "/studies/"+d.ID, b, admin())
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		e.t.Fatalf("PUT study: %d %s", r.status, r.body)
	}
}

// post sends contributions as one batch.
func (e *env) post(studyID string, cs ...study.Contribution) response {
	e.t.Helper()
	b, err := json.Marshal(study.Batch{Contributions: cs})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(http.MethodPost, "/studies/"+studyID+"/contributions", b, nil)
}

// mustPost sends a batch and fails the test unless it is stored.
func (e *env) mustPost(studyID string, cs ...study.Contribution) study.BatchResult {
	e.t.Helper()
	r := e.post(studyID, cs...)
	if r.status != http.StatusOK {
		e.t.Fatalf("POST contributions: %d %s", r.status, r.body)
	}
	var s study.BatchResult
	r.json(e.t, &s)
	return s
}

// aggregates GETs aggregates with a raw query string.
func (e *env) aggregates(studyID, query string) Aggregates {
	e.t.Helper()
	r := e.do(http.MethodGet, "/studies/"+studyID+"/aggregates?"+query, nil, admin())
	if r.status != http.StatusOK {
		e.t.Fatalf("GET aggregates?%s: %d %s", query, r.status, r.body)
	}
	var a Aggregates
	r.json(e.t, &a)
	return a
}

func (e *env) count(studyID string) int {
	e.t.Helper()
	n, err := e.store.CountContributions(e.t.Context(), studyID)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// testStudy is the suite's study: every measure, 2026, k = 5, an age band.
func testStudy() *study.Descriptor {
	return &study.Descriptor{
		ID: "mobility-2026", Version: 1, Title: "Self-data and mobility", Institution: "Université de test",
		Contact: "dpo@example.org", Purpose: study.Text{FR: "Mesurer l'effet des données personnelles.", EN: "Measure the effect of self-data."},
		CollectorURL: "https://collector.example.org", Measures: study.MeasureIDs(),
		Period:          study.Span{From: study.Month(2026, time.January), To: study.Month(2026, time.December)},
		RetentionMonths: 12, K: 5,
		ProfileFields: []study.ProfileField{{Name: "age_band", Label: study.Text{FR: "Tranche d'âge", EN: "Age band"},
			Values: []string{"18-29", "30-44", "45-59", "60+"}}},
	}
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// pseudonym returns a new random pseudonym.
func pseudonym(t *testing.T) string { return randomHex(study.PseudonymLen / 2) }

// co2 is a co2_monthly_kg contribution of the test study.
func co2(p, period string, kg float64, profile map[string]string) study.Contribution {
	per, err := study.ParsePeriod(period)
	if err != nil {
		panic(err)
	}
	return study.Contribution{StudyID: "mobility-2026", StudyVersion: 1, Pseudonym: p, Measure: study.CO2Monthly,
		Period: per, Value: &kg, Profile: profile}
}

func age(band string) map[string]string { return map[string]string{"age_band": band} }

// find returns the aggregates of a measure, period, group and category.
func find(a Aggregates, measure study.MeasureID, period, group, value, category string) (Aggregate, bool) {
	for _, x := range a.Aggregates {
		if x.Measure == measure && x.Period.String() == period && x.Group == group && x.GroupValue == value && x.Category == category {
			return x, true
		}
	}
	return Aggregate{}, false
}

func suppressed(a Aggregates, measure study.MeasureID, period, group, value string) bool {
	for _, x := range a.Suppressed {
		if x.Measure == measure && x.Period.String() == period && x.Group == group && x.GroupValue == value {
			return true
		}
	}
	return false
}

func approx(a, b float64) bool {
	d := a - b
	return d < 1e-9 && d > -1e-9
}

func mustEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// postgresDSN is the PostgreSQL database of the suite's second run, from the environment.
func postgresDSN() string { return os.Getenv("COLLECTOR_POSTGRES_DSN") }

// postgresForSuite checks that the suite's PostgreSQL database is set and answers; problem says
// why not (without the DSN's password).
func postgresForSuite(ctx context.Context, dsn string) (string, string) {
	if dsn == "" {
		return "", "COLLECTOR_POSTGRES_DSN is not set"
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", dsn)
	if err == nil {
		err = db.PingContext(ctx)
		db.Close()
	}
	if err != nil {
		return "", fmt.Sprintf("PostgreSQL at %s (COLLECTOR_POSTGRES_DSN) does not answer: %v", RedactDSN(dsn), err)
	}
	return dsn, ""
}

// onCI reports whether the tests run on CI, where a missing PostgreSQL is a failure.
func onCI() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv("CI")))
	return v != "" && v != "0" && v != "false"
}

// notifyHandler is a slog handler that signals, once, a record with the message msg: a test waits
// on seen instead of polling.
type notifyHandler struct {
	msg  string
	seen chan struct{}
}

func (h *notifyHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *notifyHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *notifyHandler) WithGroup(string) slog.Handler            { return h }
func (h *notifyHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.seen <- struct{}{}:
		default:
		}
	}
	return nil
}
