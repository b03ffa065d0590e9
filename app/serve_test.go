package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServe runs `app serve` as a user would, and checks what a browser relies on: the security
// headers, the CSRF protection of corrections, and that it stops cleanly.
func TestServe(t *testing.T) {
	dsn, instance := syncedVault(t, couch.Backends()[0], true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, vaultFlags{dsn: dsn, instance: instance}, "127.0.0.1:0", "", out) }()
	re := regexp.MustCompile(`http://[0-9.:]+/`)
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == ""; {
		if time.Now().After(deadline) {
			t.Fatalf("no URL printed: %q", out.String())
		}
		base = re.FindString(out.String())
		time.Sleep(20 * time.Millisecond)
	}
	// A client of its own: the app's network guard governs the process's default transport.
	jar := &cookieJar{cookies: map[string][]*http.Cookie{}}
	client := &http.Client{Jar: jar, Transport: &http.Transport{DialContext: (&net.Dialer{}).DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
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
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}

type cookieJar struct{ cookies map[string][]*http.Cookie }

func (j *cookieJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	j.cookies[u.Host] = append(j.cookies[u.Host], cookies...)
}
func (j *cookieJar) Cookies(u *url.URL) []*http.Cookie { return j.cookies[u.Host] }

// lockedBuffer is a buffer safe for one writer and one reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
