package main

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coachco2/coachco2/pkg/openpath"
)

// runCmd is runErr with the error as main prints it ("" for none).
func runCmd(t *testing.T, args ...string) (out string, code int, errText string) {
	t.Helper()
	out, code, err := runErr(t, args...)
	if err != nil {
		errText = err.Error()
	}
	return out, code, errText
}

// brokenServer serves the shared samples as the user whose token is token; while broken holds a
// body, find_entries answers it with 200.
func brokenServer(t *testing.T, token string, broken *atomic.Pointer[string]) string {
	t.Helper()
	srv := sampleDevserver(t, 0, token, sampleData(t))
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if body := broken.Load(); body != nil && r.URL.Path == string(openpath.RouteFindEntries) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, *body)
			return
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return hs.URL
}

type statusRow struct {
	Trips  int `json:"trips"`
	Cursor struct {
		Trips  float64 `json:"trips"`
		Labels float64 `json:"labels"`
	} `json:"cursor"`
	LastRun *struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	} `json:"last_run"`
}

func status(t *testing.T, common []string) (statusRow, string) {
	t.Helper()
	out, code, _ := runCmd(t, append([]string{"status", "--json"}, common...)...)
	var rows []statusRow
	if code != exitOK || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 {
		t.Fatalf("status: exit %d: %s", code, out)
	}
	return rows[0], out
}

// tokenForms returns token as a server may echo it: raw, JSON-escaped the ways Go and Python do
// (\u0026, \u00e9), HTML-escaped, URL-escaped.
func tokenForms(token string) []string {
	goJSON, _ := json.Marshal(token)
	var ascii strings.Builder
	for _, r := range token {
		switch {
		case r == '"' || r == '\\':
			ascii.WriteString(`\` + string(r))
		case r > 0x7e:
			fmt.Fprintf(&ascii, `\u%04x`, r)
		default:
			ascii.WriteRune(r)
		}
	}
	return []string{token, string(goJSON[1 : len(goJSON)-1]), ascii.String(), html.EscapeString(token),
		url.QueryEscape(token), url.PathEscape(token), "prog_sub_a"}
}

// TestSyncAnswerWithoutPayload: a find_entries answer without its list (an error object echoing
// the token) is not "no trips": the sync exits 4, the cursor does not move, status says error, and
// neither the printed error, the --json summary nor the stored last error holds the token. The
// next sync against a healthy server fetches every trip.
func TestSyncAnswerWithoutPayload(t *testing.T) {
	const token = `nrelop_prog_sub_a&b<c"é9f2`
	forms := tokenForms(token)
	echo, _ := json.Marshal(map[string]string{"error": "database busy for " + strings.Join(forms, " ")})
	for _, body := range []string{string(echo)} {
		var broken atomic.Pointer[string]
		broken.Store(&body)
		srvURL := brokenServer(t, token, &broken)
		common := []string{"--vault", filepath.Join(t.TempDir(), "vault.db"), "--instance", "alice"}
		sync := append([]string{"sync", "--server", srvURL, "--token", token, "--json"}, common...)

		out, code, errText := runCmd(t, sync...)
		if code != exitServerDown || !strings.Contains(errText, `malformed answer`) || !strings.Contains(out, `"phone_data\" is missing`) {
			t.Fatalf("%s: exit %d, want %d: %s %s", body, code, exitServerDown, out, errText)
		}
		row, raw := status(t, common)
		if row.Cursor.Trips != 0 || row.Cursor.Labels != 0 || row.Trips != 0 || row.LastRun == nil || row.LastRun.Status != "error" {
			t.Fatalf("%s: after the failed sync the cursor moved or status is not error: %s", body, raw)
		}
		for _, form := range forms {
			for what, text := range map[string]string{"error": errText, "--json summary": out, "status --json": raw} {
				if strings.Contains(text, form) {
					t.Errorf("the %s holds the token as %q: %s", what, form, text)
				}
			}
		}

		broken.Store(nil)
		out, code, errText = runCmd(t, sync...)
		if code != exitOK {
			t.Fatalf("%s: healthy server: exit %d: %s %s", body, code, out, errText)
		}
		if row, raw := status(t, common); row.Trips != 76 || row.Cursor.Trips == 0 || row.LastRun.Status != "ok" {
			t.Errorf("%s: after the healthy sync: %s", body, raw)
		}
	}
}

// TestSyncRefusalEchoingToken: a server refusing the token with an error page that echoes it
// (HTML-escaped, as Bottle writes it, and raw): exit 3, and the token is in neither the printed
// error, the --json summary nor the stored last error.
func TestSyncRefusalEchoingToken(t *testing.T) {
	const token = `nrelop_prog_sub_a&b<c"é9f2`
	forms := tokenForms(token)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		echo := "Invalid token " + strings.Join(forms, " ") + ", not found in list of length 3"
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "<html><body><h1>Error: 403 Forbidden</h1><pre>%s</pre>%s</body></html>", html.EscapeString(echo), echo)
	}))
	defer srv.Close()
	common := []string{"--vault", filepath.Join(t.TempDir(), "vault.db"), "--instance", "alice"}
	out, code, errText := runCmd(t, append([]string{"sync", "--server", srv.URL, "--token", token, "--json"}, common...)...)
	if code != exitAuthRefused || !strings.Contains(errText, "the token is not in the server's token list") {
		t.Fatalf("exit %d, want %d: %s %s", code, exitAuthRefused, out, errText)
	}
	row, raw := status(t, common)
	if row.LastRun == nil || row.LastRun.Status != "error" || !strings.Contains(row.LastRun.Error, "403 Forbidden") {
		t.Fatalf("status: %s", raw)
	}
	for _, form := range forms {
		for what, text := range map[string]string{"error": errText, "--json summary": out, "status --json": raw} {
			if strings.Contains(text, form) {
				t.Errorf("the %s holds the token as %q: %s", what, form, text)
			}
		}
	}
}
