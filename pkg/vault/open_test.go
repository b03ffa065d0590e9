package vault_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coachco2/coachco2/pkg/vault"
	"github.com/coachco2/coachco2/pkg/vault/vaultsuite"
	"github.com/coachco2/coachco2/pkg/vault/vaulttest"
	_ "modernc.org/sqlite" // to lock a vault file from outside the vault
)

// secret is the password of the malformed DSNs: no error may show it.
const secret = "s3cretPW"

func TestOpenMalformedDSN(t *testing.T) {
	for _, dsn := range []string{
		"",
		"   ",
		"http://",
		"https:///db",
		"http://admin:" + secret + "@",
		"http://admin:" + secret + "@:5984/",
		"ftp://admin:" + secret + "@host/",
		"couchdb://admin:" + secret + "@host:5984",
		"http://admin:" + secret + "@host:99999/",
		"http://admin:" + secret + "@host:notaport/",
		"http://admin:" + secret + "@host:5984/?x=1",
		"http://admin:" + secret + "@host:5984/#frag",
		"http://admin:s3cret/PW@host:5984/",       // unescaped '/' in the password
		"http://admin:s3cret#PW@host:5984/",       // unescaped '#'
		"http://admin:s3cret?PW@host:5984/",       // unescaped '?'
		"http://admin:1234?s3cretPW@host:5984/",   // looks like a port then a query
		"http://admin:s3cret%zzPW@host:5984/",     // bad percent-encoding
		"http://admin:" + secret + "@[::1/",       // bad IPv6 literal
		"http://admin:" + secret + "@ho st:5984/", // space in the host
		"file:",
		"file://relative/vault.db",
		"vault\x00.db",
	} {
		v, err := vault.Open(t.Context(), dsn, "demo")
		if err == nil {
			v.Close()
			t.Errorf("Open(%q): no error", dsn)
			continue
		}
		for _, part := range []string{secret, "s3cret", "PW@"} {
			if strings.Contains(err.Error(), part) {
				t.Errorf("Open(%q): error %q shows the password", dsn, err)
			}
		}
	}
}

func TestOpenInvalidInstance(t *testing.T) {
	for _, instance := range []string{"", "1alice", "al ice", "alice?"} {
		if v, err := vault.Open(t.Context(), embeddedDSN(t), instance); err == nil {
			v.Close()
			t.Errorf("Open with instance %q: no error", instance)
		}
	}
}

func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more
	_, err = vault.Open(t.Context(), "http://admin:"+secret+"@"+addr+"/", "demo")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{addr, "connection refused", `user "admin"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q shows the password", err)
	}
}

func TestOpenWrongCredentials(t *testing.T) {
	u, err := url.Parse(couch.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("vaulttest-nobody", secret)
	_, err = vault.Open(t.Context(), u.String(), "demo")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{u.Host, "401", "wrong user name or password"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q shows the password", err)
	}
}

func TestOpenNotCouchDB(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		want   string
	}{
		{http.StatusOK, "<html>hello</html>", "did not answer like a CouchDB server"},
		{http.StatusNotFound, "<html>not here</html>", "HTTP 404"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(c.status)
			fmt.Fprint(w, c.body)
		}))
		_, err := vault.Open(t.Context(), srv.URL+"/", "demo")
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), srv.Listener.Addr().String()) {
			t.Errorf("Open of a web server answering %d: err = %v, want one naming the host and saying %q", c.status, err, c.want)
		}
	}
}

func TestOpenBadVaultFile(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "notes.txt")
	content := []byte("these are my notes, not a vault\n")
	if err := os.WriteFile(garbage, content, 0o600); err != nil {
		t.Fatal(err)
	}
	missingDir := filepath.Join(dir, "no-such-dir", "vault.db")
	for _, c := range []struct {
		dsn, names, says string
	}{
		{dir, dir, "is a directory"},
		{"file:" + garbage, garbage, "not a vault file"},
		{missingDir, filepath.Dir(missingDir), "no such file or directory"},
	} {
		_, err := vault.Open(t.Context(), c.dsn, "demo")
		if err == nil || !strings.Contains(err.Error(), c.names) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("Open(%q): err = %v, want one naming %s and saying %q", c.dsn, err, c.names, c.says)
		}
	}
	// Nothing half written.
	if got, _ := os.ReadFile(garbage); !bytes.Equal(got, content) {
		t.Errorf("the file that is not a vault was changed: %q", got)
	}
	if _, err := os.Stat(filepath.Dir(missingDir)); !os.IsNotExist(err) {
		t.Errorf("Open created the missing directory: %v", err)
	}
}

func TestOpenCorruptVaultFile(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "vault.db")
	v, err := vault.Open(ctx, path, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.EnsureProject(ctx); err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	// Keep SQLite's header, overwrite the rest of the first pages.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, 8000), 100); err != nil {
		t.Fatal(err)
	}
	f.Close()
	v, err = vault.Open(ctx, path, "demo")
	if err == nil {
		// The damage may only show on use; it must then name the file.
		_, err = v.EnsureProject(ctx)
		v.Close()
	}
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("corrupt vault file: err = %v, want an error naming %s", err, path)
	}
	t.Logf("corrupt vault file: %v", err)
}

func TestOpenLockedVaultFile(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "vault.db")
	v, err := vault.Open(ctx, path, "demo")
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	// Another process holds the write lock and does not let go.
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "ROLLBACK") //nolint:errcheck // cleanup

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		v, err := vault.Open(ctx, path, "demo")
		if err == nil {
			_, err = v.DB(ctx, vault.DoctypeSettings) // creating a database writes
			v.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "locked") {
			t.Fatalf("locked vault file: err = %v, want an error naming %s and saying it is locked", err, path)
		}
		t.Logf("locked vault file: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("a write to a locked vault file is still waiting after 60s")
	}
}

// TestMustExist: with MustExist, Open refuses a vault file that does not exist (and does not
// create it) and an instance with no database, on each backend; it opens an instance that has
// one.
func TestMustExist(t *testing.T) {
	ctx := t.Context()
	missing := filepath.Join(t.TempDir(), "typo.db")
	if _, err := vault.Open(ctx, missing, "alice", vault.MustExist()); !errors.Is(err, vault.ErrNoVault) || errors.Is(err, vault.ErrStore) ||
		!strings.Contains(err.Error(), missing) {
		t.Fatalf("a missing file: %v, want ErrNoVault naming it", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open with MustExist created %s: %v", missing, err)
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			dsn, instance := b.dsn(t), vaulttest.Instance(t)
			vaultsuite.OpenDB(t, openInstance(t, dsn, instance), vault.DoctypeTrips)
			v, err := vault.Open(ctx, dsn, instance, vault.MustExist())
			if err != nil {
				t.Fatalf("an instance with its trips: %v", err)
			}
			v.Close()
			other := instance + "-typo"
			if _, err := vault.Open(ctx, dsn, other, vault.MustExist()); !errors.Is(err, vault.ErrNoVault) || !strings.Contains(err.Error(), other) {
				t.Fatalf("an instance without data: %v, want ErrNoVault naming it", err)
			}
		})
	}
}
