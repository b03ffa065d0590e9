package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// runErr runs the connector's command line in-process and returns its output, its error and
// its exit code, as main computes them.
func runErr(t *testing.T, args ...string) (out string, err error, code int) {
	t.Helper()
	root := newRootCmd()
	var buf bytes.Buffer
	root.SetOut(&buf)
	root.SetErr(&buf)
	root.SetArgs(args)
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	err = root.ExecuteContext(context.Background())
	code = exitCode(err)
	if err != nil && !started {
		code = exitUsage
	}
	return buf.String(), err, code
}

// TestInvalidInstanceOrDSNIsUsage: a bad --instance or an unsupported vault scheme is bad usage
// (exit 2), said in a short message that quotes the value shortened and says what is allowed.
func TestInvalidInstanceOrDSNIsUsage(t *testing.T) {
	vaultFile := filepath.Join(t.TempDir(), "vault.db")
	long := strings.Repeat("x", 5000)
	for _, c := range []struct {
		name, dsn, instance, shows, allowed string
	}{
		{"path-like instance", vaultFile, "../../etc", `"../../etc"`, "starts with a letter"},
		{"tab in the instance", vaultFile, "al\tice", `"al\tice"`, "starts with a letter"},
		{"5000-character instance", vaultFile, long, `"` + strings.Repeat("x", 40) + `"… (5000 characters)`, "at most"},
		{"ftp vault", "ftp://example.org/vault.db", "alice", `"ftp"`, "http(s)://"},
	} {
		for _, cmd := range [][]string{{"sync"}, {"status"}, {"accounts", "list"}} {
			args := append(cmd, "--vault", c.dsn, "--instance", c.instance)
			_, err, code := runErr(t, args...)
			if code != exitUsage {
				t.Errorf("%s, %s: exit %d, want %d (usage): %v", c.name, cmd[0], code, exitUsage, err)
				continue
			}
			msg := err.Error()
			if !strings.Contains(msg, c.shows) || !strings.Contains(msg, c.allowed) || len(msg) > 300 ||
				strings.Contains(msg, strings.Repeat("x", 41)) || strings.Contains(msg, "\t") {
				t.Errorf("%s, %s: message %q: want it short, quoting %s and saying %q", c.name, cmd[0], msg, c.shows, c.allowed)
			}
		}
	}
}

// TestDamagedVault: sync and status check a vault file's integrity the same way when they open
// it: on a damaged file both exit 5 (vault), saying that the file is damaged and to restore it
// from a backup.
func TestDamagedVault(t *testing.T) {
	url := sampleServer(t, false)
	vaultFile := filepath.Join(t.TempDir(), "vault.db")
	common := []string{"--vault", vaultFile, "--instance", "alice"}
	if out, err, code := runErr(t, append([]string{"sync", "--server", url, "--token", "sample-user"}, common...)...); code != exitOK {
		t.Fatalf("first sync: exit %d, %v: %s", code, err, out)
	}
	vaulttest.Damage(t, vaultFile, `"captureDevice":`) // trips, which a sync with nothing new does not read
	for _, cmd := range [][]string{{"sync"}, {"status"}, {"accounts", "list"}} {
		out, err, code := runErr(t, append(cmd, common...)...)
		if code != exitVault || err == nil || !strings.Contains(err.Error(), "file is damaged") || !strings.Contains(err.Error(), "backup") {
			t.Errorf("%s on a damaged vault: exit %d (want %d), error %v: %s", cmd[0], code, exitVault, err, out)
		}
	}
}
