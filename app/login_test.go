package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestServeLoginAndLimits runs `app serve` with a passphrase: the login page is styled (its
// stylesheet needs no session, the other assets and the pages still do), and a 20 MB form gets
// 413 "too large", not a CSRF refusal.
func TestServeLoginAndLimits(t *testing.T) {
	dsn, instance := syncedVault(t, couch.Backends()[0], false)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	const pass = "a passphrase long enough"
	go func() { done <- serveOn(ctx, vaultFlags{dsn: dsn, instance: instance}, ln, pass, io.Discard) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	base := "http://" + ln.Addr().String()
	jar := &cookieJar{cookies: map[string][]*http.Cookie{}}
	client := &http.Client{Jar: jar, Transport: &http.Transport{DialContext: (&net.Dialer{}).DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
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
