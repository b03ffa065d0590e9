package seal_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coachco2/coachco2/pkg/seal"
)

func TestSealOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault.db.key")
	box, err := seal.OpenKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	sealed := box.Seal("nrelop_larochelle_default_s3cret", "account-1")
	if strings.Contains(sealed, "s3cret") || !seal.IsSealed(sealed) {
		t.Fatalf("sealed value %q shows the secret", sealed)
	}
	again, err := seal.OpenKeyFile(path) // the same key, read back
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open(sealed, "account-1"); err != nil || got != "nrelop_larochelle_default_s3cret" {
		t.Fatalf("open: %q, %v", got, err)
	}
	if _, err := again.Open(sealed, "account-2"); !errors.Is(err, seal.ErrWrongKey) {
		t.Fatalf("open under another account: %v, want ErrWrongKey", err)
	}
	other, _ := seal.OpenKeyFile(filepath.Join(t.TempDir(), "other.key"))
	if _, err := other.Open(sealed, "account-1"); !errors.Is(err, seal.ErrWrongKey) {
		t.Fatalf("open with another key: %v, want ErrWrongKey", err)
	}
	if got, err := box.Open("plain-token", "account-1"); err != nil || got != "plain-token" {
		t.Fatalf("a value that was never sealed: %q, %v", got, err)
	}
}

func TestKeyFileChecks(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open.key")
	if err := os.WriteFile(open, make([]byte, 32), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := seal.OpenKeyFile(open); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key: %v", err)
	}
	short := filepath.Join(dir, "short.key")
	if err := os.WriteFile(short, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := seal.OpenKeyFile(short); err == nil {
		t.Fatal("a 3-byte key file was accepted")
	}
	if _, err := seal.OpenKeyFile(filepath.Join(dir, "missing-dir", "k")); err == nil {
		t.Fatal("a key file in a missing directory was created")
	}
}

// TestLoadKeyFileCreatesNothing: a missing key file is reported, not made anew, so that the
// caller can tell a new vault from one whose key was lost.
func TestLoadKeyFileCreatesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault.db.key")
	if _, err := seal.LoadKeyFile(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadKeyFile of a missing file: %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadKeyFile created %s (%v)", path, err)
	}
	box, err := seal.CreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sealed := box.Seal("token", "a")
	loaded, err := seal.LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := loaded.Open(sealed, "a"); err != nil || got != "token" {
		t.Fatalf("open with the loaded key: %q, %v", got, err)
	}
	ephemeral, err := seal.NewEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ephemeral.Open(sealed, "a"); !errors.Is(err, seal.ErrWrongKey) {
		t.Fatalf("open with an ephemeral key: %v, want ErrWrongKey", err)
	}
}
