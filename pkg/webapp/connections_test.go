package webapp_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/coach"
	"github.com/coachco2/coachco2/pkg/connections"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/sandbox"
	"github.com/coachco2/coachco2/pkg/seal"
	"github.com/coachco2/coachco2/pkg/tripgen"
	"github.com/coachco2/coachco2/pkg/tripsync"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/webapp"
)

// connected is a new, empty embedded vault with its coach and Connections service as `app serve`
// wires them (the sync on a handle with the connector's manifest), and a tracking server with a
// generated user.
type connected struct {
	coach   *coach.Coach
	svc     *connections.Service
	tracker string // the tracking server's URL
	token   string
	// synced receives a value after each sync that saved trips, once the figures are up to date.
	synced chan struct{}
}

func newConnected(t *testing.T) *connected {
	t.Helper()
	ctx := t.Context()
	dev, err := devserver.New(devserver.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := tripgen.ParseSpec("users=1,days=14,seed=1,start=2025-03-01")
	if err != nil {
		t.Fatal(err)
	}
	gen, err := tripgen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tokens := dev.AddGenerated(gen)
	tracker := httptest.NewServer(dev)
	t.Cleanup(tracker.Close)

	path := filepath.Join(t.TempDir(), "vault.db")
	raw, err := os.ReadFile("../../connector/manifest.konnector")
	if err != nil {
		t.Fatal(err)
	}
	m, err := sandbox.ParseKonnectorManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	open := func(opts ...vault.Option) *vault.Vault {
		v, err := vault.Open(ctx, path, "alice", opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		return v
	}
	c, err := coach.Open(ctx, open())
	if err != nil {
		t.Fatal(err)
	}
	box, err := seal.NewEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	synced := make(chan struct{}, 16)
	svc, err := connections.New(ctx, open(vault.WithPolicy(connections.ManagePolicy(m.Policy()))), open(vault.WithPolicy(m.Policy())), box,
		connections.Options{AppVersion: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			AfterSync: func(ctx context.Context, _ tripsync.Summary) {
				if _, err := c.Refresh(ctx); err != nil {
					t.Error(err)
				}
				select {
				case synced <- struct{}{}:
				default:
				}
			}})
	if err != nil {
		t.Fatal(err)
	}
	// The syncs "Sync now" starts are over before the vault closes.
	t.Cleanup(svc.Wait)
	return &connected{coach: c, svc: svc, tracker: tracker.URL, token: tokens[0], synced: synced}
}

// noRedirect is a client that shows redirects rather than follow them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func post(t *testing.T, u string, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := noRedirect.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// TestConnectionsScreen: an account is connected only once its server accepted the token (a
// wrong one is refused in plain words and saved nowhere); its first sync starts at once and its
// trips appear; "Sync now" and "Remove" work; without the service the screen says so.
func TestConnectionsScreen(t *testing.T) {
	ctx := t.Context()
	w := newConnected(t)
	app, err := webapp.New(w.coach, webapp.Options{Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	disabled := httptest.NewServer(app.Handler())
	t.Cleanup(disabled.Close)
	if code, body := get(t, disabled.URL+"/connections"); code != http.StatusOK || !strings.Contains(body, "Connections are not enabled") {
		t.Fatalf("without the service: %d %s", code, body)
	}
	app.EnableConnections(ctx, w.svc)
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)

	code, body := get(t, srv.URL+"/connections")
	if code != http.StatusOK || !strings.Contains(body, "No account connected yet") || !strings.Contains(body, "https://openpath.cozycloud.cc") ||
		!strings.Contains(body, `href="/connections" aria-current="page"`) {
		t.Fatalf("empty screen: %d %s", code, body)
	}
	// A wrong token: refused, in plain words, and the token is not shown back.
	code, _, body = post(t, srv.URL+"/connections", url.Values{"server": {"other"}, "server_url": {w.tracker}, "token": {"not-the-token"}, "device": {"phone"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "The server refused the token") || strings.Contains(body, "not-the-token") {
		t.Fatalf("a wrong token: %d %s", code, body)
	}
	// A malformed server address.
	code, _, body = post(t, srv.URL+"/connections", url.Values{"server": {"other"}, "server_url": {"openpath.example.org"}, "token": {w.token}, "device": {"phone"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "Check the form") {
		t.Fatalf("a malformed address: %d %s", code, body)
	}
	if list, err := w.svc.List(ctx); err != nil || len(list) != 0 {
		t.Fatalf("refused accounts were saved: %+v, %v", list, err)
	}
	if _, n, err := w.coach.ListTrips(ctx, coach.TripQuery{}); err != nil || n != 0 {
		t.Fatalf("%d trips before connecting (%v)", n, err)
	}

	code, loc, _ := post(t, srv.URL+"/connections", url.Values{"server": {"other"}, "server_url": {w.tracker}, "token": {w.token}, "device": {"phone"}})
	if code != http.StatusSeeOther || loc != "/connections?saved=added" {
		t.Fatalf("connecting: %d %s", code, loc)
	}
	// The page's script asks for the state once no sync runs any more.
	code, body = get(t, srv.URL+"/api/connections?wait=1")
	if code != http.StatusOK || strings.Contains(body, `"Syncing":true`) {
		t.Fatalf("waiting for the first sync: %d %s", code, body)
	}
	_, n, err := w.coach.ListTrips(ctx, coach.TripQuery{})
	if err != nil || n == 0 {
		t.Fatalf("%d trips after connecting (%v)", n, err)
	}
	code, body = get(t, srv.URL+"/connections?saved=added")
	if code != http.StatusOK || !strings.Contains(body, "Account connected") || !strings.Contains(body, `<dd class="trip-count">`+itoa(n)+`</dd>`) ||
		!strings.Contains(body, "(done)") {
		t.Fatalf("after the first sync: %d %s", code, body)
	}
	list, err := w.svc.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatal(list, err)
	}
	id := list[0].ID
	code, loc, _ = post(t, srv.URL+"/connections/"+id+"/sync", nil)
	if code != http.StatusSeeOther || (loc != "/connections?saved=syncStarted" && loc != "/connections?saved=busy") {
		t.Fatalf("sync now: %d %s", code, loc)
	}
	w.svc.Wait()
	code, loc, _ = post(t, srv.URL+"/connections/"+id+"/remove", nil)
	if code != http.StatusSeeOther || loc != "/connections?saved=removed" {
		t.Fatalf("remove: %d %s", code, loc)
	}
	if code, _, _ = post(t, srv.URL+"/connections/"+id+"/remove", nil); code != http.StatusBadRequest {
		t.Fatalf("removing it again: %d", code)
	}
	if _, m, err := w.coach.ListTrips(ctx, coach.TripQuery{}); err != nil || m != n {
		t.Fatalf("%d trips after removing the account (%v), want its %d kept", m, err, n)
	}
}
