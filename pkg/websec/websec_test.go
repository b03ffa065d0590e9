package websec_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/websec"
)

const passphrase = "correct horse battery staple"

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// app is the handler under test: the package's middleware around a mux
// like the app's.
type app struct {
	handler http.Handler
	clock   *clock
	log     *bytes.Buffer
	host    string // Host of the requests
}

func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<meta name="csrf-token" content="%s">`, websec.CSRFToken(r))
	})
	mux.HandleFunc("GET /trips", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "trips") })
	mux.HandleFunc("GET /api/trips/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"id":"`+r.PathValue("id")+`"}`) })
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		mux.HandleFunc(m+" /api/trips/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "changed") })
	}
	mux.HandleFunc("GET /static/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "asset "+r.URL.Path) })
	mux.HandleFunc("POST /settings", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		io.WriteString(w, "saved "+r.PostForm.Get("name"))
	})
	mux.HandleFunc("GET /err", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "bad", http.StatusInternalServerError) })
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("trip of alice failed") })
	return mux
}

// newApp builds the app with a passphrase ("" for none) listening on addr.
func newApp(t *testing.T, pass, addr string) *app {
	t.Helper()
	c := &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	auth, err := websec.NewAuth(pass, websec.AuthOptions{Addr: addr, Iterations: websec.MinIterations, Now: c.Now, Logger: logger,
		Stylesheet: "/static/app.css"})
	if err != nil {
		t.Fatal(err)
	}
	host := "coach.example.org"
	if !auth.Required() {
		host = "127.0.0.1:8080"
	}
	return &app{handler: websec.Protect(newMux(), websec.Config{Auth: auth, Logger: logger}), clock: c, log: &buf, host: host}
}

// req is one test request.
type req struct {
	method, target string
	body           string
	form           url.Values
	cookie         *http.Cookie
	header         map[string]string
	remote         string
}

func (a *app) do(t *testing.T, r req) *http.Response {
	t.Helper()
	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	} else if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, r.target, body)
	hr.Host = a.host
	hr.RemoteAddr = "192.0.2.1:4242"
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	if r.form != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.cookie != nil {
		hr.AddCookie(r.cookie)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, hr)
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantStatus(t *testing.T, what string, resp *http.Response, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d", what, resp.StatusCode, status)
	}
}

// sessionCookie returns the session cookie a response sets, or nil.
func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == websec.DefaultCookieName {
			return c
		}
	}
	return nil
}

// login logs in and returns the session cookie and the CSRF token.
func (a *app) login(t *testing.T) (*http.Cookie, string) {
	t.Helper()
	resp := a.do(t, req{method: "POST", target: "/login", form: url.Values{"passphrase": {passphrase}}})
	wantStatus(t, "login", resp, http.StatusSeeOther)
	c := sessionCookie(resp)
	if c == nil {
		t.Fatal("login set no session cookie")
	}
	return c, a.token(t, c)
}

var tokenRE = regexp.MustCompile(`content="([^"]+)"`)

// token reads the CSRF token from the home page.
func (a *app) token(t *testing.T, c *http.Cookie) string {
	t.Helper()
	resp := a.do(t, req{method: "GET", target: "/", cookie: c})
	wantStatus(t, "home page", resp, http.StatusOK)
	m := tokenRE.FindStringSubmatch(body(t, resp))
	if m == nil || m[1] == "" {
		t.Fatal("no CSRF token in the page")
	}
	return m[1]
}

// wantHeaders checks the security headers of a response.
func wantHeaders(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy":    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
}

func TestHeadersOnEveryResponse(t *testing.T) {
	a := newApp(t, passphrase, "0.0.0.0:8080")
	check := func(what string, r req, status int) {
		t.Helper()
		resp := a.do(t, r)
		wantStatus(t, what, resp, status)
		wantHeaders(t, what, resp)
	}
	check("page without session", req{method: "GET", target: "/"}, http.StatusSeeOther)
	check("API without session", req{method: "GET", target: "/api/trips/1"}, http.StatusUnauthorized)
	check("login page", req{method: "GET", target: "/login"}, http.StatusOK)
	check("wrong passphrase", req{method: "POST", target: "/login", form: url.Values{"passphrase": {"nope"}}}, http.StatusUnauthorized)
	c, tok := a.login(t)
	check("home", req{method: "GET", target: "/", cookie: c}, http.StatusOK)
	check("not found", req{method: "GET", target: "/nowhere", cookie: c}, http.StatusNotFound)
	check("method not allowed", req{method: "POST", target: "/trips", cookie: c, header: map[string]string{websec.CSRFHeader: tok}}, http.StatusMethodNotAllowed)
	check("handler error", req{method: "GET", target: "/err", cookie: c}, http.StatusInternalServerError)
	check("panic", req{method: "GET", target: "/boom", cookie: c}, http.StatusInternalServerError)
	check("CSRF refusal", req{method: "POST", target: "/api/trips/1", cookie: c}, http.StatusForbidden)
	for range 5 {
		a.do(t, req{method: "POST", target: "/login", form: url.Values{"passphrase": {"nope"}}, remote: "198.51.100.7:1"})
	}
	check("rate limited", req{method: "POST", target: "/login", form: url.Values{"passphrase": {"nope"}}, remote: "198.51.100.7:1"}, http.StatusTooManyRequests)

	l := newApp(t, "", "127.0.0.1:8080")
	l.host = "evil.example"
	check = func(what string, r req, status int) {
		t.Helper()
		resp := l.do(t, r)
		wantStatus(t, what, resp, status)
		wantHeaders(t, what, resp)
	}
	check("loopback refusal", req{method: "GET", target: "/"}, http.StatusForbidden)
}

func TestCSP(t *testing.T) {
	origin := "https://Tiles.Example.org/"
	var mu sync.Mutex
	h := websec.Headers(websec.HeaderOptions{ImgOrigin: func() string { mu.Lock(); defer mu.Unlock(); return origin }})(newMux())
	get := func() string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/trips", nil))
		return rec.Header().Get("Content-Security-Policy")
	}
	if got := get(); !strings.Contains(got, "; img-src 'self' data: https://tiles.example.org; ") {
		t.Errorf("CSP with a tile server: %q", got)
	}
	// The CSP follows the setting, and an invalid origin is left out.
	for _, bad := range []string{"https://x.org; script-src *", "https://*.example.org", "javascript:alert(1)", "https://x.org/tiles/{z}", "ftp://x.org", "https://u:p@x.org", ""} {
		mu.Lock()
		origin = bad
		mu.Unlock()
		if got := get(); got != websec.CSP("") {
			t.Errorf("CSP with tile server %q: %q", bad, got)
		}
	}
	for in, want := range map[string]string{
		"https://tile.openstreetmap.org":  "https://tile.openstreetmap.org",
		"http://localhost:8081/":          "http://localhost:8081",
		" HTTPS://Tiles.Example.org:8443": "https://tiles.example.org:8443",
		"https://[2001:db8::1]:443":       "https://[2001:db8::1]:443",
	} {
		if got, err := websec.ValidateOrigin(in); err != nil || got != want {
			t.Errorf("ValidateOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestLoginRequiredBeyondLoopback(t *testing.T) {
	for _, addr := range []string{":8080", "0.0.0.0:8080", "[::]:8080", "192.168.1.20:8080", "coach.example.org:443", "", "8080"} {
		if _, err := websec.NewAuth("", websec.AuthOptions{Addr: addr}); err == nil || !strings.Contains(err.Error(), "requires a passphrase") {
			t.Errorf("NewAuth without passphrase on %q: %v", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:8080", "localhost:8080", "[::1]:8080", "127.0.0.2:80"} {
		auth, err := websec.NewAuth("", websec.AuthOptions{Addr: addr})
		if err != nil || auth.Required() {
			t.Errorf("NewAuth without passphrase on %q: %v, required %v", addr, err, auth != nil && auth.Required())
		}
	}
	if _, err := websec.NewAuth("short", websec.AuthOptions{Addr: ":8080"}); err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Errorf("short passphrase: %v", err)
	}

	// Beyond loopback: everything needs a session.
	a := newApp(t, passphrase, ":8080")
	resp := a.do(t, req{method: "GET", target: "/trips?month=2024-01"})
	wantStatus(t, "page without session", resp, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/login?next=%2Ftrips%3Fmonth%3D2024-01" {
		t.Fatalf("redirect to %q", loc)
	}
	resp = a.do(t, req{method: "GET", target: "/api/trips/1"})
	wantStatus(t, "API without session", resp, http.StatusUnauthorized)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("API refusal Content-Type %q", ct)
	}
	resp = a.do(t, req{method: "GET", target: "/api/trips/1", cookie: &http.Cookie{Name: websec.DefaultCookieName, Value: "forged"}})
	wantStatus(t, "forged cookie", resp, http.StatusUnauthorized)

	// On loopback without passphrase: no login, a session all the same.
	l := newApp(t, "", "127.0.0.1:8080")
	resp = l.do(t, req{method: "GET", target: "/api/trips/1"})
	wantStatus(t, "loopback", resp, http.StatusOK)
	if sessionCookie(resp) == nil {
		t.Fatal("loopback: no session cookie (needed for CSRF)")
	}
	resp = l.do(t, req{method: "GET", target: "/login"})
	wantStatus(t, "loopback login page", resp, http.StatusSeeOther)
	// ...but only for this machine's names, and not through a proxy.
	for _, h := range []string{"localhost:8080", "[::1]:8080", "127.0.0.1"} {
		l.host = h
		wantStatus(t, "Host "+h, l.do(t, req{method: "GET", target: "/trips"}), http.StatusOK)
	}
	for _, h := range []string{"evil.example", "coach.example.org:8080", "192.168.1.20:8080"} {
		l.host = h
		wantStatus(t, "Host "+h, l.do(t, req{method: "GET", target: "/trips"}), http.StatusForbidden)
	}
	l.host = "127.0.0.1:8080"
	for _, h := range []string{"X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host"} {
		wantStatus(t, "through a proxy ("+h+")", l.do(t, req{method: "GET", target: "/trips", header: map[string]string{h: "203.0.113.9"}}), http.StatusForbidden)
	}

	// With a passphrase, on loopback too.
	p := newApp(t, passphrase, "127.0.0.1:8080")
	p.host = "127.0.0.1:8080"
	wantStatus(t, "loopback with passphrase", p.do(t, req{method: "GET", target: "/api/trips/1"}), http.StatusUnauthorized)
}

func TestLoginFlow(t *testing.T) {
	a := newApp(t, passphrase, ":8080")
	resp := a.do(t, req{method: "GET", target: "/login?next=%2Ftrips%3Fmonth%3D2024-01"})
	page := body(t, resp)
	if !strings.Contains(page, `name="next" value="/trips?month=2024-01"`) || !strings.Contains(page, `type="password"`) || strings.Contains(page, "<script") || strings.Contains(page, "style=") {
		t.Fatalf("login page:\n%s", page)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("the login page may be cached")
	}
	resp = a.do(t, req{method: "GET", target: "/login", header: map[string]string{"Accept-Language": "fr-FR,fr;q=0.9"}})
	if page := body(t, resp); !strings.Contains(page, `lang="fr"`) || !strings.Contains(page, "Phrase de passe") {
		t.Fatalf("French login page:\n%s", page)
	}

	resp = a.do(t, req{method: "POST", target: "/login", form: url.Values{"passphrase": {"wrong passphrase!"}, "next": {"/trips"}}})
	wantStatus(t, "wrong passphrase", resp, http.StatusUnauthorized)
	if sessionCookie(resp) != nil {
		t.Fatal("a wrong passphrase opened a session")
	}
	if !strings.Contains(body(t, resp), "Wrong passphrase") {
		t.Fatal("the page does not say the passphrase is wrong")
	}

	resp = a.do(t, req{method: "POST", target: "/login", form: url.Values{"passphrase": {passphrase}, "next": {"/trips?month=2024-01"}}})
	wantStatus(t, "login", resp, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/trips?month=2024-01" {
		t.Fatalf("after login, redirect to %q", loc)
	}
	c := sessionCookie(resp)
	if c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.MaxAge <= 0 || len(c.Value) < 40 {
		t.Fatalf("session cookie %+v: want Secure, HttpOnly, SameSite=Strict, Path=/, a lifetime and a long random value", c)
	}
	raw := resp.Header.Get("Set-Cookie")
	for _, attr := range []string{"Secure", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(raw, attr) {
			t.Errorf("Set-Cookie %q lacks %s", raw, attr)
		}
	}
	wantStatus(t, "with the session", a.do(t, req{method: "GET", target: "/trips", cookie: c}), http.StatusOK)

	// A new login gives a new token and ends the old session.
	resp = a.do(t, req{method: "POST", target: "/login", form: url.Values{"passphrase": {passphrase}}, cookie: c})
	c2 := sessionCookie(resp)
	if c2 == nil || c2.Value == c.Value {
		t.Fatal("a new login kept the session token")
	}
	wantStatus(t, "old session after a new login", a.do(t, req{method: "GET", target: "/api/trips/1", cookie: c}), http.StatusUnauthorized)

	// Redirects stay on this server.
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "/login", "trips"} {
		resp := a.do(t, req{method: "POST", target: "/login", form: url.Values{"passphrase": {passphrase}, "next": {next}}})
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%q: redirect to %q", next, loc)
		}
	}

	// Sessions expire.
	a.clock.add(websec.DefaultSessionTTL + time.Second)
	wantStatus(t, "expired session", a.do(t, req{method: "GET", target: "/api/trips/1", cookie: c2}), http.StatusUnauthorized)

	// Only GET and POST on /login.
	wantStatus(t, "PUT /login", a.do(t, req{method: "PUT", target: "/login"}), http.StatusMethodNotAllowed)
}

func TestCSRF(t *testing.T) {
	a := newApp(t, passphrase, ":8080")
	c, tok := a.login(t)
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		wantStatus(t, m+" without token", a.do(t, req{method: m, target: "/api/trips/1", cookie: c, body: "{}"}), http.StatusForbidden)
		wantStatus(t, m+" with a wrong token", a.do(t, req{method: m, target: "/api/trips/1", cookie: c, header: map[string]string{websec.CSRFHeader: tok + "x"}}), http.StatusForbidden)
		wantStatus(t, m+" with the token", a.do(t, req{method: m, target: "/api/trips/1", cookie: c, header: map[string]string{websec.CSRFHeader: tok}}), http.StatusOK)
	}
	wantStatus(t, "form with the token", a.do(t, req{method: "POST", target: "/api/trips/1", cookie: c, form: url.Values{websec.CSRFField: {tok}}}), http.StatusOK)
	wantStatus(t, "form without the token", a.do(t, req{method: "POST", target: "/api/trips/1", cookie: c, form: url.Values{"mode": {"BIKE"}}}), http.StatusForbidden)
	// The token of another session does not do.
	_, other := a.login(t)
	wantStatus(t, "another session's token", a.do(t, req{method: "POST", target: "/api/trips/1", cookie: c, header: map[string]string{websec.CSRFHeader: other}}), http.StatusForbidden)
	// Cross-origin requests are refused, token or not.
	for name, h := range map[string]map[string]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site", websec.CSRFHeader: tok},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site": "same-site", websec.CSRFHeader: tok},
		"foreign Origin":            {"Origin": "https://evil.example", websec.CSRFHeader: tok},
	} {
		wantStatus(t, name, a.do(t, req{method: "POST", target: "/api/trips/1", cookie: c, header: h}), http.StatusForbidden)
	}
	wantStatus(t, "same origin", a.do(t, req{method: "POST", target: "/api/trips/1", cookie: c,
		header: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "https://coach.example.org", websec.CSRFHeader: tok}}), http.StatusOK)
	wantStatus(t, "cross-origin login", a.do(t, req{method: "POST", target: "/login", form: url.Values{"passphrase": {passphrase}},
		header: map[string]string{"Sec-Fetch-Site": "cross-site"}}), http.StatusForbidden)
	// Safe methods need no token.
	wantStatus(t, "GET", a.do(t, req{method: "GET", target: "/api/trips/1", cookie: c}), http.StatusOK)

	// On loopback, without login, CSRF is checked all the same.
	l := newApp(t, "", "127.0.0.1:8080")
	resp := l.do(t, req{method: "GET", target: "/"})
	lc := sessionCookie(resp)
	ltok := tokenRE.FindStringSubmatch(body(t, resp))[1]
	wantStatus(t, "loopback POST without token", l.do(t, req{method: "POST", target: "/api/trips/1", cookie: lc}), http.StatusForbidden)
	wantStatus(t, "loopback POST without session", l.do(t, req{method: "POST", target: "/api/trips/1", header: map[string]string{websec.CSRFHeader: ltok}}), http.StatusForbidden)
	wantStatus(t, "loopback POST from another site", l.do(t, req{method: "POST", target: "/api/trips/1", cookie: lc,
		header: map[string]string{"Origin": "https://evil.example", websec.CSRFHeader: ltok}}), http.StatusForbidden)
	wantStatus(t, "loopback POST with token", l.do(t, req{method: "POST", target: "/api/trips/1", cookie: lc, header: map[string]string{websec.CSRFHeader: ltok}}), http.StatusOK)
}

func TestLoginRateLimit(t *testing.T) {
	a := newApp(t, passphrase, ":8080")
	wrong := url.Values{"passphrase": {"not the passphrase"}}
	for i := range 5 {
		wantStatus(t, fmt.Sprintf("attempt %d", i+1), a.do(t, req{method: "POST", target: "/login", form: wrong}), http.StatusUnauthorized)
	}
	resp := a.do(t, req{method: "POST", target: "/login", form: url.Values{"passphrase": {passphrase}}})
	wantStatus(t, "6th attempt, even right", resp, http.StatusTooManyRequests)
	if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
	if sessionCookie(resp) != nil {
		t.Fatal("a rate-limited attempt opened a session")
	}
	// Another client is not limited.
	wantStatus(t, "another client", a.do(t, req{method: "POST", target: "/login", form: url.Values{"passphrase": {passphrase}}, remote: "198.51.100.7:1"}), http.StatusSeeOther)
	// IPv6 clients are limited by /64.
	for i := range 5 {
		a.do(t, req{method: "POST", target: "/login", form: wrong, remote: fmt.Sprintf("[2001:db8:1:2::%x]:1", i+1)})
	}
	wantStatus(t, "same /64", a.do(t, req{method: "POST", target: "/login", form: wrong, remote: "[2001:db8:1:2::99]:1"}), http.StatusTooManyRequests)
	// A minute later, the client may try again.
	a.clock.add(61 * time.Second)
	wantStatus(t, "a minute later", a.do(t, req{method: "POST", target: "/login", form: url.Values{"passphrase": {passphrase}}}), http.StatusSeeOther)
}

func TestLogout(t *testing.T) {
	a := newApp(t, passphrase, ":8080")
	c, tok := a.login(t)
	wantStatus(t, "GET /logout", a.do(t, req{method: "GET", target: "/logout", cookie: c}), http.StatusMethodNotAllowed)
	wantStatus(t, "logout without token", a.do(t, req{method: "POST", target: "/logout", cookie: c}), http.StatusForbidden)
	wantStatus(t, "still logged in", a.do(t, req{method: "GET", target: "/api/trips/1", cookie: c}), http.StatusOK)
	resp := a.do(t, req{method: "POST", target: "/logout", cookie: c, form: url.Values{websec.CSRFField: {tok}}})
	wantStatus(t, "logout", resp, http.StatusSeeOther)
	if cleared := sessionCookie(resp); cleared == nil || cleared.MaxAge >= 0 || cleared.Value != "" {
		t.Fatalf("logout cookie %+v: want it deleted", cleared)
	}
	wantStatus(t, "after logout", a.do(t, req{method: "GET", target: "/api/trips/1", cookie: c}), http.StatusUnauthorized)
}

func TestHashPassphrase(t *testing.T) {
	hash, err := websec.HashPassphrase(passphrase, websec.MinIterations)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "pbkdf2-sha256$10000$") || strings.Contains(hash, passphrase) {
		t.Fatalf("hash %q", hash)
	}
	if other, _ := websec.HashPassphrase(passphrase, websec.MinIterations); other == hash {
		t.Fatal("two hashes of the same passphrase are equal: no salt")
	}
	a := newApp(t, hash, ":8080")
	a.login(t)
	wantStatus(t, "the hash as passphrase", a.do(t, req{method: "POST", target: "/login", form: url.Values{"passphrase": {hash}}}), http.StatusUnauthorized)

	for _, bad := range []string{"pbkdf2-sha256$", "pbkdf2-sha256$100$AAAAAAAAAAA$" + strings.Repeat("A", 43), "pbkdf2-sha256$10000$!!$x", "pbkdf2-sha256$10000$AAAAAAAAAAA$AAAA"} {
		if _, err := websec.NewAuth(bad, websec.AuthOptions{Addr: ":8080"}); err == nil {
			t.Errorf("NewAuth(%q): accepted", bad)
		}
	}
	if _, err := websec.HashPassphrase(passphrase, 1000); err == nil {
		t.Error("1000 iterations: accepted")
	}
	if _, err := websec.HashPassphrase("short", 0); err == nil {
		t.Error("a short passphrase: accepted")
	}
}

// logLines decodes the JSON lines of the access log whose message is "http".
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "http" {
			out = append(out, m)
		}
	}
	return out
}

func TestAccessLog(t *testing.T) {
	a := newApp(t, passphrase, ":8080")
	c, _ := a.login(t)
	a.log.Reset()
	a.do(t, req{method: "GET", target: "/api/trips/trip-4815162342?token=SECRET-QUERY&lat=48.85", cookie: c,
		header: map[string]string{"User-Agent": "SECRET-AGENT", "Referer": "https://secret.example/"}})
	a.do(t, req{method: "GET", target: "/no/such/page-77", cookie: c})
	a.do(t, req{method: "GET", target: "/boom", cookie: c})
	a.do(t, req{method: "GET", target: "/api/trips/5"})
	a.do(t, req{method: "BREW", target: "/api/trips/5", cookie: c})

	logged := a.log.String()
	for _, secret := range []string{"4815162342", "SECRET", "48.85", "192.0.2.1", c.Value, "trip of alice", "secret.example", "no/such"} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logged)
		}
	}
	lines := logLines(t, a.log)
	want := []struct {
		method, route string
		status        float64
	}{
		{"GET", "GET /api/trips/{id}", 200},
		{"GET", "unmatched", 404},
		{"GET", "GET /boom", 500},
		{"GET", "(auth)", 401},
		{"OTHER", "(csrf)", 403},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d access log lines, want %d:\n%s", len(lines), len(want), logged)
	}
	for i, w := range want {
		l := lines[i]
		if l["method"] != w.method || l["route"] != w.route || l["status"] != w.status {
			t.Errorf("line %d: %v, want %s %s %v", i, l, w.method, w.route, w.status)
		}
		if _, ok := l["duration_ms"].(float64); !ok {
			t.Errorf("line %d: no duration_ms", i)
		}
		for k := range l {
			switch k {
			case "time", "level", "msg", "method", "route", "status", "bytes", "duration_ms":
			default:
				t.Errorf("line %d: unexpected field %q", i, k)
			}
		}
	}
	if !strings.Contains(logged, `"panic":"string"`) {
		t.Errorf("the panic is not logged by type:\n%s", logged)
	}
}

// bigForm is a form body of about n bytes whose CSRF token comes last, as a browser sends it.
func bigForm(n int, token string) string {
	return url.Values{"name": {strings.Repeat("x", n)}}.Encode() + "&" + url.Values{websec.CSRFField: {token}}.Encode()
}

// TestBodyTooLarge: a mutating request larger than MaxBody gets 413 "too large", whether its
// length is declared or not, before the CSRF token is looked for in it.
func TestBodyTooLarge(t *testing.T) {
	a := newApp(t, passphrase, ":8080")
	c, tok := a.login(t)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for _, declared := range []bool{true, false} {
		hr := httptest.NewRequest("POST", "/settings", strings.NewReader(bigForm(20<<20, tok)))
		hr.Host = a.host
		hr.AddCookie(c)
		for k, v := range form {
			hr.Header.Set(k, v)
		}
		if !declared {
			hr.ContentLength = -1 // chunked: the length shows only while reading
		}
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, hr)
		resp := rec.Result()
		if b := body(t, resp); resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(b, "too large") {
			t.Errorf("20 MB form (length declared: %v): %d %q, want 413 too large", declared, resp.StatusCode, b)
		}
	}
	resp := a.do(t, req{method: "POST", target: "/settings", cookie: c, body: bigForm(1000, tok), header: form})
	if b := body(t, resp); resp.StatusCode != http.StatusOK || b != "saved "+strings.Repeat("x", 1000) {
		t.Errorf("a small form: %d %q", resp.StatusCode, b)
	}
	// The login form has its own, smaller bound.
	resp = a.do(t, req{method: "POST", target: "/login", body: bigForm(1<<20, ""), header: form})
	if b := body(t, resp); resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(b, "Form too large") {
		t.Errorf("a 1 MB login form: %d", resp.StatusCode)
	}
}

// TestLoginStylesheetIsPublic: the login page's stylesheet is served without a session, since
// the login page needs it before there is one (it is the same file for everyone, with no
// personal data); everything else, the other static assets included, still needs a session.
func TestLoginStylesheetIsPublic(t *testing.T) {
	a := newApp(t, passphrase, ":8080")
	page := body(t, a.do(t, req{method: "GET", target: "/login"}))
	if !strings.Contains(page, `<link rel="stylesheet" href="/static/app.css">`) {
		t.Fatalf("the login page does not link its stylesheet: %s", page)
	}
	for _, m := range []string{"GET", "HEAD"} {
		resp := a.do(t, req{method: m, target: "/static/app.css"})
		wantStatus(t, m+" the stylesheet without session", resp, http.StatusOK)
		wantHeaders(t, "the stylesheet", resp)
		if sessionCookie(resp) != nil {
			t.Errorf("%s the stylesheet opened a session", m)
		}
	}
	for _, target := range []string{"/static/app.js", "/static/icon.svg", "/static/", "/static/app.css/", "/static//app.css", "/static/app.css.map", "/"} {
		resp := a.do(t, req{method: "GET", target: target})
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("GET %s without session: %d %s, want a redirect to the login", target, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	wantStatus(t, "POST the stylesheet without session", a.do(t, req{method: "POST", target: "/static/app.css"}), http.StatusUnauthorized)
	wantStatus(t, "the API without session", a.do(t, req{method: "GET", target: "/api/trips/1"}), http.StatusUnauthorized)
}

// TestLoginLanguage: the login page speaks the browser's best supported language, by q-value
// and past unsupported ones, as the app does (pkg/i18n), errors included.
func TestLoginLanguage(t *testing.T) {
	a := newApp(t, passphrase, ":8080")
	for accept, want := range map[string]string{
		"":                   `lang="en"`,
		"fr-CA":              `lang="fr"`,
		"de":                 `lang="en"`,
		"de-DE, fr;q=0.8":    `lang="fr"`,
		"en;q=0.5, fr;q=0.9": `lang="fr"`,
		"fr;q=0.1, en":       `lang="en"`,
	} {
		resp := a.do(t, req{method: "GET", target: "/login", header: map[string]string{"Accept-Language": accept}})
		if page := body(t, resp); !strings.Contains(page, want) {
			t.Errorf("Accept-Language %q: want %s in\n%s", accept, want, page)
		}
	}
	resp := a.do(t, req{method: "POST", target: "/login", form: url.Values{"passphrase": {"wrong passphrase!"}},
		header: map[string]string{"Accept-Language": "de, fr;q=0.5"}})
	wantStatus(t, "wrong passphrase", resp, http.StatusUnauthorized)
	if page := body(t, resp); !strings.Contains(page, "Phrase de passe incorrecte.") || !strings.Contains(page, "Se connecter") {
		t.Errorf("French login error:\n%s", page)
	}
}
