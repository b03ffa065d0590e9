package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/openpath/devserver"
	"github.com/coachco2/coachco2/pkg/sampledata"
)

// run runs the connector's command line in-process and returns its stdout and exit code.
func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	err := root.ExecuteContext(context.Background())
	code := exitCode(err)
	if err != nil && !started {
		code = exitUsage
	}
	return out.String(), code
}

func sampleServer(t *testing.T, breakTrip bool) string {
	t.Helper()
	srv, err := devserver.New(devserver.Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	data, err := devserver.LoadDir(sampledata.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	data.Composite = nil
	if breakTrip {
		var fc map[string]any
		if err := json.Unmarshal(data.Trips[0], &fc); err != nil {
			t.Fatal(err)
		}
		fc["properties"].(map[string]any)["end_fmt_time"] = "yesterday"
		data.Trips[0], _ = json.Marshal(fc)
	}
	if err := srv.SetUser("sample-user", data); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
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
	ctx, cancel := context.WithCancel(context.Background())
	f := &syncFlags{vaultFlags: vaultFlags{dsn: vaultFile, instance: "a"}, every: time.Minute, json: true}
	done := make(chan error, 1)
	var out syncBuffer
	go func() { done <- f.run(ctx, &out) }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), `"created":76`) {
		if time.Now().After(deadline) {
			t.Fatalf("no sync within 20s: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel() // what SIGINT and SIGTERM do
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stopping: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("--every did not stop on cancellation")
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
