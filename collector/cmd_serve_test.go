package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/cmdenv"
)

// "collector serve" with a PostgreSQL it cannot reach fails, and neither its error nor its output
// shows the password, percent-encoded or not.
func TestServeHidesDatabasePassword(t *testing.T) {
	t.Setenv("COACHCO2_COLLECTOR_TOKEN", "test-admin-token-0123456789")
	for _, pw := range []string{"Zq8!vé&@%x", "9876#5432zz", "p@ss/w0rdXY"} {
		for _, dsn := range []string{
			"postgres://" + url.UserPassword("collector", pw).String() + "@127.0.0.1:1/collector?sslmode=disable",
			"postgres://collector:" + pw + "@127.0.0.1:1/collector?sslmode=disable",
		} {
			var out bytes.Buffer
			err := cmdenv.Execute(t.Context(), newRootCmd(), []string{"serve", "--db", dsn, "--addr", "127.0.0.1:0"}, &out, &out)
			if err == nil {
				t.Fatalf("collector with nothing listening at the database's address: no error")
			}
			text := err.Error() + "\n" + out.String()
			// The password, escaped or not, and each run of 4+ letters and digits of it (an
			// unescaped "#" or "/" cuts it in two).
			forms := append([]string{pw, url.QueryEscape(pw), url.PathEscape(pw)}, strings.FieldsFunc(pw, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
			})...)
			for _, form := range forms {
				if len(form) >= 4 && strings.Contains(text, form) {
					t.Errorf("the password shows (as %q):\n%s", form, text)
				}
			}
		}
	}
}

// TestServe runs the collector on a listener over a SQLite file: it answers, requires the admin
// token to register a study, and stops cleanly when its context ends.
func TestServe(t *testing.T) {
	const token = "test-admin-token-0123456789"
	t.Setenv("COACHCO2_COLLECTOR_TOKEN", token)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f := &serveFlags{db: filepath.Join(t.TempDir(), "collector.db"), rate: -1, retentionEvery: time.Hour, shutdownGrace: time.Minute}
	var logs bytes.Buffer // slog's handler serialises the writes; read once serve returned
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, f, &logs) }()

	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPut, base+"/studies/s1", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("PUT a study without the admin token: %d %s, want 401", resp.StatusCode, b)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if l := logs.String(); !strings.Contains(l, "collector listening") || !strings.Contains(l, "stopped") || strings.Contains(l, token) {
		t.Fatalf("logs (listening and stopped, never the token):\n%s", l)
	}
}

// TestExitCodes: what the person typed wrong exits 2; the rest 1.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "collector.db")
	t.Setenv("COACHCO2_COLLECTOR_TOKEN", "")
	t.Setenv("COACHCO2_COLLECTOR_DB", "")
	for _, c := range []struct {
		name, token string
		args        []string
		want        int
		says        string
	}{
		{"unknown flag", "", []string{"serve", "--nope"}, exitUsage, "unknown flag"},
		{"no database", "test-admin-token-0123456789", []string{"serve"}, exitUsage, "no database"},
		{"certificate without key", "test-admin-token-0123456789", []string{"serve", "--db", db, "--tls-cert", "c.pem"}, exitUsage, "go together"},
		{"no token", "", []string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, exitUsage, "no admin token"},
		{"short token", "short", []string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, exitUsage, "at least 16 characters"},
		{"missing token file", "", []string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--admin-token-file", filepath.Join(dir, "nope")}, exitError, "admin token file"},
		{"database in a missing directory", "test-admin-token-0123456789", []string{"serve", "--db", filepath.Join(dir, "nope", "c.db"), "--addr", "127.0.0.1:0"}, exitError, ""},
	} {
		t.Setenv("COACHCO2_COLLECTOR_TOKEN", c.token)
		err := cmdenv.Execute(t.Context(), newRootCmd(), c.args, io.Discard, io.Discard)
		code := exitCode(err)
		if code != c.want || err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: exit %d (want %d), error %v (want it to say %q)", c.name, code, c.want, err, c.says)
		}
	}
}
