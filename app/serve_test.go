package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/tripgen"
)

// TestServe runs `app serve` as a user would, and checks what a browser relies on: the security
// headers, the CSRF protection of corrections, and that it stops cleanly.
func TestServe(t *testing.T) {
	base, client := startServe(t, true, "")
	resp, err := client.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != 200 || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'self'") ||
		!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("GET /: %d, headers %v", resp.StatusCode, h)
	}
	_ = body
	// A correction without the CSRF token is refused; with it, it goes through.
	resp, _ = client.Get(base + "trips?month=2016-06")
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := regexp.MustCompile(`href="/trips/(openpath-[0-9a-f]+)"`).FindSubmatch(page)
	if id == nil {
		t.Fatal("no trip in June 2016")
	}
	resp, err = client.PostForm(base+"trips/"+string(id[1]), url.Values{"form": {"trip"}, "purpose": {"SPORT"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a correction without the CSRF token: %d, want 403", resp.StatusCode)
	}
	resp, _ = client.Get(base + "trips/" + string(id[1]))
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(page)
	if token == nil {
		t.Fatal("the trip page has no CSRF token")
	}
	req, _ := http.NewRequest(http.MethodPost, base+"trips/"+string(id[1]), strings.NewReader(url.Values{"form": {"trip"}, "purpose": {"SPORT"}, "csrf_token": {string(token[1])}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", strings.TrimSuffix(base, "/"))
	if resp, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a correction with the token: %d, want 303", resp.StatusCode)
	}
}

// startServe runs serve on a listener of its own over a vault with the synced samples (with their
// labels or not), and returns the app's base URL ("http://host:port/") and a client of its own
// (the app's network guard governs the process's default transport). The server stops, cleanly,
// when the test ends.
func startServe(t *testing.T, withLabels bool, passphrase string) (base string, client *http.Client) {
	t.Helper()
	dsn, instance := syncedVault(t, couch.Backends()[0], withLabels)
	return startServeOn(t, dsn, instance, serveOptions{passphrase: passphrase})
}

// startServeOn is startServe on a vault of the test's.
func startServeOn(t *testing.T, dsn, instance string, o serveOptions) (base string, client *http.Client) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	var out bytes.Buffer // read once serve returned
	go func() { done <- serve(ctx, ln, &cmdenv.Vault{DSN: dsn, Instance: instance}, o, &out) }()
	base = "http://" + ln.Addr().String() + "/"
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if want := "Coach CO2 is at " + base; !strings.Contains(out.String(), want) {
			t.Errorf("serve printed %q, want %q", out.String(), want)
		}
	})
	jar := &cookieJar{cookies: map[string][]*http.Cookie{}}
	client = &http.Client{Jar: jar, Transport: &http.Transport{DialContext: (&net.Dialer{}).DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return base, client
}

type cookieJar struct{ cookies map[string][]*http.Cookie }

func (j *cookieJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	j.cookies[u.Host] = append(j.cookies[u.Host], cookies...)
}
func (j *cookieJar) Cookies(u *url.URL) []*http.Cookie { return j.cookies[u.Host] }

// TestServeLoginAndLimits runs `app serve` with a passphrase: the login page is styled (its
// stylesheet needs no session, the other assets and the pages still do), and a 20 MB form gets
// 413 "too large", not a CSRF refusal.
func TestServeLoginAndLimits(t *testing.T) {
	const pass = "a passphrase long enough"
	base, client := startServe(t, false, pass)
	base = strings.TrimSuffix(base, "/")
	fetch := func(method, path, contentType string, body io.Reader) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("Origin", base)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, page := fetch("GET", "/login", "", nil)
	href := regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)">`).FindStringSubmatch(page)
	if resp.StatusCode != 200 || href == nil {
		t.Fatalf("GET /login: %d, no stylesheet: %s", resp.StatusCode, page)
	}
	resp, css := fetch("GET", href[1], "", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(css, "--accent") {
		t.Fatalf("GET %s before logging in: %d %s", href[1], resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, path := range []string{"/static/app.js", "/static/icon.svg", "/static/", "/", "/trips", "/exports/trips.csv"} {
		if resp, _ := fetch("GET", path, "", nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("GET %s before logging in: %d %s, want a redirect to the login", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp, _ := fetch("GET", "/api/dashboard", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/dashboard before logging in: %d, want 401", resp.StatusCode)
	}

	form := "application/x-www-form-urlencoded"
	if resp, _ := fetch("POST", "/login", form, strings.NewReader(url.Values{"passphrase": {pass}}.Encode())); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	_, page = fetch("GET", "/settings", "", nil)
	token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page)
	if token == nil {
		t.Fatal("the settings page has no CSRF token")
	}
	big := url.Values{"firstName": {strings.Repeat("x", 20<<20)}}.Encode() + "&" + url.Values{"csrf_token": {token[1]}}.Encode()
	resp, msg := fetch("POST", "/settings", form, strings.NewReader(big))
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "too large") {
		t.Errorf("a 20 MB form: %d %q, want 413 too large", resp.StatusCode, msg)
	}
}

// TestServeConnectsAndSyncs: on a vault that does not exist yet, a person connects their account
// from the Connections screen; `app serve` checks it against the server through its network
// guard, seals the token with a new key file beside the vault, syncs it with the connector's
// permissions, and its trips appear in the app.
func TestServeConnectsAndSyncs(t *testing.T) {
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
	token := dev.AddGenerated(gen)[0]
	tracker := httptest.NewServer(dev)
	t.Cleanup(tracker.Close)
	path := filepath.Join(t.TempDir(), "vault.db")
	base, client := startServeOn(t, path, "alice", serveOptions{syncEvery: time.Hour})
	base = strings.TrimSuffix(base, "/")

	resp, err := client.Get(base + "/connections")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(page)
	if csrf == nil {
		t.Fatalf("the Connections screen has no form: %s", page)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/connections", strings.NewReader(url.Values{"server": {"other"}, "server_url": {tracker.URL},
		"token": {token}, "device": {"phone"}, "csrf_token": {string(csrf[1])}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	if resp, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("connecting: %d %s", resp.StatusCode, body)
	}
	if resp, err = client.Get(base + "/api/connections?wait=1"); err != nil {
		t.Fatal(err)
	}
	var state struct {
		Accounts []struct {
			Trips   int
			Syncing bool
			Problem string
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&state)
	resp.Body.Close()
	if err != nil || len(state.Accounts) != 1 || state.Accounts[0].Syncing || state.Accounts[0].Trips == 0 || state.Accounts[0].Problem != "" {
		t.Fatalf("after the first sync: %+v, %v", state, err)
	}
	if resp, err = client.Get(base + "/api/trips"); err != nil {
		t.Fatal(err)
	}
	var trips struct{ Total int }
	err = json.NewDecoder(resp.Body).Decode(&trips)
	resp.Body.Close()
	if err != nil || trips.Total != state.Accounts[0].Trips {
		t.Fatalf("/api/trips: %+v, %v; want the %d trips synced", trips, err, state.Accounts[0].Trips)
	}
	if _, err := os.Stat(path + ".key"); err != nil {
		t.Fatalf("the token's key file: %v", err)
	}
}
