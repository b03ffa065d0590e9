package engine_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/browsertest"
	"github.com/coachco2/coachco2/pkg/collector"
	"github.com/coachco2/coachco2/pkg/sharing"
	"github.com/coachco2/coachco2/pkg/study"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// remoteLogEntry is a document of io.cozy.remote.requests, the stack's log of /remote.
type remoteLogEntry struct {
	Doctype   string            `json:"doctype"`
	Verb      string            `json:"verb"`
	URL       string            `json:"url"`
	Code      int               `json:"response_code"`
	Variables map[string]string `json:"variables"`
}

// TestStudiesInACozy: research sharing from the coach installed in a Cozy, end to end, with a
// real collector (pkg/collector on SQLite) that the stack double reaches through the remote
// doctypes a territory defines for it (pkg/sharing's RemoteRequests). In the page, the person
// adds the study by its id, sees the preview (of every measure, then of the one they keep),
// consents, and later revokes; each form is a
// correction the service passes to the web app's handler. The collector gets the contributions,
// then deletes them; the stack's log of /remote requests holds the same batch as the
// transmission log, which the Studies screen shows; and every request the collector got came
// from the stack, none from the app's page or service.
func TestStudiesInACozy(t *testing.T) {
	dir := buildBundle(t)
	ctx := t.Context()
	const studyID, adminToken = "mobility-cozy-2026", "test-admin-token-0123456789"

	store, err := collector.Open(ctx, filepath.Join(t.TempDir(), "collector.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv, err := collector.NewServer(store, collector.Options{AdminToken: adminToken, Rate: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var agents []string // the User-Agent of each participant's request the collector got
	col := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			mu.Lock()
			agents = append(agents, r.Header.Get("User-Agent"))
			mu.Unlock()
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(col.Close)
	// The samples' months, and every month since, up to the last one (the test runs at any date).
	last := time.Now().UTC().AddDate(0, -1, 0).Format("2006-01")
	desc, _ := json.Marshal(map[string]any{
		"id": studyID, "version": 1, "title": "Everyday mobility in a Cozy", "institution": "Test university",
		"contact": "dpo@example.org", "purpose": map[string]string{"fr": "Objectif", "en": "Purpose"},
		"collector_url": col.URL, "measures": []string{"co2_monthly_kg", "trips_monthly_by_mode"},
		"period": map[string]string{"from": "2015-01", "to": last}, "retention_months": 24, "k": 2,
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, col.URL+"/studies/"+studyID, bytes.NewReader(desc))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("register the study: %v %v", err, resp)
	}
	count := func() int {
		t.Helper()
		n, err := store.CountContributions(ctx, studyID)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	stack := vaulttest.NewCozyStack(t, couch.URL(t), vaulttest.Instance(t), []byte(`{"permissions": {}}`))
	if stack.RemoteDoctypes, err = sharing.RemoteRequests(col.URL); err != nil {
		t.Fatal(err)
	}
	stack.RemoteAllowCustomPort = true // the test collector listens on a custom port
	home, err := vault.OpenCozy(ctx, stack.URL, stack.HomeToken)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { home.Close() })
	save(t, home, sampleTrips(t))
	app := stack.InstallApp(t, "coachco2-local", dir)
	runService(t, dir, stack.URL, app.Token)

	b := browsertest.New(t, app.URL)
	b.SetViewport(1280, 900)
	b.Navigate("/#/studies")
	b.WaitVisible("#screen #add-study")
	b.SetValue(`#add-study input[name="study"]`, studyID)
	b.Click(`#add-study button`)
	b.WaitVisible("p.saved")
	runService(t, dir, stack.URL, app.Token)

	// The study, fetched from the collector through the stack, with the preview of what would
	// be sent: nothing was.
	b.Navigate("/?open=1#/studies")
	b.WaitVisible("#screen #study-" + studyID)
	if preview := b.Text("#study-" + studyID + " pre.payload"); !strings.Contains(preview, sharing.PreviewPseudonym) ||
		!strings.Contains(preview, `"measure":"co2_monthly_kg"`) {
		t.Fatalf("the preview: %s", preview)
	}
	// The preview of one measure: the service renders the screen the form led to.
	b.Click("#study-" + studyID + ` input[value="trips_monthly_by_mode"]`)
	b.Click("#study-" + studyID + ` button[value="preview"]`)
	b.WaitVisible("p.saved")
	runService(t, dir, stack.URL, app.Token)
	b.Navigate("/?open=2#/studies")
	b.WaitVisible("#screen #study-" + studyID)
	if preview := b.Text("#study-" + studyID + " pre.payload"); strings.Contains(preview, "trips_monthly_by_mode") ||
		!strings.Contains(preview, `"measure":"co2_monthly_kg"`) {
		t.Fatalf("the preview of co2_monthly_kg alone: %s", preview)
	}
	if n := count(); n != 0 {
		t.Fatalf("the collector holds %d contributions before any consent", n)
	}
	b.Click("#study-" + studyID + ` button[value="grant"]`)
	b.WaitVisible("p.saved")
	runService(t, dir, stack.URL, app.Token)
	sent := count()
	if sent == 0 {
		t.Fatal("the collector got nothing after the consent")
	}

	// The transmission log, on the Studies screen and in the vault, and the stack's log.
	b.Navigate("/?open=3#/studies")
	b.WaitVisible("#screen #log table")
	shown := b.Text("#log")
	if !strings.Contains(shown, col.URL+"/studies/"+studyID+"/contributions") || !strings.Contains(shown, "/remote/"+sharing.RemoteContributions) {
		t.Fatalf("the Studies screen's log:\n%s", shown)
	}
	b.Screenshot("cozy-studies")
	v, err := vault.OpenCozy(ctx, stack.URL, app.Token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	tdb, err := v.DB(ctx, vault.DoctypeTransmissions)
	if err != nil {
		t.Fatal(err)
	}
	log, err := vault.FindAll[sharing.Transmission](ctx, tdb, vault.Query{})
	if err != nil {
		t.Fatal(err)
	}
	log = slices.DeleteFunc(log, func(tr sharing.Transmission) bool { return tr.Kind == "" })
	if len(log) != 1 || !log[0].OK || log[0].Via != "/remote/"+sharing.RemoteContributions {
		t.Fatalf("the transmission log: %+v", log)
	}
	remoteLog := func() []remoteLogEntry {
		t.Helper()
		db, err := home.DB(ctx, "io.cozy.remote.requests")
		if err != nil {
			t.Fatal(err)
		}
		all, err := vault.FindAll[remoteLogEntry](ctx, db, vault.Query{})
		if err != nil {
			t.Fatal(err)
		}
		return slices.DeleteFunc(all, func(e remoteLogEntry) bool { return e.Doctype == "" })
	}
	var batches []string
	for _, e := range remoteLog() {
		if e.Doctype == sharing.RemoteContributions {
			batches = append(batches, e.Variables["batch"])
		}
	}
	if len(batches) != 1 || batches[0] != log[0].Payload {
		t.Fatalf("the stack logged the batches %q, the transmission log %q", batches, log[0].Payload)
	}
	var batch study.Batch
	if err := json.Unmarshal([]byte(batches[0]), &batch); err != nil || len(batch.Contributions) != sent {
		t.Fatalf("the batch: %v, %d contributions, the collector holds %d", err, len(batch.Contributions), sent)
	}

	// Revoke: the withdrawal goes through the stack, and the collector deletes everything. And a
	// study the collector does not have: the screen says why it was not added.
	b.Click("#study-" + studyID + ` form[action$="/revoke"] button`)
	b.WaitVisible(`p.saved + form[action$="/revoke"]`)
	b.SetValue(`#add-study input[name="study"]`, "no-such-study")
	b.Click(`#add-study button`)
	b.WaitVisible(`p.saved + #add-study`)
	runService(t, dir, stack.URL, app.Token)
	if n := count(); n != 0 {
		t.Fatalf("the collector holds %d contributions after the revocation", n)
	}
	b.Navigate("/?open=4#/studies")
	b.WaitText("#log", "/participants/")
	if shown := b.Text("#log"); !strings.Contains(shown, "/remote/"+sharing.RemoteWithdrawal) {
		t.Fatalf("the Studies screen's log after the revocation:\n%s", shown)
	}
	if alert := b.Text(`#screen [role="alert"]`); !strings.Contains(alert, "no-such-study") || !strings.Contains(alert, string(study.CodeUnknownStudy)) {
		t.Fatalf("the screen's alert about the unknown study: %q", alert)
	}

	// Nothing reached the collector but through the stack: one request per /remote log entry,
	// each from the stack.
	entries := remoteLog()
	mu.Lock()
	defer mu.Unlock()
	if len(agents) != len(entries) || len(entries) != 4 {
		t.Fatalf("the collector got %d requests from participants, the stack logged %d /remote requests (want 4: the study, the batch, the withdrawal, the unknown study)", len(agents), len(entries))
	}
	for _, a := range agents {
		if !strings.HasPrefix(a, "cozy-stack") {
			t.Errorf("the collector got a request from %q, not from the stack", a)
		}
	}
	stayedInTheStack(t, b, stack, app)
}
