package engine_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coachco2/coachco2/cozyapp/engine"
	"github.com/coachco2/coachco2/pkg/browsertest"
	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/indicators"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/sampledata"
	"github.com/coachco2/coachco2/pkg/trip"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
	"github.com/coachco2/coachco2/pkg/webapp"
)

var couch = vaulttest.NewServer()

func TestMain(m *testing.M) { os.Exit(couch.Run(m)) }

// sampleTrips are the shared samples' trips, as the connector stores them.
func sampleTrips(t *testing.T) []*trip.Doc {
	t.Helper()
	var docs []*trip.Doc
	for _, raw := range sampledata.TimelineTrips(t) {
		d, err := openpath.FromTimeline(raw, openpath.Origin{Device: "phone", App: "openpath"}, time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	return docs
}

func save(t *testing.T, v *vault.Vault, docs []*trip.Doc) {
	t.Helper()
	db, err := v.DB(t.Context(), vault.DoctypeTrips)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vault.SaveMany(t.Context(), db, docs, 0); err != nil {
		t.Fatal(err)
	}
}

// wantReport is `app report --json` over the samples: the coach's report over every trip of an
// embedded vault holding them.
func wantReport(t *testing.T) (*indicators.Report, *coach.Coach) {
	t.Helper()
	ctx := t.Context()
	v, err := vault.Open(ctx, filepath.Join(t.TempDir(), "vault.db"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	save(t, v, sampleTrips(t))
	c, err := coach.Open(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := c.Report(ctx, indicators.Query{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r, c
}

// buildBundle runs cozyapp/package.sh, as make cozy-app does, and returns the bundle's folder.
func buildBundle(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not installed (CI is set): the bundle's build and service use Node.js")
		}
		t.Skip("node is not installed: the bundle's build and service use Node.js")
	}
	goCmd := os.Getenv("GO")
	if goCmd == "" {
		var err error
		if goCmd, err = exec.LookPath("go"); err != nil {
			t.Fatalf("the go command builds the bundle: %v", err)
		}
	}
	out := t.TempDir()
	cmd := exec.Command("sh", filepath.Join("..", "package.sh"), out)
	cmd.Env = append(os.Environ(), "GO="+goCmd)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("package.sh: %v\n%s", err, b)
	}
	tarballs, _ := filepath.Glob(filepath.Join(out, "*.tar.gz"))
	if len(tarballs) != 1 {
		t.Fatalf("package.sh made %v, want one tarball", tarballs)
	}
	if info, err := os.Stat(tarballs[0]); err == nil {
		t.Logf("bundle: %s, %.1f MB gzipped", filepath.Base(tarballs[0]), float64(info.Size())/1e6)
	}
	dir := filepath.Join(out, "coachco2-local")
	checkEngine(t, dir)
	return dir
}

// runService runs the bundle's service as the stack does (cozy-stack worker/exec/service.go):
// only the service's file is copied, as index.js, into a fresh folder, and Node.js runs it with
// COZY_URL, the app's token (a service has the app's permissions) and COZY_LOCALE; stdout must
// be JSON lines. The bundled engine is a linux/amd64 binary: elsewhere the engine runs in the
// test's process instead.
func runService(t *testing.T, dir, stackURL, token string) {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		if err := engine.Run(t.Context(), stackURL, token, engine.Options{}); err != nil {
			t.Fatal(err)
		}
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	src, err := os.ReadFile(filepath.Join(dir, "services", "coach.js"))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "index.js"), src, 0o640); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "node", "index.js")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "COZY_URL="+stackURL, "COZY_CREDENTIALS="+token, "COZY_LOCALE=en")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the service: %v\n%s%s", err, stdout.Bytes(), stderr.Bytes())
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line != "" && !json.Valid([]byte(line)) {
			t.Fatalf("the service wrote a line the stack cannot read as JSON: %q", line)
		}
	}
}

// stayedInTheStack fails the test when the page asked for anything outside the stack's two
// origins (the app's and the instance's), or reported an error, CSP violations included.
func stayedInTheStack(t *testing.T, b *browsertest.Browser, stack *vaulttest.CozyStack, app *vaulttest.CozyApp) {
	t.Helper()
	stackOrigin := strings.TrimSuffix(stack.URL, "/")
	for _, u := range b.Foreign(strings.TrimSuffix(app.URL, "/")) {
		if !strings.HasPrefix(u, stackOrigin+"/") {
			t.Errorf("a request left the stack: %s", u)
		}
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(p, "\n"))
	}
}

// TestInstalledInACozy installs the bundle `make cozy-app` builds into the stack double over the
// shared samples, runs its service as the stack would, and opens the app in Chromium: the
// dashboard's figures are those of `app report --json` over the same trips, the other screens
// open, no request leaves the stack's two origins (the app's and the instance's) and the page
// reports no error, CSP violations included.
func TestInstalledInACozy(t *testing.T) {
	dir := buildBundle(t)
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.webapp"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Slug        string
		Permissions map[string]struct{ Type string }
		Services    map[string]struct{ Type, File string }
	}
	if err := json.Unmarshal(raw, &m); err != nil || m.Slug != "coachco2-local" || m.Permissions["screens"].Type != engine.DoctypeScreens ||
		m.Services["coach"].Type != "node" || m.Services["coach"].File != "/services/coach.js" {
		t.Fatalf("the bundle's manifest: %v %+v", err, m)
	}
	stack := vaulttest.NewCozyStack(t, couch.URL(t), vaulttest.Instance(t), []byte(`{"permissions": {}}`))
	home, err := vault.OpenCozy(t.Context(), stack.URL, stack.HomeToken)
	if err != nil {
		t.Fatal(err)
	}
	save(t, home, sampleTrips(t))
	home.Close()

	app := stack.InstallApp(t, "coachco2-local", dir)
	runService(t, dir, stack.URL, app.Token)

	// The stored report is the CLI's.
	want, local := wantReport(t)
	v, err := vault.OpenCozy(t.Context(), stack.URL, app.Token)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	db, err := v.DB(t.Context(), engine.DoctypeScreens)
	if err != nil {
		t.Fatal(err)
	}
	var s engine.Screens
	if _, err := db.Get(t.Context(), engine.ScreensID, &s); err != nil {
		t.Fatal(err)
	}
	gotJSON, _ := json.Marshal(s.Report)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Fatalf("the engine's report differs from app report --json:\n got %s\nwant %s", gotJSON, wantJSON)
	}

	b := browsertest.New(t, app.URL)
	b.SetViewport(1280, 900)
	b.Navigate("/")
	b.WaitVisible("#screen #this-month")
	b.Screenshot("cozy-dashboard")
	// The dashboard's 12 months end with the last trip's month: its "this month" is that month's.
	var last string
	for m := range want.ByMonth {
		if m > last {
			last = m
		}
	}
	shown := b.Text("#this-month .big")
	if got := number(t, shown); math.Abs(got-want.ByMonth[last].CO2Kg) > 0.05 {
		t.Fatalf("the dashboard shows %q for %s, app report --json says %.3f kg", shown, last, want.ByMonth[last].CO2Kg)
	}
	b.Click(`#screens a[href="#/trips"]`)
	b.WaitVisible("#screen table")

	// The CSV export of every month (the range emptied) is the web app's over the same trips.
	next := downloads(t, b)
	b.Click(`#screens a[href="#/exports"]`)
	csvForm := `#screen form[action="/exports/trips.csv"]`
	b.WaitVisible(csvForm + " button")
	b.SetValue(csvForm+` input[name="from"]`, "")
	b.SetValue(csvForm+` input[name="to"]`, "")
	b.Click(csvForm + " button")
	name, exported := next()
	if name != "coachco2-trips.csv" {
		t.Errorf("the CSV downloads as %q", name)
	}
	sameCSV(t, string(exported), localCSV(t, local))

	// A car trip's car section becomes a bike ride: the page stores the form, the service (which
	// the stack starts on that new correction) passes it to the web app's handler, and the
	// trip's CO2 changes.
	id, section := carSection(t, local)
	b.Navigate("/?open=1#/trips/" + id)
	b.WaitVisible("#screen #trip-co2")
	before := b.Text("#trip-co2")
	b.SetValue("#section-"+strconv.Itoa(section), "BICYCLING")
	b.WaitVisible("p.saved")
	runService(t, dir, stack.URL, app.Token)
	b.Navigate("/?open=2#/trips/" + id)
	b.WaitVisible("#screen #trip-co2")
	if after := b.Text("#trip-co2"); after == before {
		t.Fatalf("the trip's CO2 stayed %s after its car section became a bike ride", before)
	}
	b.Screenshot("cozy-trip-corrected")
	var left int
	cdb, err := v.DB(t.Context(), engine.DoctypeCorrections)
	if err != nil {
		t.Fatal(err)
	}
	if err := cdb.Find(t.Context(), vault.Query{}, func(json.RawMessage) error { left++; return nil }); err != nil || left != 0 {
		t.Fatalf("%d corrections left after the service ran (%v)", left, err)
	}

	stayedInTheStack(t, b, stack, app)
}

// localCSV is the web app's CSV export of every trip of the coach.
func localCSV(t *testing.T, c *coach.Coach) string {
	t.Helper()
	app, err := webapp.New(c, webapp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	app.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/exports/trips.csv", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("the web app's CSV: %d", rec.Code)
	}
	return rec.Body.String()
}

// sameCSV fails the test unless the two CSV files hold the same records, numbers (alone or in
// JSON lists) compared as numbers: the test's CouchDB-protocol server (pouchdb-server) writes 12.0 back as 12, which the
// exports pass on as the vault gives them.
func sameCSV(t *testing.T, got, want string) {
	t.Helper()
	g, err := csv.NewReader(strings.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatalf("the export is no CSV: %v", err)
	}
	w, err := csv.NewReader(strings.NewReader(want)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != len(w) || len(g) < 2 {
		t.Fatalf("the export has %d records, the web app's %d", len(g), len(w))
	}
	for i := range g {
		if len(g[i]) != len(w[i]) {
			t.Fatalf("record %d: %d fields, want %d", i, len(g[i]), len(w[i]))
		}
		for j := range g[i] {
			if g[i][j] == w[i][j] {
				continue
			}
			// A number, or a JSON list of numbers, compared by value.
			var a, b any
			errA := json.Unmarshal([]byte(g[i][j]), &a)
			errB := json.Unmarshal([]byte(w[i][j]), &b)
			if errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
				t.Fatalf("record %d, field %d (%s): %.80q, want %.80q", i, j, w[0][j], g[i][j], w[i][j])
			}
		}
	}
}

// carSection returns a trip with a car section that emits, and that section's index.
func carSection(t *testing.T, c *coach.Coach) (string, int) {
	t.Helper()
	list, _, err := c.ListTrips(t.Context(), coach.TripQuery{Mode: trip.Car})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range list {
		_, a, err := c.Trip(t.Context(), l.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range a.Sections {
			if s.Mode == trip.Car && s.CO2 > 0.1 {
				return l.ID, i
			}
		}
	}
	t.Fatal("no car section in the samples")
	return "", 0
}

// number reads the first number of a text written in English or French ("12.3 kg", "12,3 kg").
func number(t *testing.T, text string) float64 {
	t.Helper()
	f := strings.FieldsFunc(text, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.' || r == ',') })
	if len(f) == 0 {
		t.Fatalf("no number in %q", text)
	}
	x, err := strconv.ParseFloat(strings.ReplaceAll(f[0], ",", "."), 64)
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	return x
}
