// Package sqlitedb opens the project's SQLite files (modernc.org/sqlite: pure Go, no cgo) with
// one set of settings, and tells SQLite's errors apart by their result code, never by their
// text:
//
//	db, err := sqlitedb.Open(ctx, path, sqlitedb.WithSecureDelete())
//	...
//	if sqlitedb.Code(err) == sqlite3.SQLITE_BUSY { // sqlite3 "modernc.org/sqlite/lib"
//
// Every file is in WAL mode with synchronous=FULL (a committed transaction survives a power
// cut), waits [DefaultBusyTimeout] for another writer, and starts its transactions with the
// write lock (BEGIN IMMEDIATE), so that two writers queue instead of failing midway.
package sqlitedb

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// DefaultBusyTimeout is how long a connection waits for another one's write lock, unless
// [WithBusyTimeout] says otherwise.
const DefaultBusyTimeout = 10 * time.Second

// MaxIdleConns is how many of its connections an open file keeps idle, for at most a minute: as
// many queries at once as a web app serves need no new connection.
const MaxIdleConns = 16

// header starts every SQLite database file.
const header = "SQLite format 3\x00"

// ErrNotDatabase matches the error of [Open] and [CheckFile] for a file that is not an SQLite
// database (or whose first bytes are damaged).
var ErrNotDatabase = errors.New("not an SQLite database, or corrupt")

// Option adds to the settings [Open] gives a file.
type Option func(*config)

type config struct {
	busy    time.Duration
	pragmas []string
}

// WithBusyTimeout replaces [DefaultBusyTimeout].
func WithBusyTimeout(d time.Duration) Option { return func(c *config) { c.busy = d } }

// WithForeignKeys makes SQLite enforce the foreign keys (ON DELETE CASCADE...).
func WithForeignKeys() Option { return WithPragma("foreign_keys(ON)") }

// WithSecureDelete makes SQLite overwrite deleted content with zeros, so that deleted rows
// cannot be read back from the file (the WAL aside: checkpoint it).
func WithSecureDelete() Option { return WithPragma("secure_delete(ON)") }

// WithPragma runs a pragma on each new connection, written as modernc's _pragma parameter
// wants it: "name(value)", e.g. "cache_size(-65536)".
func WithPragma(p string) Option { return func(c *config) { c.pragmas = append(c.pragmas, p) } }

// Open opens the SQLite file at path, creating it (readable by its owner only) when it does not
// exist; its directory must. It checks up front what can be checked without SQLite (see
// [CheckFile]), then connects once. Errors do not repeat path: the caller names it.
func Open(ctx context.Context, path string, opts ...Option) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("empty file path")
	}
	cfg := config{busy: DefaultBusyTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	exists, err := CheckFile(path)
	if err != nil {
		return nil, err
	}
	if !exists {
		// The file holds personal or pseudonymous data: readable by its owner only, which
		// SQLite would not ensure (it creates files 0644).
		f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create it: %w", err)
		}
		f.Close()
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	for _, p := range cfg.pragmas {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	// database/sql keeps 2 idle connections by default: past 2 concurrent queries (a web app's
	// requests), each query would open a connection (its pragmas, a cold page cache) and close
	// it (a WAL checkpoint). Keep those a burst opened, for a while.
	db.SetMaxIdleConns(MaxIdleConns)
	db.SetConnMaxIdleTime(time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// CheckFile checks that path is, or can become, an SQLite file, and reports whether it exists.
// A missing file needs an existing directory; an existing one must be a regular file that can
// be opened for reading and writing, and be empty (SQLite makes it a new database) or start
// with SQLite's header, else the error matches [ErrNotDatabase]. Errors do not repeat path.
func CheckFile(path string) (exists bool, err error) {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		dir := filepath.Dir(path)
		dinfo, err := os.Stat(dir)
		if err != nil {
			return false, fmt.Errorf("cannot create it: directory %s: %w", dir, err)
		}
		if !dinfo.IsDir() {
			return false, fmt.Errorf("cannot create it: %s is not a directory", dir)
		}
		return false, nil
	case err != nil:
		return false, err
	case info.IsDir():
		return true, errors.New("is a directory, not a database file")
	case !info.Mode().IsRegular():
		return true, errors.New("is not a regular file")
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return true, fmt.Errorf("cannot open it for reading and writing: %w", err)
	}
	defer f.Close()
	head := make([]byte, len(header))
	n, err := io.ReadFull(f, head)
	switch {
	case n == 0 && errors.Is(err, io.EOF):
		return true, nil // empty: SQLite makes it a new database
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return true, fmt.Errorf("cannot read it: %w", err)
	case n < len(header) || !bytes.Equal(head, []byte(header)):
		return true, ErrNotDatabase
	}
	return true, nil
}

// Remove removes the SQLite file at path and the files SQLite keeps beside it (-wal, -shm,
// -journal). Files that do not exist are no error.
func Remove(path string) error {
	var errs []error
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Code returns the primary result code of the SQLite error in err's chain (sqlite3.SQLITE_BUSY,
// sqlite3.SQLITE_CORRUPT... of modernc.org/sqlite/lib), extended codes reduced to it; 0 when
// err holds no SQLite error.
func Code(err error) int {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return 0
	}
	return se.Code() & 0xff
}
