package connections_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/connections"
	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/sandbox"
	"github.com/coachco2/coachco2/pkg/seal"
	"github.com/coachco2/coachco2/pkg/tripgen"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

var couch = vaulttest.NewServer()

func TestMain(m *testing.M) { os.Exit(couch.Run(m)) }

// world is a tracking server with one generated user, and the service over a vault whose sync
// handle has the connector's permissions only.
type world struct {
	server *httptest.Server
	token  string
	svc    *connections.Service
	trips  *vault.DB // read without a policy, to check what the sync wrote
	synced chan tripsync.Summary
	// allowed is the last list of servers given to AllowServers; others the accounts' store of
	// another process (the connector's command line).
	mu      sync.Mutex
	allowed []string
	others  *accounts.Store
}

func (w *world) allowedNow() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.allowed
}

func newWorld(t *testing.T, b vaulttest.Backend) *world {
	t.Helper()
	ctx := t.Context()
	srv, err := devserver.New(devserver.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := tripgen.ParseSpec("users=1,days=10,seed=1,start=2025-03-01")
	if err != nil {
		t.Fatal(err)
	}
	gen, err := tripgen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tokens := srv.AddGenerated(gen)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)

	plain, dsn, instance := b.Open(t)
	raw, err := os.ReadFile("../../connector/manifest.konnector")
	if err != nil {
		t.Fatal(err)
	}
	m, err := sandbox.ParseKonnectorManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	open := func(p vault.Policy) *vault.Vault {
		v, err := vault.Open(ctx, dsn, instance, vault.WithPolicy(p))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		return v
	}
	box, err := seal.NewEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	w := &world{server: hs, token: tokens[0], synced: make(chan tripsync.Summary, 16)}
	others, err := plain.DB(ctx, vault.DoctypeAccounts)
	if err == nil {
		w.others, err = accounts.Open(ctx, others, box)
	}
	if err != nil {
		t.Fatal(err)
	}
	w.svc, err = connections.New(ctx, open(connections.ManagePolicy(m.Policy())), open(m.Policy()), box, connections.Options{
		AllowServers: func(urls []string) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.allowed = urls
			return nil
		},
		AppVersion: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Retry:     openpath.RetryPolicy{MaxRetries: 1, InitialBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond},
		AfterSync: func(_ context.Context, sum tripsync.Summary) { w.synced <- sum },
	})
	if err != nil {
		t.Fatal(err)
	}
	if w.trips, err = plain.DB(ctx, vault.DoctypeTrips); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestAddChecksTheServer: an account is saved only once its server accepted the token; a refused
// token, a server that is not e-mission's or a malformed entry saves nothing.
func TestAddChecksTheServer(t *testing.T) {
	notEmission := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notEmission.Close)
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			w := newWorld(t, b)
			for _, c := range []struct {
				name    string
				n       accounts.New
				problem string
			}{
				{"wrong token", accounts.New{ServerURL: w.server.URL, Token: "nobody", Device: "phone"}, connections.ProblemToken},
				{"not an e-mission server", accounts.New{ServerURL: notEmission.URL, Token: w.token, Device: "phone"}, connections.ProblemNotEmission},
			} {
				_, err := w.svc.Add(ctx, c.n)
				if !errors.Is(err, connections.ErrCheck) || connections.CheckProblem(err) != c.problem {
					t.Errorf("%s: %v (%s), want a failed check (%s)", c.name, err, connections.CheckProblem(err), c.problem)
				}
			}
			if _, err := w.svc.Add(ctx, accounts.New{ServerURL: "openpath.example.org", Token: w.token, Device: "phone"}); !errors.Is(err, connections.ErrInvalid) {
				t.Errorf("a server URL without a scheme: %v, want the entry refused before any request", err)
			}
			if list, err := w.svc.List(ctx); err != nil || len(list) != 0 {
				t.Fatalf("after refused accounts: %+v, %v; want none saved", list, err)
			}
			a, err := w.svc.Add(ctx, accounts.New{ServerURL: w.server.URL, Token: w.token, Device: "phone"})
			if err != nil {
				t.Fatal(err)
			}
			list, err := w.svc.List(ctx)
			if err != nil || len(list) != 1 || list[0].ID != a.ID || list[0].Device != "phone" || list[0].LastRun != nil {
				t.Fatalf("after adding: %+v, %v", list, err)
			}
		})
	}
}

// TestSyncWithTheConnectorsPermissions: the sync runs through the connector's engine on a handle
// with the connector's manifest only, records its run, and the list shows where the data is up
// to; a removed account's trips stay.
func TestSyncWithTheConnectorsPermissions(t *testing.T) {
	for _, b := range couch.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			w := newWorld(t, b)
			a, err := w.svc.Add(ctx, accounts.New{ServerURL: w.server.URL, Token: w.token, Device: "phone"})
			if err != nil {
				t.Fatal(err)
			}
			sum, err := w.svc.Sync(ctx, a.ID, time.Time{})
			if err != nil || sum.Created == 0 {
				t.Fatalf("sync: %+v, %v", sum, err)
			}
			if got := <-w.synced; got.Created != sum.Created {
				t.Errorf("AfterSync got %+v", got)
			}
			n, err := w.trips.Count(ctx)
			if err != nil || int(n) != sum.Created {
				t.Fatalf("%d trips in the vault (%v), the sync created %d", n, err, sum.Created)
			}
			list, err := w.svc.List(ctx)
			if err != nil || len(list) != 1 {
				t.Fatal(list, err)
			}
			st := list[0]
			if int64(st.Trips) != n || st.LastRun == nil || st.LastRun.Status != "ok" || st.Problem != "" || st.UpTo.IsZero() || st.Syncing {
				t.Fatalf("state after a sync: %+v", st)
			}
			if err := w.svc.Remove(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			if list, err := w.svc.List(ctx); err != nil || len(list) != 0 {
				t.Fatalf("after removing: %+v, %v", list, err)
			}
			if m, err := w.trips.Count(ctx); err != nil || m != n {
				t.Fatalf("%d trips after removing the account (%v), want %d kept", m, err, n)
			}
		})
	}
}

// TestSyncNowAndSchedule: "Sync now" runs in the background and says so while it runs (a second
// one is refused as busy); the schedule syncs every account at once.
func TestSyncNowAndSchedule(t *testing.T) {
	b := couch.Backends()[0]
	ctx := t.Context()
	w := newWorld(t, b)
	a, err := w.svc.Add(ctx, accounts.New{ServerURL: w.server.URL, Token: w.token, Device: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	// Hold the sync at its first progress report, to see it running.
	changed := w.svc.Changed()
	if err := w.svc.SyncNow(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	<-changed // the sync started
	if _, err := w.svc.Sync(ctx, a.ID, time.Time{}); !errors.Is(err, connections.ErrBusy) {
		// The background sync may already be over on a fast machine: then this one ran.
		if err != nil {
			t.Fatalf("a second sync: %v", err)
		}
	}
	w.svc.Wait()
	if sum := <-w.synced; sum.Created == 0 {
		t.Fatalf("the background sync created nothing: %+v", sum)
	}
	list, err := w.svc.List(ctx)
	if err != nil || len(list) != 1 || list[0].Syncing || list[0].LastRun == nil {
		t.Fatalf("after Sync now: %+v, %v", list, err)
	}
	// The schedule syncs at once: a sync starts, then ends and is recorded.
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	ch := w.svc.Changed()
	go func() { defer close(done); w.svc.Run(runCtx, time.Hour) }()
	for started := false; ; {
		<-ch
		ch = w.svc.Changed()
		list, err := w.svc.List(ctx)
		if err != nil || len(list) != 1 {
			t.Fatal(list, err)
		}
		started = started || list[0].Syncing
		if started && !list[0].Syncing {
			if r := list[0].LastRun; r == nil || r.Status != "ok" || r.Created != 0 {
				t.Fatalf("the scheduled run: %+v", r)
			}
			break
		}
	}
	cancel()
	<-done
}

// TestProblem: a run's error is named in plain words from the client's own message.
func TestProblem(t *testing.T) {
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) }))
	t.Cleanup(refusing.Close)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	t.Cleanup(down.Close)
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }))
	t.Cleanup(garbage.Close)
	for _, c := range []struct {
		url, want string
	}{{refusing.URL, connections.ProblemToken}, {down.URL, connections.ProblemDown}, {garbage.URL, connections.ProblemNotEmission}} {
		client, err := openpath.New(c.url, "tok", openpath.WithRetryPolicy(openpath.RetryPolicy{}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = client.PipelineRange(t.Context())
		run := &accounts.Run{Status: "error", Error: "account x: " + err.Error()}
		if got := connections.Problem(run); got != c.want {
			t.Errorf("%v: %s, want %s", err, got, c.want)
		}
		if got := connections.CheckProblem(err); got != c.want {
			t.Errorf("check %v: %s, want %s", err, got, c.want)
		}
	}
	for _, c := range []struct {
		run  *accounts.Run
		want string
	}{
		{nil, ""},
		{&accounts.Run{Status: "ok"}, ""},
		{&accounts.Run{Status: "partial"}, ""},
		{&accounts.Run{Status: "ok", Failures: 2}, connections.ProblemTrips},
		{&accounts.Run{Status: "interrupted", Error: "interrupted by SIGTERM"}, connections.ProblemStopped},
	} {
		if got := connections.Problem(c.run); got != c.want {
			t.Errorf("%+v: %q, want %q", c.run, got, c.want)
		}
	}
}

// TestServersAllowed: the service may reach only its accounts' servers, and the one it checks
// while it checks it; an account another process added gets its server allowed before its sync.
func TestServersAllowed(t *testing.T) {
	ctx := t.Context()
	w := newWorld(t, couch.Backends()[0])
	if len(w.allowedNow()) != 0 {
		t.Fatalf("allowed with no account: %v", w.allowedNow())
	}
	if _, err := w.svc.Add(ctx, accounts.New{ServerURL: w.server.URL, Token: "nobody", Device: "phone"}); !errors.Is(err, connections.ErrCheck) {
		t.Fatal(err)
	}
	if len(w.allowedNow()) != 0 {
		t.Fatalf("allowed after a refused account: %v", w.allowedNow())
	}
	if _, err := w.svc.Add(ctx, accounts.New{ServerURL: w.server.URL, Token: w.token, Device: "phone"}); err != nil {
		t.Fatal(err)
	}
	if len(w.allowedNow()) != 1 || w.allowedNow()[0] != w.server.URL {
		t.Fatalf("allowed with one account: %v", w.allowedNow())
	}
	other, _, err := w.others.Ensure(ctx, accounts.New{ServerURL: "http://127.0.0.1:1", Token: "t", Device: "tablet"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Sync(ctx, other.ID, time.Time{}); !errors.Is(err, openpath.ErrServerDown) {
		t.Fatalf("the sync of an unreachable server: %v", err)
	}
	if len(w.allowedNow()) != 2 || w.allowedNow()[0] != "http://127.0.0.1:1" {
		t.Fatalf("allowed after another process added an account: %v", w.allowedNow())
	}
}
