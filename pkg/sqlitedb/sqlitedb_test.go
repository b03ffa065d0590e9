package sqlitedb_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/coachco2/coachco2/pkg/sqlitedb"
)

func TestOpenSettings(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "new.db")
	db, err := sqlitedb.Open(ctx, path, sqlitedb.WithSecureDelete(), sqlitedb.WithForeignKeys(), sqlitedb.WithBusyTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the new file: %v, %v; want mode 0600", st, err)
	}
	// One connection, so that every pragma is read where the settings were applied.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for name, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "busy_timeout": "3000",
		"foreign_keys": "1", "secure_delete": "1"} {
		var got string
		if err := conn.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q (%v), want %q", name, got, err, want)
		}
	}
	// Without the options: foreign keys and secure delete stay off.
	other, err := sqlitedb.Open(ctx, filepath.Join(t.TempDir(), "plain.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var fk, sd, busy int
	if err := other.QueryRowContext(ctx, "SELECT * FROM pragma_foreign_keys, pragma_secure_delete, pragma_busy_timeout").Scan(&fk, &sd, &busy); err != nil ||
		fk != 0 || sd != 0 || busy != int(sqlitedb.DefaultBusyTimeout.Milliseconds()) {
		t.Errorf("defaults: foreign_keys %d, secure_delete %d, busy_timeout %d (%v)", fk, sd, busy, err)
	}
}

func TestCheckFile(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(garbage, []byte("these are my notes, not a database\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path   string
		exists bool
		says   string
	}{
		{filepath.Join(dir, "new.db"), false, ""},
		{empty, true, ""},
		{dir, true, "is a directory"},
		{garbage, true, "not an SQLite database"},
		{filepath.Join(dir, "missing", "new.db"), false, "directory " + filepath.Join(dir, "missing")},
	} {
		exists, err := sqlitedb.CheckFile(c.path)
		if exists != c.exists || (c.says == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.says) {
			t.Errorf("CheckFile(%s) = %v, %v; want %v and an error saying %q", c.path, exists, err, c.exists, c.says)
		}
	}
	if _, err := sqlitedb.Open(t.Context(), garbage); !errors.Is(err, sqlitedb.ErrNotDatabase) {
		t.Errorf("Open of a text file: %v, want ErrNotDatabase", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("a missing directory was created: %v", err)
	}
}

// TestCode: SQLite's errors are told apart by their code, however wrapped, and an error that
// merely reads like one is not taken for it.
func TestCode(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "locked.db")
	holder, err := sqlitedb.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, "CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	tx, err := holder.BeginTx(ctx, nil) // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // cleanup
	writer, err := sqlitedb.Open(ctx, path, sqlitedb.WithBusyTimeout(0))
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	_, err = writer.ExecContext(ctx, "INSERT INTO t VALUES (1)")
	if got := sqlitedb.Code(fmt.Errorf("insert: %w", err)); got != sqlite3.SQLITE_BUSY {
		t.Errorf("a write while another connection holds the lock: code %d (%v), want SQLITE_BUSY", got, err)
	}

	// A file with SQLite's header and garbage after it.
	bad := filepath.Join(t.TempDir(), "bad.db")
	if err := os.WriteFile(bad, append([]byte("SQLite format 3\x00"), make([]byte, 4000)...), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sqlitedb.Open(ctx, bad)
	if err == nil {
		_, err = db.ExecContext(ctx, "CREATE TABLE t (x)")
		db.Close()
	}
	if got := sqlitedb.Code(err); got != sqlite3.SQLITE_NOTADB && got != sqlite3.SQLITE_CORRUPT {
		t.Errorf("a damaged file: code %d (%v), want SQLITE_NOTADB or SQLITE_CORRUPT", got, err)
	}

	for _, lookalike := range []error{errors.New("database is locked (5) (SQLITE_BUSY)"), errors.New("file is not a database"), nil} {
		if got := sqlitedb.Code(lookalike); got != 0 {
			t.Errorf("Code(%v) = %d, want 0", lookalike, got)
		}
	}
}

func TestRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gone.db")
	db, err := sqlitedb.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.WriteFile(path+"-journal", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := sqlitedb.Remove(path); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(path + "*")
	if len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
	if err := sqlitedb.Remove(path); err != nil {
		t.Fatalf("removing again: %v", err)
	}
}
