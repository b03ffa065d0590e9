package webapp_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/coach"
)

// TestErrorsNameNoVault: the API's errors (and the pages') say what went wrong without naming
// the vault file, its directory, the instance or the databases, whatever the error: a bad
// request, a missing trip, a malformed edit, or a store that fails.
func TestErrorsNameNoVault(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secret-dir")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	srv, c, v := newAppVault(t, filepath.Join(dir, "my-vault.db"), "zorglub")
	list, _, err := c.ListTrips(t.Context(), coach.TripQuery{Limit: 1})
	if err != nil || len(list) != 1 {
		t.Fatal(err)
	}
	id := list[0].ID
	secrets := []string{"secret-dir", "my-vault", "zorglub", "io-cozy", "vault file", "sqlitecouch", "vault:"}
	check := func(what string, code int, body string, status int, says string) {
		t.Helper()
		if code != status || !strings.Contains(body, says) {
			t.Errorf("%s: %d %q, want %d saying %q", what, code, body, status, says)
		}
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("%s: %q names %q", what, body, s)
			}
		}
	}
	post := func(target, contentType, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(srv.URL+target, contentType, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		target string
		status int
		says   string
	}{
		{"/api/trips/nope", 404, `{"error":"not found"}`},
		{"/api/trips/" + id + "x", 404, "not found"},
		{"/api/trips?mode=BOAT", 400, "unknown mode or purpose"},
		{"/api/trips?purpose=NAP", 400, "unknown mode or purpose"},
		{"/api/trips?month=2016-13", 400, `month \"2016-13\": want YYYY-MM`},
		{"/api/analysis?period=20", 400, "want YYYY or YYYY-MM"},
		{"/api/analysis?period=2016-13", 400, "want YYYY-MM"},
		{"/trips/nope", 404, "not found"},
		{"/trips?month=nope", 400, "want YYYY-MM"},
		{"/analysis?period=x", 400, "want YYYY or YYYY-MM"},
		{"/exports/trips.csv?from=2016-13", 400, "want YYYY-MM"},
		{"/exports/attestation.pdf?year=x", 400, "want YYYY"},
	} {
		code, body := get(t, srv.URL+c.target)
		check("GET "+c.target, code, body, c.status, c.says)
	}
	for _, c := range []struct {
		target, contentType, body string
		status                    int
		says                      string
	}{
		{"/api/trips/nope", "application/json", `{"purpose":"WORK"}`, 404, "not found"},
		{"/api/trips/" + id, "application/json", `{"purpose":`, 400, "malformed edit"},
		{"/api/trips/" + id, "application/json", `{"nope":1}`, 400, "malformed edit"},
		{"/api/trips/" + id, "application/json", `{"sectionModes":{"x":"BUS"}}`, 400, "want an index"},
		{"/api/trips/" + id, "application/json", `{"sectionModes":{"0":"BOAT"}}`, 400, "BOAT"},
		{"/api/trips/" + id, "application/json", `{"purpose":"` + strings.Repeat("x", 70<<10) + `"}`, 400, "malformed edit"},
		{"/trips/nope", "application/x-www-form-urlencoded", "purpose=WORK", 404, "not found"},
		{"/trips/" + id, "application/x-www-form-urlencoded", "section-0=BOAT", 400, "BOAT"},
	} {
		code, body := post(c.target, c.contentType, c.body)
		check("POST "+c.target+" "+c.body[:min(len(c.body), 30)], code, body, c.status, c.says)
	}

	// A store that fails: every route answers 500, and says nothing more.
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/api/trips/" + id, "/api/trips?month=2016-08", "/api/analysis?period=2016", "/api/dashboard", "/trips/" + id} {
		code, body := get(t, srv.URL+target)
		check("GET "+target+" with the store closed", code, body, 500, "Internal Server Error")
	}
	code, body := post("/api/trips/"+id, "application/json", `{"purpose":"WORK"}`)
	check("POST an edit with the store closed", code, body, 500, "Internal Server Error")
}

// TestStaticListsNoDirectory: /static/ serves its files, and 404 for a directory.
func TestStaticListsNoDirectory(t *testing.T) {
	srv, _ := newApp(t)
	for target, status := range map[string]int{
		"/static/app.css": 200, "/static/app.js": 200, "/static/icon.svg": 200,
		"/static/": 404, "/static": 404, "/static/./": 404, "/static/nope.css": 404,
	} {
		code, body := get(t, srv.URL+target)
		if code != status || strings.Contains(body, "app.js") && target != "/static/app.js" {
			t.Errorf("GET %s: %d, want %d: %.200s", target, code, status, body)
		}
	}
}
