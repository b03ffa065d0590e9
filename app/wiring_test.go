package main

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/cmdenv"
	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

// runAppCode runs the app's command line in-process and returns its exit code and error, as
// main computes them.
func runAppCode(t *testing.T, args ...string) (int, error) {
	t.Helper()
	err := cmdenv.Execute(t.Context(), newRootCmd(), args, io.Discard, io.Discard)
	return exitCode(err), err
}

// TestInvalidInstanceOrDSNIsUsage: a bad --instance or an unsupported vault scheme exits 2
// (usage), with a short message that quotes the value shortened and says what is allowed.
func TestInvalidInstanceOrDSNIsUsage(t *testing.T) {
	vaultFile := filepath.Join(t.TempDir(), "vault.db")
	for _, c := range []struct{ dsn, instance, shows string }{
		{vaultFile, "../../etc", `"../../etc"`},
		{vaultFile, "al\tice", `"al\tice"`},
		{vaultFile, strings.Repeat("x", 5000), `"` + strings.Repeat("x", 40) + `"… (5000 characters)`},
		{"ftp://example.org/vault.db", "alice", `unsupported scheme "ftp"`},
	} {
		for _, cmd := range []string{"report", "trips", "check", "settings"} {
			code, err := runAppCode(t, cmd, "--vault", c.dsn, "--instance", c.instance)
			if code != exitUsage || err == nil || !strings.Contains(err.Error(), c.shows) || len(err.Error()) > 300 {
				t.Errorf("app %s --vault %.20q --instance %.20q: exit %d (want %d), error %v", cmd, c.dsn, c.instance, code, exitUsage, err)
			}
		}
	}
	if code, err := runAppCode(t, "report", "--nope"); code != exitUsage {
		t.Errorf("an unknown flag: exit %d, want %d: %v", code, exitUsage, err)
	}
}

// TestDamagedVault: every command that opens a damaged vault file exits 5 (vault), saying that
// the file is damaged and to restore it from a backup.
func TestDamagedVault(t *testing.T) {
	var opened *vault.Vault
	embedded := couch.Backends()[0]
	file := vaulttest.Backend{Name: embedded.Name, Open: func(t testing.TB) (*vault.Vault, string, string) {
		v, dsn, instance := embedded.Open(t)
		opened = v
		return v, dsn, instance
	}}
	dsn, instance := syncedVault(t, file, false)
	if err := opened.Close(); err != nil {
		t.Fatal(err)
	}
	vaulttest.Damage(t, strings.TrimPrefix(dsn, "file:"), `"captureDevice":`)
	for _, cmd := range []string{"report", "trips", "check", "settings"} {
		code, err := runAppCode(t, cmd, "--vault", dsn, "--instance", instance)
		if code != exitVault || err == nil || !strings.Contains(err.Error(), "file is damaged") || !strings.Contains(err.Error(), "backup") {
			t.Errorf("app %s on a damaged vault: exit %d (want %d), error %v", cmd, code, exitVault, err)
		}
	}
}

// TestNoVaultIsCreatedByATypo: the app's commands refuse a vault file or an instance that does
// not exist, as bad usage naming it, and create nothing (a typo used to give an empty report
// and exit 0).
func TestNoVaultIsCreatedByATypo(t *testing.T) {
	typo := filepath.Join(t.TempDir(), "typo.db")
	for _, cmd := range [][]string{{"report"}, {"trips"}, {"settings"}, {"recompute"}, {"studies", "list"}, {"consent", "list"}, {"share"}} {
		code, err := runAppCode(t, append(cmd, "--vault", typo, "--instance", "alice")...)
		if code != exitUsage || err == nil || !strings.Contains(err.Error(), typo) || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("app %v on a missing vault file: exit %d (want %d), %v", cmd, code, exitUsage, err)
		}
		if _, err := os.Stat(typo); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("app %v created %s (%v)", cmd, typo, err)
		}
	}
	dsn, _ := syncedVault(t, couch.Backends()[0], false)
	for _, cmd := range []string{"report", "trips", "settings"} {
		code, err := runAppCode(t, cmd, "--vault", dsn, "--instance", "alcie")
		if code != exitUsage || err == nil || !strings.Contains(err.Error(), `instance "alcie"`) {
			t.Errorf("app %s on a mistyped instance: exit %d (want %d), %v", cmd, code, exitUsage, err)
		}
	}
}
