package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/sampledata"
	"github.com/coachco2/coachco2/pkg/syncbuf"
)

// runErr runs the connector's command line in-process as main does, and returns what it printed,
// its exit code and its error.
func runErr(t *testing.T, args ...string) (out string, code int, err error) {
	t.Helper()
	var buf bytes.Buffer
	code, err = execute(t.Context(), args, &buf, &buf)
	return buf.String(), code, err
}

// run is runErr without the error.
func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, code, _ := runErr(t, args...)
	return out, code
}

// sampleData is the shared samples' user, without composite entries.
func sampleData(t *testing.T) *devserver.UserData {
	t.Helper()
	data, err := devserver.LoadDir(sampledata.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	data.Composite = nil
	return data
}

// sampleDevserver serves data as the user whose token is token, with its faults drawn from seed.
func sampleDevserver(t *testing.T, seed int64, token string, data *devserver.UserData) *devserver.Server {
	t.Helper()
	srv, err := devserver.New(devserver.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.SetUser(token, data); err != nil {
		t.Fatal(err)
	}
	return srv
}

func sampleServer(t *testing.T, breakTrip bool) string {
	t.Helper()
	data := sampleData(t)
	if breakTrip {
		var fc map[string]any
		if err := json.Unmarshal(data.Trips[0], &fc); err != nil {
			t.Fatal(err)
		}
		fc["properties"].(map[string]any)["end_fmt_time"] = "yesterday"
		data.Trips[0], _ = json.Marshal(fc)
	}
	hs := httptest.NewServer(sampleDevserver(t, 5, "sample-user", data))
	t.Cleanup(hs.Close)
	return hs.URL
}

func TestSyncCommand(t *testing.T) {
	url := sampleServer(t, false)
	vaultFile := filepath.Join(t.TempDir(), "vault.db")
	common := []string{"--vault", vaultFile, "--instance", "alice"}

	out, code := run(t, append([]string{"sync", "--server", url, "--token", "sample-user", "--device", "pixel", "--json"}, common...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	var sum struct {
		Fetched int `json:"trips_fetched"`
		Created int `json:"created"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Fetched != 76 || sum.Created != 76 {
		t.Fatalf("summary %s (%v)", out, err)
	}
	if out, code = run(t, append([]string{"sync", "--json"}, common...)...); code != exitOK || !strings.Contains(out, `"created":0`) {
		t.Fatalf("second sync of all accounts: exit %d: %s", code, out)
	}
	out, code = run(t, append([]string{"status", "--json"}, common...)...)
	if code != exitOK || !strings.Contains(out, `"trips":76`) || !strings.Contains(out, `"status":"ok"`) {
		t.Fatalf("status: exit %d: %s", code, out)
	}
	out, code = run(t, append([]string{"accounts", "list", "--json"}, common...)...)
	if code != exitOK || strings.Contains(out, "sample-user") || !strings.Contains(out, "pixel") {
		t.Fatalf("accounts list (the token must not show): exit %d: %s", code, out)
	}
}

func TestSyncExitCodes(t *testing.T) {
	url := sampleServer(t, false)
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"no vault", []string{"sync"}, exitUsage},
		{"unknown flag", []string{"sync", "--nope"}, exitUsage},
		{"server without token", []string{"sync", "--vault", filepath.Join(dir, "a.db"), "--instance", "a", "--server", url}, exitUsage},
		{"no account", []string{"sync", "--vault", filepath.Join(dir, "b.db"), "--instance", "b"}, exitUsage},
		{"refused token", []string{"sync", "--vault", filepath.Join(dir, "c.db"), "--instance", "c", "--server", url, "--token", "wrong"}, exitAuthRefused},
		{"vault in a missing directory", []string{"sync", "--vault", filepath.Join(dir, "nope", "d.db"), "--instance", "d", "--server", url, "--token", "sample-user"}, exitVault},
	}
	for _, c := range cases {
		if out, code := run(t, c.args...); code != c.want {
			t.Errorf("%s: exit %d, want %d: %s", c.name, code, c.want, out)
		}
	}
	broken := sampleServer(t, true)
	if out, code := run(t, "sync", "--vault", filepath.Join(dir, "e.db"), "--instance", "e", "--server", broken, "--token", "sample-user"); code != exitPartial {
		t.Errorf("a malformed trip: exit %d, want %d: %s", code, exitPartial, out)
	}
}

// TestSyncEvery: --every syncs, waits, and stops cleanly when the process is told to.
func TestSyncEvery(t *testing.T) {
	url := sampleServer(t, false)
	vaultFile := filepath.Join(t.TempDir(), "vault.db")
	if _, code := run(t, "accounts", "add", "--vault", vaultFile, "--instance", "a", "--server", url, "--token", "sample-user"); code != exitOK {
		t.Fatalf("accounts add: exit %d", code)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var out syncbuf.Buffer
	synced := out.Holds(`"created":76`)
	done := make(chan error, 1)
	go func() {
		_, err := execute(ctx, []string{"sync", "--every", "1m", "--json", "--vault", vaultFile, "--instance", "a"}, &out, io.Discard)
		done <- err
	}()
	select {
	case <-synced:
	case err := <-done:
		t.Fatalf("sync --every ended before its first sync: %v\n%s", err, out.String())
	}
	cancel() // what SIGINT and SIGTERM do
	if err := <-done; err != nil {
		t.Fatalf("stopping: %v", err)
	}
}
