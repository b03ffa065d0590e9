package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
)

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
			_, code, err := runErr(t, args...)
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
	if out, code, err := runErr(t, append([]string{"sync", "--server", url, "--token", "sample-user"}, common...)...); code != exitOK {
		t.Fatalf("first sync: exit %d, %v: %s", code, err, out)
	}
	vaulttest.Damage(t, vaultFile, `"captureDevice":`) // trips, which a sync with nothing new does not read
	for _, cmd := range [][]string{{"sync"}, {"status"}, {"accounts", "list"}} {
		out, code, err := runErr(t, append(cmd, common...)...)
		if code != exitVault || err == nil || !strings.Contains(err.Error(), "file is damaged") || !strings.Contains(err.Error(), "backup") {
			t.Errorf("%s on a damaged vault: exit %d (want %d), error %v: %s", cmd[0], code, exitVault, err, out)
		}
	}
}

// TestKeyFileGone: a vault whose tokens were sealed with a key file that is gone says so, and
// does not make a new key silently; giving the token again seals it with a new key. A dry run
// never writes a key file.
func TestKeyFileGone(t *testing.T) {
	url := sampleServer(t, false)
	dir := t.TempDir()
	vaultFile := filepath.Join(dir, "vault.db")
	keyFile := vaultFile + ".key"
	common := []string{"--vault", vaultFile, "--instance", "alice"}
	withToken := slices.Concat([]string{"sync", "--server", url, "--token", "sample-user", "--device", "pixel"}, common)
	noKey := func(when string) {
		t.Helper()
		if _, err := os.Stat(keyFile); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s: the key file exists (%v)", when, err)
		}
	}

	// A dry run on a new vault writes no key, nor the vault: there is nothing to read.
	out, code, err := runErr(t, slices.Concat(withToken, []string{"--dry-run"})...)
	if code != exitUsage || !strings.Contains(fmt.Sprint(err), "does not exist") {
		t.Fatalf("dry run on a new vault: exit %d, %v: %s", code, err, out)
	}
	noKey("after a dry run on a new vault")
	if _, err := os.Stat(vaultFile); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a dry run created the vault file: %v", err)
	}
	// A new vault gets its key.
	if out, code, err := runErr(t, withToken...); code != exitOK {
		t.Fatalf("first sync: exit %d, %v: %s", code, err, out)
	}
	if st, err := os.Stat(keyFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file after the first sync: %v, %v", st, err)
	}
	if out, code, err := runErr(t, append([]string{"sync", "--dry-run"}, common...)...); code != exitOK {
		t.Fatalf("dry run with the key: exit %d, %v: %s", code, err, out)
	}

	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		how  string
	}{
		{[]string{"sync"}, "give --server and --token again"},
		{[]string{"status"}, "give --server and --token again"},
		{[]string{"accounts", "list"}, "give --server and --token again"},
		{[]string{"sync", "--dry-run"}, "give --server and --token again"},
		{[]string{"sync", "--server", url, "--token", "sample-user", "--device", "pixel", "--dry-run"}, "sync without --dry-run"},
	} {
		out, code, err := runErr(t, slices.Concat(c.args, common)...)
		msg := fmt.Sprint(err)
		if code != exitVault || !strings.Contains(msg, "the key file "+keyFile+" is gone") || !strings.Contains(msg, "pixel on "+url) ||
			!strings.Contains(msg, "restore it from a backup") || !strings.Contains(msg, c.how) {
			t.Errorf("%v without the key file: exit %d (want %d), error %q: %s", c.args, code, exitVault, msg, out)
		}
		noKey(fmt.Sprint(c.args, " without the key file"))
	}

	// Giving the token again seals it with a new key; the following runs open it.
	if out, code, err := runErr(t, withToken...); code != exitOK {
		t.Fatalf("sync with the token again: exit %d, %v: %s", code, err, out)
	}
	if _, err := os.Stat(keyFile); err != nil {
		t.Fatalf("no new key file: %v", err)
	}
	if out, code, err := runErr(t, append([]string{"sync"}, common...)...); code != exitOK {
		t.Fatalf("sync after re-sealing: exit %d, %v: %s", code, err, out)
	}
}

// TestNoVaultIsCreatedByATypo: the commands that only read (status, accounts list and remove,
// sync of the vault's accounts, any dry run) refuse a vault file or an instance that does not
// exist, as bad usage, and create neither the vault nor its key; only a sync given an account
// (or accounts add) creates them.
func TestNoVaultIsCreatedByATypo(t *testing.T) {
	url := sampleServer(t, false)
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.db")
	for _, args := range [][]string{
		{"status"}, {"status", "--json"}, {"accounts", "list"}, {"accounts", "remove", "openpath-x"}, {"sync"},
		{"sync", "--server", url, "--token", "sample-user", "--dry-run"},
	} {
		out, code, err := runErr(t, slices.Concat(args, []string{"--vault", typo, "--instance", "alice"})...)
		if code != exitUsage || !strings.Contains(fmt.Sprint(err), typo) || !strings.Contains(fmt.Sprint(err), "does not exist") {
			t.Errorf("%v on a missing vault: exit %d (want %d), %v: %s", args, code, exitUsage, err, out)
		}
		for _, f := range []string{typo, typo + ".key"} {
			if _, err := os.Stat(f); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%v created %s (%v)", args, f, err)
			}
		}
	}
	vaultFile := filepath.Join(dir, "vault.db")
	if out, code, err := runErr(t, "sync", "--server", url, "--token", "sample-user", "--vault", vaultFile, "--instance", "alice"); code != exitOK {
		t.Fatalf("first sync: exit %d, %v: %s", code, err, out)
	}
	for _, args := range [][]string{{"status"}, {"accounts", "list"}, {"sync"}, {"sync", "--dry-run"}} {
		out, code, err := runErr(t, slices.Concat(args, []string{"--vault", vaultFile, "--instance", "alcie"})...)
		if code != exitUsage || !strings.Contains(fmt.Sprint(err), `instance "alcie"`) {
			t.Errorf("%v on a mistyped instance: exit %d (want %d), %v: %s", args, code, exitUsage, err, out)
		}
	}
	if out, code, err := runErr(t, "status", "--vault", vaultFile, "--instance", "alice"); code != exitOK {
		t.Fatalf("status on the synced vault: exit %d, %v: %s", code, err, out)
	}
}

// TestAccountsAddChecksTheServer: `accounts add` asks the server first: a refused token exits 3,
// a server that cannot be reached 4, and neither saves an account (nor makes the vault).
func TestAccountsAddChecksTheServer(t *testing.T) {
	url := sampleServer(t, false)
	vaultFile := filepath.Join(t.TempDir(), "vault.db")
	for _, c := range []struct {
		server, token string
		code          int
	}{{url, "not-the-token", exitAuthRefused}, {"http://127.0.0.1:1", "sample-user", exitServerDown}} {
		_, code, err := runErr(t, "accounts", "add", "--vault", vaultFile, "--instance", "alice", "--server", c.server, "--token", c.token)
		if code != c.code || !strings.Contains(fmt.Sprint(err), "not added") {
			t.Errorf("accounts add --server %s --token %s: exit %d (want %d), %v", c.server, c.token, code, c.code, err)
		}
		if _, err := os.Stat(vaultFile); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("a refused account made the vault: %v", err)
		}
	}
	if out, code, err := runErr(t, "accounts", "add", "--vault", vaultFile, "--instance", "alice", "--server", url, "--token", "sample-user"); code != exitOK {
		t.Fatalf("accounts add with the right token: exit %d, %v: %s", code, err, out)
	}
	if out, code := run(t, "accounts", "list", "--vault", vaultFile, "--instance", "alice"); code != exitOK || !strings.Contains(out, url) {
		t.Fatalf("accounts list: exit %d: %s", code, out)
	}
}
