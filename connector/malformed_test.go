package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/openpath"
	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/sampledata"
)

// runCmd runs the connector's command line in-process like run, and also returns the error main
// would print on stderr.
func runCmd(t *testing.T, args ...string) (out string, code int, errText string) {
	t.Helper()
	root := newRootCmd()
	var buf bytes.Buffer
	root.SetOut(&buf)
	root.SetErr(&buf)
	root.SetArgs(args)
	root.PersistentPreRun = func(*cobra.Command, []string) {}
	err := root.ExecuteContext(context.Background())
	if err != nil {
		errText = err.Error()
	}
	return buf.String(), exitCode(err), errText
}

// brokenServer serves the shared samples as user "sample-user"; while broken holds a body,
// find_entries answers it with 200.
func brokenServer(t *testing.T, broken *atomic.Pointer[string]) string {
	t.Helper()
	srv, err := devserver.New(devserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := devserver.LoadDir(sampledata.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	data.Composite = nil
	if err := srv.SetUser("sample-user", data); err != nil {
		t.Fatal(err)
	}
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

// TestSyncAnswerWithoutPayload: a find_entries answer without its list ({} or an error object) is
// not "no trips": the sync exits 4, the cursor does not move, status says error, and the next sync
// against a healthy server fetches every trip.
func TestSyncAnswerWithoutPayload(t *testing.T) {
	for _, body := range []string{`{}`} {
		var broken atomic.Pointer[string]
		broken.Store(&body)
		url := brokenServer(t, &broken)
		common := []string{"--vault", filepath.Join(t.TempDir(), "vault.db"), "--instance", "alice"}
		sync := append([]string{"sync", "--server", url, "--token", "sample-user", "--json"}, common...)

		out, code, errText := runCmd(t, sync...)
		if code != exitServerDown {
			t.Fatalf("%s: exit %d, want %d: %s %s", body, code, exitServerDown, out, errText)
		}
		row, raw := status(t, common)
		if row.Cursor.Trips != 0 || row.Cursor.Labels != 0 || row.Trips != 0 || row.LastRun == nil || row.LastRun.Status != "error" {
			t.Fatalf("%s: after the failed sync the cursor moved or status is not error: %s", body, raw)
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
