package sqlitecouch

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-kivik/kivik/v4"
	"github.com/go-kivik/kivik/v4/driver"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/coachco2/coachco2/pkg/sqlitedb"
)

// DriverName is the name the driver registers with kivik.
const DriverName = "sqlitecouch"

func init() {
	kivik.Register(DriverName, &Driver{})
}

// Driver opens embedded vault files. The data source name is the path of the SQLite file; it is
// created when missing, but its directory must exist.
type Driver struct{}

var _ driver.Driver = (*Driver)(nil)

// NewClient opens (creating if needed) the SQLite file at path and prepares its schema. With
// the option Expose, it also hands the client to its caller.
func (*Driver) NewClient(path string, opts driver.Options) (driver.Client, error) {
	c, err := Open(context.Background(), path)
	if err == nil && opts != nil {
		opts.Apply(c)
	}
	return c, err
}

// Expose is a kivik option of kivik.New that sets *to to the client the driver opens, so that its
// caller may also call the client's own methods (see Client.Get).
func Expose(to **Client) kivik.Option { return exposeOption{to} }

type exposeOption struct{ to **Client }

func (o exposeOption) Apply(target any) {
	if c, ok := target.(*Client); ok {
		*o.to = c
	}
}

// Get returns the current revision of the document id of the database dbName, and the document as
// kivik's Get gives it, without a JSON decoder's pass over it: a caller with a document of
// megabytes to decode its own way spares two. A missing document gives an *Error of status 404.
func (c *Client) Get(ctx context.Context, dbName, id string) (rev string, doc []byte, err error) {
	d := &db{client: c, name: dbName}
	return d.get(ctx, id, "")
}

// Open opens the vault file at path. Errors name the file and the cause (a missing directory, a
// file that is not a vault, a lock held too long by another process).
func Open(ctx context.Context, path string) (*Client, error) {
	path = strings.TrimPrefix(path, "file:")
	if path == "" {
		return nil, errors.New("sqlitecouch: empty file path")
	}
	// Before SQLite opens the file, which creates its -wal file.
	clean := closedCleanly(path)
	sqlDB, err := sqlitedb.Open(ctx, path, sqlitedb.WithForeignKeys(),
		// A small page cache per pooled connection, and no memory map: pages the system caches
		// anyway are read with a system call rather than counted, mapped or cached, in the
		// process's resident memory, which then stays flat whatever the vault's size (a 1 GiB
		// map and a 64 MB cache per connection made a 100k-trip sync resident at 1 GB).
		sqlitedb.WithPragma("mmap_size(0)"), sqlitedb.WithPragma("cache_size(-4096)"))
	if err != nil {
		return nil, fmt.Errorf("sqlitecouch: open %s: %w", path, describeSQLiteError(err))
	}
	c := &Client{path: path, sql: sqlDB}
	c.collators.New = func() any { return collate.New(language.Und) }
	if !clean {
		c.integrityChecked = true
		if err := c.checkIntegrity(ctx); err != nil {
			sqlDB.Close()
			return nil, fmt.Errorf("sqlitecouch: open %s: %w", path, err)
		}
	}
	if err := c.upgradeSchema(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("sqlitecouch: open %s: %w", path, err)
	}
	return c, nil
}

// Client is an open vault file. It is safe for concurrent use.
type Client struct {
	path string
	sql  *sql.DB
	// writeMu serialises this process's writers, so they queue here instead of spinning on
	// SQLite's busy handler; other processes are kept out by SQLite's own lock.
	writeMu sync.Mutex
	// collators holds *collate.Collator values, which are not safe for concurrent use.
	collators sync.Pool
	// integrityChecked tells whether Open ran checkIntegrity (for the tests).
	integrityChecked bool
	// sawDamage is set when SQLite reported a damaged page: Close then leaves no clean-close
	// marker, so the next open runs the integrity check and refuses the file.
	sawDamage atomic.Bool
}

var (
	_ driver.Client       = (*Client)(nil)
	_ driver.ClientCloser = (*Client)(nil)
	_ driver.Pinger       = (*Client)(nil)
)

const schema = `
CREATE TABLE IF NOT EXISTS dbs (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT NOT NULL UNIQUE,
	update_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS docs (
	db      INTEGER NOT NULL REFERENCES dbs(id) ON DELETE CASCADE,
	id      TEXT NOT NULL,
	rev     TEXT NOT NULL,
	seq     INTEGER NOT NULL,
	deleted INTEGER NOT NULL DEFAULT 0,
	body    BLOB NOT NULL,
	UNIQUE (db, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS docs_by_seq ON docs (db, seq);
CREATE TABLE IF NOT EXISTS local_docs (
	db   INTEGER NOT NULL REFERENCES dbs(id) ON DELETE CASCADE,
	id   TEXT NOT NULL,
	rev  INTEGER NOT NULL,
	body BLOB NOT NULL,
	PRIMARY KEY (db, id)
);
CREATE TABLE IF NOT EXISTS mango_indexes (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	db     INTEGER NOT NULL REFERENCES dbs(id) ON DELETE CASCADE,
	ddoc   TEXT NOT NULL,
	name   TEXT NOT NULL,
	fields TEXT NOT NULL,
	UNIQUE (db, ddoc, name)
);
CREATE TABLE IF NOT EXISTS index_entries (
	idx    INTEGER NOT NULL REFERENCES mango_indexes(id) ON DELETE CASCADE,
	key    BLOB NOT NULL,
	doc_id TEXT NOT NULL,
	PRIMARY KEY (idx, key, doc_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS index_entries_by_doc ON index_entries (idx, doc_id);
`

// ErrDamaged matches errors for a vault file whose content is damaged: SQLite's integrity check
// fails, or SQLite finds a malformed page. The file must be restored from a backup.
var ErrDamaged = errors.New("the vault file is damaged")

// checkIntegrity runs SQLite's quick_check, which reads every page of the file (0.1 to 0.3 s for
// 100 MB, 1.7 s for 1 GB): a damaged file is refused when it opens, by every command alike,
// rather than by the one command that happens to read the damaged page.
//
// Open skips it when the file is as this program's last clean close left it (cleanclose.go):
// same size, times, inode and device, and no -wal file. Any write to the file, by whatever
// program, moves its ctime, so a file changed since is still checked. The trade-off: damage
// that changes neither its times nor its size (a failing disk) is no longer caught at open, but
// when SQLite reads the damaged page (describeSQLiteError maps SQLITE_CORRUPT to ErrDamaged);
// that client's Close then leaves no marker, so the next open checks the whole file again.
func (c *Client) checkIntegrity(ctx context.Context) error {
	rows, err := c.sql.QueryContext(ctx, "PRAGMA quick_check(1)") // the first problem is enough
	if err != nil {
		return describeSQLiteError(err)
	}
	defer rows.Close()
	var problem string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return describeSQLiteError(err)
		}
		if line != "ok" && problem == "" {
			problem = strings.TrimPrefix(strings.Join(strings.Fields(line), " "), "*** in database main *** ")
		}
	}
	if err := rows.Err(); err != nil {
		return describeSQLiteError(err)
	}
	if problem != "" {
		return fmt.Errorf("%w (SQLite's integrity check: %s)", ErrDamaged, problem)
	}
	return nil
}

// describeSQLiteError turns SQLite's terse errors into actionable ones, by their result code.
func describeSQLiteError(err error) error {
	if errors.Is(err, sqlitedb.ErrNotDatabase) {
		return fmt.Errorf("%w, or not a vault file (restore it from a backup): %w", ErrDamaged, err)
	}
	switch sqlitedb.Code(err) {
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return fmt.Errorf("%w, or not a vault file (restore it from a backup): %w", ErrDamaged, err)
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("locked by another process for more than %d ms: %w", sqlitedb.DefaultBusyTimeout.Milliseconds(), err)
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM:
		return fmt.Errorf("cannot write the file (check its permissions): %w", err)
	}
	return err
}

// Close closes the file. When this was the last connection to it (SQLite then checkpoints and
// removes the -wal file), it leaves a marker beside the file so that the next open can skip
// the integrity check; failing to write it only costs that check.
func (c *Client) Close() error {
	if err := c.sql.Close(); err != nil {
		return fmt.Errorf("sqlitecouch: close %s: %w", c.path, err)
	}
	if c.sawDamage.Load() {
		return nil
	}
	if err := markCleanClose(c.path); err != nil {
		slog.Warn("sqlitecouch: the next open will check the vault file's integrity", "file", c.path, "err", err)
	}
	return nil
}

// Ping reports whether the file answers.
func (c *Client) Ping(ctx context.Context) (bool, error) {
	if err := c.sql.PingContext(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// Version describes the embedded store in CouchDB's welcome format.
func (c *Client) Version(context.Context) (*driver.Version, error) {
	return &driver.Version{
		Version:     "3.3.0",
		Vendor:      "coachco2 sqlitecouch",
		RawResponse: []byte(`{"couchdb":"Welcome","version":"3.3.0","vendor":{"name":"coachco2 sqlitecouch"}}`),
	}, nil
}

// dbNameRE is CouchDB's rule for database names.
var dbNameRE = regexp.MustCompile(`^[a-z][a-z0-9_$()+/-]*$`)

// AllDBs lists the databases in name order.
func (c *Client) AllDBs(ctx context.Context, _ driver.Options) ([]string, error) {
	rows, err := c.sql.QueryContext(ctx, `SELECT name FROM dbs ORDER BY name`)
	if err != nil {
		return nil, c.wrap(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, c.wrap(err)
		}
		names = append(names, n)
	}
	return names, c.wrap(rows.Err())
}

// DBExists reports whether the database exists.
func (c *Client) DBExists(ctx context.Context, name string, _ driver.Options) (bool, error) {
	var id int64
	err := c.sql.QueryRowContext(ctx, `SELECT id FROM dbs WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, c.wrap(err)
}

// CreateDB creates a database; 412 if it exists, 400 for a name CouchDB would refuse.
func (c *Client) CreateDB(ctx context.Context, name string, _ driver.Options) error {
	if !dbNameRE.MatchString(name) {
		return &Error{Status: http.StatusBadRequest, Name: "illegal_database_name",
			Reason: fmt.Sprintf("name %q: only lowercase characters (a-z), digits (0-9), and any of the characters _, $, (, ), +, -, and / are allowed; must begin with a letter", name)}
	}
	return c.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO dbs (name) VALUES (?) ON CONFLICT (name) DO NOTHING`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &Error{Status: http.StatusPreconditionFailed, Name: "file_exists", Reason: "The database could not be created, the file already exists."}
		}
		return nil
	})
}

// DestroyDB deletes a database and everything in it.
func (c *Client) DestroyDB(ctx context.Context, name string, _ driver.Options) error {
	return c.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM dbs WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNoDB(name)
		}
		return nil
	})
}

// DB returns a handle on a database; operations on a database that does not exist answer 404.
func (c *Client) DB(name string, _ driver.Options) (driver.DB, error) {
	return &db{client: c, name: name}, nil
}

// write runs fn in one immediate (write-locked) transaction and commits it.
func (c *Client) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	tx, err := c.sql.BeginTx(ctx, nil)
	if err != nil {
		return c.wrap(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return c.wrap(err)
	}
	return c.wrap(tx.Commit())
}

// wrap names the file in SQLite errors; CouchDB-style errors pass through untouched.
func (c *Client) wrap(err error) error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	err = describeSQLiteError(err)
	if errors.Is(err, ErrDamaged) {
		c.sawDamage.Store(true)
	}
	return fmt.Errorf("sqlitecouch %s: %w", c.path, err)
}

func (c *Client) collator() *collate.Collator { return c.collators.Get().(*collate.Collator) }

func (c *Client) releaseCollator(col *collate.Collator) { c.collators.Put(col) }
