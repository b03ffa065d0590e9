package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/coachco2/coachco2/pkg/accounts"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// envRunMain makes the test binary run the connector's main (see TestMain), so that tests can
// run the connector as a real process and signal it.
const envRunMain = "CONNECTOR_TEST_RUN_MAIN"

// stallingServer serves the sample user, but holds the first request for entries that comes after
// trips were fetched (so some trips are saved by then) until the client gives up; arrived closes
// when that request arrives.
func stallingServer(t *testing.T) (url string, arrived <-chan struct{}) {
	t.Helper()
	srv := sampleDevserver(t, 5, "sample-user", sampleData(t))
	var tripsFetched, stalled atomic.Bool
	ch := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/timeline/getTrips/") {
			tripsFetched.Store(true)
		}
		if strings.HasPrefix(r.URL.Path, "/datastreams/find_entries/") && tripsFetched.Load() && stalled.CompareAndSwap(false, true) {
			// The server notices a client that goes away only once the body is read.
			_, _ = io.Copy(io.Discard, r.Body)
			close(ch)
			<-r.Context().Done() // the connector's signal handling cancels the request
			return
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return hs.URL, ch
}

// connectorProcess runs the connector (this test binary, see envRunMain) with args and env, and
// signals it once arrived closes. It returns the exit code and what the process wrote on stdout
// and stderr.
func connectorProcess(t *testing.T, arrived <-chan struct{}, sig os.Signal, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), envRunMain+"=1"), env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-arrived:
	case err := <-exited:
		t.Fatalf("the connector ended (%v) before the request to interrupt\nstdout: %s\nstderr: %s", err, out.String(), errOut.String())
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	<-exited
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// TestSyncStoppedBySignal: a sync stopped by SIGTERM or SIGINT records its run, interrupted, with
// what it saved, and exits with the documented code (`status` used to show "never" after it).
func TestSyncStoppedBySignal(t *testing.T) {
	cases := []struct {
		name  string
		sig   syscall.Signal
		every bool
		exit  int
		cause string
	}{
		{"sync, SIGTERM", syscall.SIGTERM, false, exitTerminated, "interrupted by SIGTERM"},
		{"sync, SIGINT", syscall.SIGINT, false, exitInterrupted, "interrupted by SIGINT"},
		{"sync --every, SIGTERM", syscall.SIGTERM, true, exitOK, "interrupted by SIGTERM"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url, arrived := stallingServer(t)
			vaultFile := filepath.Join(t.TempDir(), "vault.db")
			common := []string{"--vault", vaultFile, "--instance", "alice"}
			args := append([]string{"sync", "--server", url, "--token", "sample-user", "--device", "pixel"}, common...)
			if c.every {
				args = append(args, "--every", "1h")
			}
			code, stdout, stderr := connectorProcess(t, arrived, c.sig, nil, args...)
			if code != c.exit {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.exit, stdout, stderr)
			}
			if strings.Contains(stdout+stderr, "sample-user") {
				t.Fatalf("the token shows in the output:\n%s\n%s", stdout, stderr)
			}
			out, code := run(t, append([]string{"status", "--json"}, common...)...)
			var rows []struct {
				LastRun *accounts.Run `json:"last_run"`
			}
			if err := json.Unmarshal([]byte(out), &rows); err != nil || code != exitOK || len(rows) != 1 {
				t.Fatalf("status: exit %d, %v: %s", code, err, out)
			}
			r := rows[0].LastRun
			if r == nil || r.Status != "interrupted" || r.Error != c.cause || r.End == "" || r.Created == 0 {
				t.Fatalf("last run %+v, want interrupted (%s) with the trips saved before\nstderr: %s", r, c.cause, stderr)
			}
		})
	}
}

// TestKonnectorStoppedBySignal: a konnector the stack kills (SIGTERM) records its run in the
// account, ends with a final log line, and claims no error code.
func TestKonnectorStoppedBySignal(t *testing.T) {
	ctx := t.Context()
	manifest, err := os.ReadFile("manifest.konnector")
	if err != nil {
		t.Fatal(err)
	}
	stack := vaulttest.NewCozyStack(t, couch.URL(t), vaulttest.Instance(t), manifest)
	url, arrived := stallingServer(t)
	v, err := vault.OpenCozy(ctx, stack.URL, stack.Token)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	accountsDB, err := v.DB(ctx, vault.DoctypeAccounts)
	if err != nil {
		t.Fatal(err)
	}
	id := stack.CreateAccount(t, map[string]any{"account_type": accounts.Slug,
		"auth": map[string]any{"login": "pixel", "password": "sample-user", "serverUrl": url}})
	code, stdout, stderr := connectorProcess(t, arrived, syscall.SIGTERM, []string{
		"COZY_URL=" + stack.URL,
		"COZY_CREDENTIALS=" + stack.Token,
		`COZY_FIELDS={"konnector": "` + accounts.Slug + `", "account": "` + id + `", "folder_to_save": "x"}`,
		"COZY_PARAMETERS=null",
		"COZY_TIME_LIMIT=600",
	})
	if code != exitTerminated {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, exitTerminated, stdout, stderr)
	}
	var last map[string]any
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatalf("stdout line %q is not JSON", sc.Text())
		}
		if last["type"] == "critical" {
			t.Fatalf("a critical line after SIGTERM: %s", sc.Text())
		}
	}
	if last["type"] != "warning" || !strings.Contains(last["message"].(string), "interrupted by SIGTERM") {
		t.Fatalf("last line %v, want a warning that SIGTERM stopped the job\n%s", last, stdout)
	}
	var a accounts.Account
	if _, err := accountsDB.Get(ctx, id, &a); err != nil {
		t.Fatal(err)
	}
	if r := a.Data.LastRun; r == nil || r.Status != "interrupted" || r.Created == 0 {
		t.Fatalf("last run %+v, want interrupted with the trips saved before", r)
	}
}
